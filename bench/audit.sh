#!/usr/bin/env bash
# Measures the drift audit: how long one audit of a switch with N registered ports (default
# 400) takes, from the worker claiming it to its result being recorded, on
#   nexus: an emulated Cisco Nexus (fake-switches cisco_generic) over SSH, one session, one
#          `show running-config interface` per port;
#   ovs:   a private Open vSwitch (userspace datapath), one OVSDB select per port
#          (needs root and openvswitch-switch; skipped otherwise).
# Each switch is audited 3 times; the times are the API's last_started/last_finished.
# Release builds, SQLite, the worker in the API process, audits only on request.
# Needs the fake-switches venv that scripts/test.sh creates.
# Usage: bench/audit.sh [ports]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-400}
PY=${HIL_FAKESWITCH_PYTHON:-$HOME/.cache/hil-lab/venv-fs/bin/python}
cargo build --release -q -p hil-server -p hil-cli
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
PIDS=()
VSCTL="ovs-vsctl --db=unix:$WORK/db.sock"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -f "$WORK/ovs-vswitchd.pid" ]; then
    $VSCTL --if-exists del-br abr0 2>/dev/null || true
    for d in ovs-vswitchd ovsdb-server; do kill "$(cat "$WORK/$d.pid")" 2>/dev/null || true; done
    sleep 0.3
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- the switches ----
SSH_PORT=$(free_port)
PORTS=$(seq -s, -f 'Ethernet1/%g' 1 "$N")
"$PY" lab/fakeswitch.py cisco_generic nexus "$SSH_PORT" admin sw-pw "$PORTS" > "$WORK/fs.log" &
PIDS+=($!)
until grep -q ready "$WORK/fs.log"; do sleep 0.1; done
{
  echo enable; echo "configure terminal"
  for i in $(seq 1 "$N"); do
    echo "interface Ethernet1/$i"; echo "switchport mode trunk"
    echo "switchport trunk allowed vlan none"; echo exit
  done
  echo exit
} | "$PY" lab/switch_cli.py 127.0.0.1 "$SSH_PORT" admin sw-pw > /dev/null

OVS=""
if [ "$(id -u)" = 0 ] && command -v ovs-vswitchd >/dev/null; then
  export OVS_RUNDIR=$WORK OVS_DBDIR=$WORK OVS_LOGDIR=$WORK OVS_SYSCONFDIR=$WORK
  ovsdb-tool create "$WORK/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  ovsdb-server "$WORK/conf.db" --remote="punix:$WORK/db.sock" --pidfile="$WORK/ovsdb-server.pid" \
    --log-file="$WORK/ovsdb-server.log" -vconsole:off --detach
  $VSCTL --no-wait init
  ovs-vswitchd "unix:$WORK/db.sock" --pidfile="$WORK/ovs-vswitchd.pid" \
    --log-file="$WORK/ovs-vswitchd.log" -vconsole:off --detach
  $VSCTL add-br abr0 -- set bridge abr0 datapath_type=netdev
  # Ports isolated as HIL leaves them; their interfaces need not exist for the database rows.
  args=()
  for i in $(seq 1 "$N"); do
    args+=(-- add-port abr0 "ap$i" -- set port "ap$i" vlan_mode=access tag=4095 protected=true)
  done
  $VSCTL --no-wait "${args[@]}"
  OVS=1
else
  echo "(not root or no Open vSwitch: the ovs audit is skipped)"
fi

# ---- HIL ----
API_PORT=$(free_port)
cat > "$WORK/hil.toml" <<EOF
listen = "127.0.0.1:$API_PORT"
data_dir = "$WORK/hil"
log = "warn"
[worker]
poll_interval_secs = 0.1
[audit]
interval_secs = 0
repair = "off"
[switches]
enabled = ["nexus", "ovs"]
ovsdb = "unix:$WORK/db.sock"
save_by_type = { nexus = false }
EOF
HIL_CONFIG="$WORK/hil.toml" HIL_ADMIN_PASSWORD=bench-pw "$BIN/hil-admin" serve & PIDS+=($!)
export HIL_ENDPOINT=http://127.0.0.1:$API_PORT HIL_USERNAME=admin HIL_PASSWORD=bench-pw HOME=$WORK
until "$BIN/hil" switch list >/dev/null 2>&1; do sleep 0.1; done
hil() { "$BIN/hil" "$@"; }
# Registering N ports through the CLI is slow; the API takes them directly.
register_ports() { # switch name-prefix
  for i in $(seq 1 "$N"); do
    curl -sf -u admin:bench-pw -X PUT "$HIL_ENDPOINT/v0/switch/$1/port/$2$i" > /dev/null
  done
}
echo sw-pw | hil switch register nexus0 nexus "127.0.0.1:$SSH_PORT" admin - 2222
register_ports nexus0 Ethernet1/
if [ -n "$OVS" ]; then
  hil switch register ovs0 ovs abr0
  register_ports ovs0 ap
fi

audit() { # switch: prints the audit's duration in ms and its result
  local json
  json=$(hil audit run "$1" --wait --timeout 600 --json)
  python3 - "$json" <<'PY'
import json, sys
from datetime import datetime
a = json.loads(sys.argv[1])
parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))
ms = (parse(a["last_finished"]) - parse(a["last_started"])).total_seconds() * 1000
print(f"{ms:.0f} {a['last_result']} {a['ports_checked']}")
PY
}

report() { # label switch
  local runs=()
  for _ in 1 2 3; do
    read -r ms result checked < <(audit "$2")
    runs+=("$ms")
  done
  printf '  %-28s %s ms (3 runs); %s ports checked, result %s; %.1f ms per port (best run)\n' \
    "$1" "${runs[*]}" "$checked" "$result" \
    "$(printf '%s\n' "${runs[@]}" | sort -n | head -1 | awk -v n="$N" '{print $1 / n}')"
}

echo "== one audit of $N registered ports"
report "nexus over SSH (1 session)" nexus0
[ -n "$OVS" ] && report "ovs (OVSDB)" ovs0
exit 0
