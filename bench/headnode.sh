#!/usr/bin/env bash
# Measures the headnode backend:
#   1. the cost of one `virsh` call (test:///default, no daemon), which the libvirt backend
#      pays per step instead of a library call;
#   2. a real headnode lifecycle (qemu:///session, TCG, OVS taps) through HIL's API, as the
#      VM test reports it: API time of `start` (overlay, taps, define, start), time until the
#      guest's serial console says it booted, and API time of `delete`.
# Needs root, libvirt and Open vSwitch (scripts/test.sh installs them). Debug build of the test.
# Usage: sudo bench/headnode.sh [virsh-calls] [vm-runs]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
RUNS=${2:-3}

stats() { # one number (ms) per line: median and p95
  sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, p95 %.1f ms (n=%d)\n", a[int((NR+1)/2)], a[int(NR*0.95+0.5)], NR}'
}

echo "== virsh -c test:///default dumpxml test, $N runs"
for _ in $(seq 1 "$N"); do
  s=$(date +%s%N); virsh -c test:///default dumpxml test >/dev/null; e=$(date +%s%N)
  echo "$(( (e - s) / 1000 ))" | awk '{print $1/1000}'
done | stats | sed 's/^/  /'

echo "== headnode lifecycle through HIL (real VM), $RUNS runs"
for _ in $(seq 1 "$RUNS"); do
  HIL_LAB_REQUIRED=1 cargo test -q -p hil-server --test headnode_vm \
    a_headnode_boots_on_its_project_network -- --nocapture 2>&1 |
    grep -E 'answered after|booted' | sed 's/^/  /'
done
