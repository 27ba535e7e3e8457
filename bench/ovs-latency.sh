#!/usr/bin/env bash
# Measures, on a private Open vSwitch (userspace datapath):
#   1. `ovs-vsctl set port P tag=N` (HIL's way: one process per step, waiting for vswitchd);
#   2. API-to-DONE latency of one connect and one detach through HIL's ovs driver, which
#      speaks OVSDB JSON-RPC itself and also waits until vswitchd has applied the change.
# Release builds, SQLite, the worker in the API process. Needs root and openvswitch-switch.
# Usage: sudo bench/ovs-latency.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
cargo build --release -q -p hil-server -p hil-cli
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
export OVS_RUNDIR=$WORK OVS_DBDIR=$WORK OVS_LOGDIR=$WORK OVS_SYSCONFDIR=$WORK
VSCTL="ovs-vsctl --db=unix:$WORK/db.sock"
cleanup() {
  [ -n "${API:-}" ] && kill "$API" 2>/dev/null
  $VSCTL --if-exists del-br bbr0 2>/dev/null || true
  for d in ovs-vswitchd ovsdb-server; do [ -f "$WORK/$d.pid" ] && kill "$(cat "$WORK/$d.pid")" 2>/dev/null; done
  sleep 0.3; rm -rf "$WORK"
}
trap cleanup EXIT

ovsdb-tool create "$WORK/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$WORK/conf.db" --remote="punix:$WORK/db.sock" --pidfile="$WORK/ovsdb-server.pid" \
  --log-file="$WORK/ovsdb-server.log" -vconsole:off --detach
$VSCTL --no-wait init
ovs-vswitchd "unix:$WORK/db.sock" --pidfile="$WORK/ovs-vswitchd.pid" --log-file="$WORK/ovs-vswitchd.log" \
  -vconsole:off --detach
$VSCTL add-br bbr0 -- set bridge bbr0 datapath_type=netdev
$VSCTL add-port bbr0 bp1 -- set interface bp1 type=internal

stats() { # reads one number (ms) per line; prints median and p95
  sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, p95 %.1f ms (n=%d)\n", a[int((NR+1)/2)], a[int(NR*0.95+0.5)], NR}'
}

echo "== ovs-vsctl set port tag=N (waits for vswitchd), $N runs"
for i in $(seq 1 "$N"); do
  s=$(date +%s%N); $VSCTL set port bp1 tag=$((100 + i % 2)); e=$(date +%s%N)
  echo "$(( (e - s) / 1000 ))" | awk '{print $1/1000}'
done | stats | sed 's/^/  /'

cat > "$WORK/hil.toml" <<EOF
listen = "127.0.0.1:5096"
data_dir = "$WORK/hil"
log = "warn"
[allocator]
vlans = "100-110"
[worker]
poll_interval_secs = 1.0
[switches]
enabled = ["ovs"]
ovsdb = "unix:$WORK/db.sock"
EOF
HIL_CONFIG="$WORK/hil.toml" HIL_ADMIN_PASSWORD=bench-pw "$BIN/hil-admin" serve & API=$!
export HIL_ENDPOINT=http://127.0.0.1:5096 HIL_USERNAME=admin HIL_PASSWORD=bench-pw HOME=$WORK
until "$BIN/hil" node list all >/dev/null 2>&1; do sleep 0.1; done
hil() { "$BIN/hil" "$@"; }
hil switch register ovs0 ovs bbr0
hil port register ovs0 bp1
echo t | hil node register n1 http://obmd/n1
hil node nic register n1 eth0 52:54:00:00:00:01
hil port nic add ovs0 bp1 n1 eth0
hil project create p && hil project node add p n1 && hil network create net p

echo "== HIL API call to DONE on the ovs driver, $N connects and $N detaches"
python3 - "$N" <<'EOF'
import base64, json, statistics, sys, time, urllib.request
n = int(sys.argv[1])
base = "http://127.0.0.1:5096/v0"
auth = "Basic " + base64.b64encode(b"admin:bench-pw").decode()
def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Authorization": auth})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")
def timed(path, body):
    start = time.perf_counter()
    sid = call("POST", path, body)["status_id"]
    while True:
        st = call("GET", "/networking_action/" + sid)["status"]
        if st != "PENDING":
            assert st == "DONE", st
            return (time.perf_counter() - start) * 1000
        time.sleep(0.001)
con, det = [], []
for _ in range(n):
    con.append(timed("/node/n1/nic/eth0/connect_network", {"network": "net"}))
    det.append(timed("/node/n1/nic/eth0/detach_network", {"network": "net"}))
for label, xs in (("connect", con), ("detach", det)):
    xs.sort()
    print("  %-8s median %.1f ms, p95 %.1f ms, max %.1f ms (n=%d)" % (
        label, statistics.median(xs), xs[int(len(xs) * 0.95) - 1], xs[-1], len(xs)))
EOF
