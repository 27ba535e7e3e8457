#!/usr/bin/env bash
# Measures how fast the networking worker applies queued port changes to one SSH switch, on
# every switch type a fake-switches emulator covers: N changes (default 60), applied
#   batched:    the worker claims them together and uses one login for all of them;
#   per change: batch_size = 1 and no session reuse, so every change logs in, sets the
#               session up, applies, saves and logs out (HIL's daemon opened a session per
#               batch and saved on every disconnect; this is the worst case it degrades to).
# The changes are queued with the worker off; then `hil-admin serve-networks` starts, and the
# time from its start to its last DONE is read from its log. Release builds, SQLite.
# Needs the fake-switches venv that scripts/test.sh creates.
# juniper_junos is NETCONF, not a CLI: it commits every change, so "batched" there still
# commits 60 times and saves only the logins.
# Usage: bench/switch-batch.sh [changes] [type...]   (default: every emulated type)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-60}
shift || true
PY=${HIL_FAKESWITCH_PYTHON:-$HOME/.cache/hil-lab/venv-fs/bin/python}
cargo build --release -q -p hil-server -p hil-cli
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# type | emulator model | the emulator's port names | HIL's port names | extra register
# arguments | channel. `%g` is the port number. The Arista emulator has no native VLAN, so its
# changes are tagged.
VENDORS=(
  "delln3000|dell10g_generic|tengigabitethernet 1/0/%g|te1/0/%g|2222|"
  "powerconnect55xx|dell_generic|gi1/0/%g|gi1/0/%g||"
  "nexus|cisco_generic|Ethernet1/%g|Ethernet1/%g|2222|"
  "cisco_ios|cisco_generic|GigabitEthernet1/0/%g|GigabitEthernet1/0/%g||"
  "arista_eos|arista_generic|Ethernet%g|Ethernet%g||vlan/100"
  "brocade_icx|brocade_generic|ethernet 1/1/%g|1/1/%g||"
  "juniper_junos|juniper_qfx_copper_generic|ge-0/0/%g|ge-0/0/%g||"
)
if [ $# -gt 0 ]; then
  wanted=" $* "
  chosen=()
  for v in "${VENDORS[@]}"; do [[ $wanted == *" ${v%%|*} "* ]] && chosen+=("$v"); done
  VENDORS=("${chosen[@]}")
fi

# Starts the emulator of one vendor and prepares its ports the way the admin guide asks:
# VLAN 100 exists and every port is an idle trunk.
start_switch() { # type model emu_fmt hil_fmt
  local type=$1 model=$2 emu_fmt=$3 hil_fmt=$4
  SSH_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local ports
  ports=$(seq -s, -f "$emu_fmt" 1 "$N")
  "$PY" lab/fakeswitch.py "$model" sw1 "$SSH_PORT" admin sw-pw "$ports" > "$WORK/$type-fs.log" &
  PIDS+=($!)
  until grep -q ready "$WORK/$type-fs.log" 2>/dev/null; do sleep 0.1; done
  case $type in
    brocade_icx) return ;; # VLAN-centric: ports start untagged in the default VLAN
    juniper_junos)
      "$PY" lab/junos_netconf.py 127.0.0.1 "$SSH_PORT" admin sw-pw create-vlans 100 > /dev/null
      return ;;
  esac
  case $type in
    powerconnect55xx) printf 'enable\nconfigure\nvlan database\nvlan 100\nexit\nexit\n' ;;
    *)
      echo enable; echo "configure terminal"; echo "vlan 100"; echo exit
      for i in $(seq 1 "$N"); do
        echo "interface $(printf "$hil_fmt" "$i")"; echo "switchport mode trunk"
        echo "switchport trunk allowed vlan none"; echo exit
      done
      echo exit
      ;;
  esac | "$PY" lab/switch_cli.py 127.0.0.1 "$SSH_PORT" admin sw-pw > /dev/null
}

run() { # label type hil_fmt extra channel batch_size session_idle_secs
  local label=$1 type=$2 hil_fmt=$3 extra=$4 channel=$5 dir="$WORK/$2-$1"
  mkdir -p "$dir"
  cat > "$dir/hil.toml" <<EOF
listen = "127.0.0.1:5097"
data_dir = "$dir"
log = "warn"
[allocator]
vlans = "100"
[worker]
poll_interval_secs = 0.05
batch_size = $6
session_idle_secs = $7
[switches]
enabled = ["$type"]
[switches.save_by_type]
# the Cisco emulator drops the session on NX-OS's copy command
nexus = false
EOF
  export HIL_CONFIG="$dir/hil.toml" HIL_ADMIN_PASSWORD=bench-pw
  "$BIN/hil-admin" serve --no-worker & local api=$!
  PIDS+=($api)
  export HIL_ENDPOINT=http://127.0.0.1:5097 HIL_USERNAME=admin HIL_PASSWORD=bench-pw HOME=$dir
  until "$BIN/hil" node list all >/dev/null 2>&1; do sleep 0.1; done
  local hil="$BIN/hil"
  # shellcheck disable=SC2086 # $extra is zero or one word
  echo sw-pw | $hil switch register sw "$type" "127.0.0.1:$SSH_PORT" admin - $extra >/dev/null
  $hil project create p
  $hil network create net p
  for i in $(seq 1 "$N"); do
    local port
    port=$(printf "$hil_fmt" "$i")
    echo t | $hil node register "n$i" "http://obmd/n$i"
    $hil node nic register "n$i" eth0 "52:54:00:00:00:$(printf %02x "$i")"
    $hil port register sw "$port"
    $hil port nic add sw "$port" "n$i" eth0
    $hil project node add p "n$i"
    # shellcheck disable=SC2086 # $channel is zero or one word
    $hil node network connect "n$i" eth0 net $channel >/dev/null
  done
  # The clock: from the worker's start to its last "action done", both from its own log
  # (polling the API from here would add its own latency to a sub-second run).
  HIL_LOG=info "$BIN/hil-admin" serve-networks > "$dir/worker.log" 2>&1 & local worker=$!
  PIDS+=($worker)
  local done=0
  until [ "$done" -ge "$N" ]; do
    done=$(grep -c 'networking action done' "$dir/worker.log" 2>/dev/null || true)
    done=${done:-0}
    if grep -q 'networking action failed' "$dir/worker.log" 2>/dev/null; then
      echo "  $type $label: an action failed:"; grep -m3 'action failed' "$dir/worker.log"; exit 1
    fi
    sleep 0.05
  done
  kill "$worker" "$api"; wait "$worker" "$api" 2>/dev/null || true
  local ms
  ms=$(python3 - "$dir/worker.log" <<'PY'
import re, sys
from datetime import datetime
stamps = {}
for line in open(sys.argv[1]):
    m = re.match(r"\x1b?\[?[0-9;]*m?(\d{4}-\d\d-\d\dT[\d:.]+)Z", line)
    if not m:
        continue
    t = datetime.fromisoformat(m.group(1)[:26])
    if "networking worker started" in line:
        stamps.setdefault("start", t)
    if "networking action done" in line:
        stamps["end"] = t
print(int((stamps["end"] - stamps["start"]).total_seconds() * 1000))
PY
)
  echo "$ms" > "$WORK/$type-$label.ms"
}

echo "== $N queued changes on one emulated switch over SSH (worker start to all DONE)"
printf '  %-17s %11s %11s %9s\n' type batched per-change speed-up
for v in "${VENDORS[@]}"; do
  IFS='|' read -r type model emu_fmt hil_fmt extra channel <<< "$v"
  start_switch "$type" "$model" "$emu_fmt" "$hil_fmt"
  run batched "$type" "$hil_fmt" "$extra" "$channel" 64 5
  # (the second run connects the same VLAN again, which every switch accepts as a no-op)
  run per-change "$type" "$hil_fmt" "$extra" "$channel" 1 0
  b=$(cat "$WORK/$type-batched.ms") p=$(cat "$WORK/$type-per-change.ms")
  printf '  %-17s %8d ms %8d ms %8.1fx\n' "$type" "$b" "$p" "$(echo "$p / $b" | bc -l)"
done
