#!/usr/bin/env bash
# Fleet-scale benchmark: populates a release server with 10,000 nodes (4 NICs each, every NIC
# cabled), 100 switches and 4,000 networks through the API from 16 concurrent clients, then
# measures show and list endpoints with wrk at 4 and 64 connections, the audit log's searches
# over the calls that built the fleet, the drift audit of every switch, and the server's RSS.
#
# Usage: bench/fleet.sh sqlite|postgres [duration-seconds]
#   postgres uses $HIL_BENCH_PG_URL (a server where it may create a database), else a private
#   PostgreSQL started like scripts/test.sh does.
# Environment: FLEET_NODES, FLEET_NETWORKS, FLEET_PROJECTS, FLEET_CLIENTS shrink or grow the
# fleet (each project gets 20 nodes). FLEET_DB_URL measures a database populated before (same
# FLEET_NODES) without populating it again.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${1:?usage: bench/fleet.sh sqlite|postgres [seconds]}
DURATION=${2:-5}
NODES=${FLEET_NODES:-10000}
NETWORKS=${FLEET_NETWORKS:-4000}
CLIENTS=${FLEET_CLIENTS:-16}
PROJECTS=${FLEET_PROJECTS:-200}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p hil-server
BIN=${CARGO_TARGET_DIR:-target}/release/hil-admin
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
AUTH="admin:bench-pw"
PIDS=()
PG_DATA=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$PG_DATA" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -z "${FLEET_DB_URL:-}" ] || BACKEND=reused
case "$BACKEND" in
  reused) DB_URL=$FLEET_DB_URL ;;
  sqlite) DB_URL="sqlite://$WORK/hil.db?mode=rwc" ;;
  postgres)
    if [ -n "${HIL_BENCH_PG_URL:-}" ]; then
      name=hil_bench_$$_$RANDOM
      psql "$HIL_BENCH_PG_URL" -qc "CREATE DATABASE $name"
      DB_URL=${HIL_BENCH_PG_URL%/*}/$name
    else
      PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
      PG_DATA=$WORK/pg
      pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
      mkdir -p "$PG_DATA" && chown postgres "$WORK" "$PG_DATA"
      runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
      runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg.log" \
        -o "-p $pg_port -k $WORK -c listen_addresses=127.0.0.1" -w start >/dev/null
      DB_URL=postgresql://postgres@127.0.0.1:$pg_port/postgres
    fi
    ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

echo "== $BACKEND ($DB_URL): $NODES nodes x 4 NICs, 100 switches, $NETWORKS networks, $PROJECTS projects, $CLIENTS clients"
HIL_DATA_DIR=$WORK HIL_LISTEN=127.0.0.1:$PORT HIL_ADMIN_PASSWORD=bench-pw HIL_LOG=warn \
  HIL_DATABASE__URL=$DB_URL HIL_ALLOCATOR__VLANS=2-4094 HIL_AUDIT__INTERVAL_SECS=0 \
  "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
until curl -sf -u $AUTH "$URL/v0/projects" >/dev/null; do sleep 0.1; done
if [ "$BACKEND" != reused ]; then
  python3 bench/fleet.py "$URL" admin bench-pw --clients "$CLIENTS" --nodes "$NODES" \
    --networks "$NETWORKS" --projects "$PROJECTS" || { tail -20 "$WORK/server.log"; exit 1; }
fi

HDR="Authorization: Basic $(printf %s "$AUTH" | base64)"
measure() { # measure CONNECTIONS PATH
  printf '%-36s c=%-3s ' "GET $2" "$1"
  wrk -t2 -c"$1" -d"${DURATION}s" --latency -H "$HDR" "$URL$2" |
    awk '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {bad=$NF}
         END {printf "p50 %8s  p99 %8s  %8s req/s  non-2xx %s\n", p50, p99, rps, bad ? bad : 0}'
}
# Warm up (pool connections, statement caches) so that the numbers are the steady state.
wrk -t2 -c64 -d2s -H "$HDR" "$URL/v0/node/n$((NODES / 2))" >/dev/null
for c in 4 64; do
  measure $c /v0/node/n$((NODES / 2))
  measure $c /v0/nodes/all
  measure $c /v0/nodes/free
  measure $c /v0/networks
  measure $c /v0/network/net100
  measure $c /v0/project/p7/nodes
  measure $c /v0/project/p7/networks
  measure $c /v0/switch/sw7
done
# The audit log holds every call that populated the fleet (about 138,000 at 10,000 nodes):
# searches by time, by user and by object, the latter a scan for rare objects.
audit_entries() {
  case "$DB_URL" in
    sqlite://*) python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from audit_log").fetchone()[0])' \
      "$(printf %s "${DB_URL#sqlite://}" | cut -d'?' -f1)" ;;
    *) psql "$DB_URL" -Atc 'select count(*) from audit_log' ;;
  esac
}
echo "== audit log: $(audit_entries) entries"
measure 4 "/v0/audit_log?limit=100"
measure 4 "/v0/audit_log?user=admin&limit=100"
measure 4 "/v0/audit_log?object=node/n$((NODES / 2))"
measure 4 "/v0/audit_log?object=network/net100"
measure 4 "/v0/audit_log?object=node/no-such-node"
# The drift audit over the whole fleet: every switch asked at once, one worker reading every
# registered port back (the mock switch reads its state file per port).
echo "== drift audit of every switch (one worker)"
for sw in $(curl -sf -u $AUTH "$URL/v0/switches" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
  curl -sf -u $AUTH -X POST "$URL/v0/switch/$sw/audit" >/dev/null
done
until curl -sf -u $AUTH "$URL/v0/audits" | python3 -c '
import json, sys
a = json.load(sys.stdin)
sys.exit(0 if all(x["counters"]["audits"] > 0 and x["state"] == "IDLE" for x in a) else 1)'; do
  sleep 0.5
done
curl -sf -u $AUTH "$URL/v0/audits" | python3 -c '
import json, sys
from datetime import datetime
a = json.load(sys.stdin)
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
per = sorted((t(x["last_finished"]) - t(x["last_started"])).total_seconds() * 1000 for x in a)
ports = sum(x["ports_checked"] for x in a)
wall = (max(t(x["last_finished"]) for x in a) - min(t(x["last_started"]) for x in a)).total_seconds()
print(f"  {len(a)} switches, {ports} ports checked in {wall:.1f} s; per switch median {per[len(per)//2]:.0f} ms, max {per[-1]:.0f} ms")'
echo "server RSS after the runs: $(awk '/VmRSS/ {print $2, $3}' /proc/$SERVER/status)"
if grep -E " (ERROR|WARN) " "$WORK/server.log" | head -5 | grep -q .; then
  echo "server log warnings/errors (first 5):"; grep -E " (ERROR|WARN) " "$WORK/server.log" | head -5
fi
