#!/usr/bin/env bash
# Measures requests/s and latency of GET /v0/node/<n> and GET /v0/nodes/all with 1,000 nodes,
# database auth on, against a release build on SQLite. Needs wrk (apt-get install wrk).
# Usage: bench/api-load.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p hil-server
BIN=${CARGO_TARGET_DIR:-target}/release/hil-admin
WORK=$(mktemp -d); PORT=5099; U=http://127.0.0.1:$PORT/v0; AUTH="admin:bench-pw"
HIL_DATA_DIR=$WORK HIL_LISTEN=127.0.0.1:$PORT HIL_ADMIN_PASSWORD=bench-pw HIL_LOG=warn "$BIN" serve &
PID=$!; trap 'kill $PID; rm -rf $WORK' EXIT
until curl -sf -u $AUTH $U/nodes/all >/dev/null; do sleep 0.1; done
for i in $(seq 1 1000); do
  printf '{"obmd": {"uri": "http://obmd/node/n%d", "admin_token": "t"}}' "$i" |
    curl -sf -u $AUTH -X PUT --data-binary @- $U/node/n$i
done
HDR="Authorization: Basic $(printf %s "$AUTH" | base64)"
for path in /v0/node/n500 /v0/nodes/all; do
  echo "== GET $path (1,000 nodes, ${DURATION}s, 4 connections)"
  wrk -t2 -c4 -d"${DURATION}s" --latency -H "$HDR" "http://127.0.0.1:$PORT$path" | grep -E "Requests/sec|99%|50%|Non-2xx"
done
