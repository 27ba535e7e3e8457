//! REST switch drivers (Dell OS9, Brocade VDX). Work in progress.
