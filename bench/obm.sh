#!/usr/bin/env bash
# Measures BMC calls on an emulated IPMI BMC (OpenIPMI ipmi_sim, loopback):
#   1. `ipmitool -I lanplus -C 3 … chassis power status` run directly;
#   2. `GET /v0/node/<n>/power_status` through HIL's API and ipmi driver (curl);
#   3. the same call on a mock-OBM node (HIL's own overhead: HTTP, auth, database, task);
#   4. 20 concurrent status calls on 20 mock nodes (requests are serialised per node only).
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
  sleep 0.2
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=9687
mkdir -p "$WORK/state"
echo 9788 > "$WORK/console.port"
printf '#!/bin/sh\nexec %s %s "$@"\n' "$PWD/lab/ipmi_chassis.sh" "$WORK" > "$WORK/chassis"
chmod +x "$WORK/chassis"
{
  echo 'name "benchbmc"'
  echo 'set_working_mc 0x20'
  echo '  startlan 1'
  echo "    addr 127.0.0.1 $PORT"
  echo '    priv_limit admin'
  for level in callback user operator admin; do
    echo "    allowed_auths_$level none md2 md5 straight"
  done
  echo '    guid a123456789abcdefa123456789abcdef'
  echo '  endlan'
  echo "  chassis_control \"$WORK/chassis\""
  echo '  user 2 true "admin" "bench-bmc" admin 10 none md2 md5 straight'
} > "$WORK/lan.conf"
printf 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n' \
  > "$WORK/bmc.emu"
ipmi_sim -c "$WORK/lan.conf" -f "$WORK/bmc.emu" -s "$WORK/state" -n </dev/null >/dev/null 2>&1 &
SIM=$!
IPMI="ipmitool -I lanplus -C 3 -H 127.0.0.1 -p $PORT -U admin -P bench-bmc"
until $IPMI mc info >/dev/null 2>&1; do sleep 0.1; done

stats() { # one number (ms) per line: median and p95
  sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, p95 %.1f ms (n=%d)\n", a[int((NR+1)/2)], a[int(NR*0.95+0.5)], NR}'
}
timed() {
  local s e
  s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
  echo "$(( (e - s) / 1000 ))" | awk '{print $1/1000}'
}

echo "== ipmitool chassis power status, direct, $N runs"
for _ in $(seq 1 "$N"); do timed $IPMI chassis power status; done | stats | sed 's/^/  /'

printf 'listen = "127.0.0.1:5097"\ndata_dir = "%s/hil"\nlog = "warn"\n[obm]\nconsole = false\n' "$WORK" \
  > "$WORK/hil.toml"
HIL_CONFIG="$WORK/hil.toml" HIL_ADMIN_PASSWORD=bench-pw "$BIN/hil-admin" serve &
API=$!
export HIL_ENDPOINT=http://127.0.0.1:5097 HIL_USERNAME=admin HIL_PASSWORD=bench-pw HOME=$WORK
until "$BIN/hil" node list all >/dev/null 2>&1; do sleep 0.1; done
hil() { "$BIN/hil" "$@"; }
echo bench-bmc | hil node register ipmi1 --obm ipmi --bmc-host "127.0.0.1:$PORT" --bmc-user admin
hil node obm enable ipmi1
for i in $(seq 1 20); do
  echo pw | hil node register "mock$i" --obm mock --bmc-host "bench-mock$i" --bmc-user root
  hil node obm enable "mock$i"
done
get() { curl -sf -u admin:bench-pw "$HIL_ENDPOINT/v0/node/$1/power_status"; }

echo "== GET power_status through HIL, ipmi node, $N runs"
for _ in $(seq 1 "$N"); do timed get ipmi1; done | stats | sed 's/^/  /'
echo "== GET power_status through HIL, mock node, $N runs"
for _ in $(seq 1 "$N"); do timed get mock1; done | stats | sed 's/^/  /'
echo "== 20 concurrent power_status calls on 20 mock nodes, wall time"
s=$(date +%s%N)
pids=()
for i in $(seq 1 20); do get "mock$i" >/dev/null & pids+=($!); done
wait "${pids[@]}"
echo "  $(( ($(date +%s%N) - s) / 1000000 )) ms"
