#!/usr/bin/env bash
# Measures BMC calls on an emulated IPMI BMC (OpenIPMI ipmi_sim, loopback):
#   1. `ipmitool -I lanplus -C 3 … chassis power status` run directly;
#   2. `GET /v0/node/<n>/power_status` through HIL's API and ipmi driver (curl);
#   3. the same call on a mock-OBM node (HIL's own overhead: HTTP, auth, database, task);
#   4. 20 concurrent status calls on 20 mock nodes (per-node serialisation does not
#      serialise different nodes).
# Release builds, SQLite. Needs ipmitool and openipmi (scripts/test.sh installs them).
# Usage: bench/obm.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
cargo build --release -q -p hil-server -p hil-cli
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
cleanup() {
  [ -n "${API:-}" ] && kill "$API" 2>/dev/null
  [ -n "${SIM:-}" ] && kill "$SIM" 2>/dev/null
  sleep 0.2; rm -rf "$WORK"
}
trap cleanup EXIT

PORT=9687
mkdir -p "$WORK/state"
echo 9788 > "$WORK/console.port"
printf '#!/bin/sh\nexec %s %s "$@"\n' "$PWD/lab/ipmi_chassis.sh" "$WORK" > "$WORK/chassis" && chmod +x "$WORK/chassis"
cat > "$WORK/lan.conf" <<EOF
name "benchbmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $PORT
    priv_limit admin
    allowed_auths_admin none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_callback none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "$WORK/chassis"
  user 2 true "admin" "bench-bmc" admin 10 none md2 md5 straight
