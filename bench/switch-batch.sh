#!/usr/bin/env bash
# Measures how fast the networking worker applies queued port changes to one SSH switch:
# N changes (default 60) on an emulated Dell N3000 (fake-switches dell10g), applied
#   batched:    the worker claims them together and uses one login for all of them;
#   per change: batch_size = 1 and no session reuse, so every change logs in, sets the
#               session up, applies, saves and logs out (HIL's daemon opened a session per
#               batch and saved on every disconnect; this is the worst case it degrades to).
# The changes are queued with the worker off; then `hil-admin serve-networks` starts, and the
# time from its start to its last DONE is read from its log. Release builds, SQLite.
# Needs the fake-switches venv that scripts/test.sh creates.
# Usage: bench/switch-batch.sh [changes]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-60}
PY=${HIL_FAKESWITCH_PYTHON:-$HOME/.cache/hil-lab/venv-fs/bin/python}
cargo build --release -q -p hil-server -p hil-cli
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

SSH_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORTS=$(seq -s, -f 'tengigabitethernet 1/0/%g' 1 "$N")
"$PY" lab/fakeswitch.py dell10g_generic n3000 "$SSH_PORT" admin sw-pw "$PORTS" > "$WORK/fs.log" &
PIDS+=($!)
until grep -q ready "$WORK/fs.log"; do sleep 0.1; done
{
  echo enable; echo configure; echo "vlan 100"; echo exit
  for i in $(seq 1 "$N"); do
    echo "interface te1/0/$i"; echo "switchport mode trunk"
    echo "switchport trunk allowed vlan none"; echo exit
  done
  echo exit
} | "$PY" lab/switch_cli.py 127.0.0.1 "$SSH_PORT" admin sw-pw > /dev/null

run() { # label batch_size session_idle_secs
  local label=$1 dir="$WORK/$1"
  mkdir -p "$dir"
  cat > "$dir/hil.toml" <<EOF
listen = "127.0.0.1:5097"
data_dir = "$dir"
log = "warn"
[allocator]
vlans = "100"
[worker]
poll_interval_secs = 0.05
batch_size = $2
session_idle_secs = $3
[switches]
enabled = ["delln3000"]
EOF
  export HIL_CONFIG="$dir/hil.toml" HIL_ADMIN_PASSWORD=bench-pw
  "$BIN/hil-admin" serve --no-worker & local api=$!
  PIDS+=($api)
  export HIL_ENDPOINT=http://127.0.0.1:5097 HIL_USERNAME=admin HIL_PASSWORD=bench-pw HOME=$dir
  until "$BIN/hil" node list all >/dev/null 2>&1; do sleep 0.1; done
  local hil="$BIN/hil"
  echo sw-pw | $hil switch register sw delln3000 "127.0.0.1:$SSH_PORT" admin - 2222 >/dev/null
  $hil project create p
  $hil network create net p
  for i in $(seq 1 "$N"); do
    echo t | $hil node register "n$i" "http://obmd/n$i"
    $hil node nic register "n$i" eth0 "52:54:00:00:00:$(printf %02x "$i")"
    $hil port register sw "te1/0/$i"
    $hil port nic add sw "te1/0/$i" "n$i" eth0
    $hil project node add p "n$i"
    $hil node network connect "n$i" eth0 net >/dev/null
  done
  # The clock: from the worker's start to its last "action done", both from its own log
  # (polling the API from here would add its own latency to a sub-second run).
  HIL_LOG=info "$BIN/hil-admin" serve-networks > "$dir/worker.log" 2>&1 & local worker=$!
  PIDS+=($worker)
  until [ "$(grep -c 'networking action done' "$dir/worker.log")" -ge "$N" ]; do sleep 0.05; done
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
  printf '  %-12s %6d ms total  %7.1f ms per change\n' "$label" "$ms" "$(echo "$ms / $N" | bc -l)"
  echo "$ms" > "$WORK/$label.ms"
}

echo "== $N queued changes on one emulated N3000 over SSH (worker start to all DONE)"
run batched 64 5
# (the second run connects the same VLAN again, which the switch accepts as a no-op)
run per-change 1 0
echo "  speed-up: $(echo "scale=1; $(cat "$WORK/per-change.ms") / $(cat "$WORK/batched.ms")" | bc)x"
