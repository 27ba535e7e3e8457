#!/usr/bin/env bash
# Measures what a user of the `hil` CLI waits for: one invocation (process start, one
# authenticated call, table or JSON out) and a full connect --wait / detach --wait round trip
# through the worker and the mock switch. Release builds, SQLite, 200 nodes.
# Usage: bench/cli.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
cargo build --release -q -p hil-server -p hil-cli
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d); PORT=5098
HIL_DATA_DIR=$WORK HIL_LISTEN=127.0.0.1:$PORT HIL_ADMIN_PASSWORD=bench-pw HIL_LOG=warn \
  "$BIN/hil-admin" serve &
PID=$!; trap 'kill $PID; rm -rf $WORK' EXIT
export HIL_ENDPOINT=http://127.0.0.1:$PORT HIL_USERNAME=admin HIL_PASSWORD=bench-pw HOME=$WORK
hil() { "$BIN/hil" "$@"; }
until hil node list all >/dev/null 2>&1; do sleep 0.1; done

echo switch-pw | hil switch register sw mock sw.example admin -
hil port register sw gi1/0/1
for i in $(seq 1 200); do echo t | hil node register "n$i" "http://obmd/n$i"; done
hil node nic register n1 eth0 52:54:00:00:00:01
hil port nic add sw gi1/0/1 n1 eth0
hil project create p && hil project node add p n1 && hil network create net p

# Mean wall time of $N runs of a command, in milliseconds.
mean_ms() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq 1 "$N"); do "$@" >/dev/null; done
  end=$(date +%s%N)
  echo "$(( (end - start) / N / 1000 ))" | awk '{printf "%.2f ms\n", $1 / 1000}'
}

echo "== one invocation, mean of $N (200 nodes)"
printf '  %-45s %s\n' "hil node list all --json" "$(mean_ms hil node list all --json)"
printf '  %-45s %s\n' "hil node list all (table)" "$(mean_ms hil node list all)"
printf '  %-45s %s\n' "hil node show n1 (table)" "$(mean_ms hil node show n1)"
printf '  %-45s %s\n' "hil --version (no request)" "$(mean_ms hil --version)"

round_trip() {
  hil node network connect n1 eth0 net --wait >/dev/null
  hil node network detach n1 eth0 net --wait >/dev/null
}
RT=$((N / 4))
echo "== connect --wait + detach --wait through worker and mock switch, mean of $RT"
printf '  %-45s %s\n' "round trip (2 invocations, 2 actions)" "$(N=$RT mean_ms round_trip)"
