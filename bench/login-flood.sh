#!/usr/bin/env bash
# Login-flood benchmark: a release server (SQLite) under wrk with 64 connections sending wrong
# passwords (a different one on every request) for DURATION seconds, while one client with a
# working password measures its latency. Reports the flood's status counts, the user's
# latency percentiles and the server's RSS, first with the default failed-login limits and
# then with them off (only the bounded password-checking threads left).
#
# Usage: bench/login-flood.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p hil-server
BIN=${CARGO_TARGET_DIR:-target}/release/hil-admin
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# wrk script: every request guesses a new password for one of three user names, and the
# statuses are counted per thread and summed at the end.
cat > "$WORK/flood.lua" <<'LUA'
local b64chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function b64(data)
  return ((data:gsub('.', function(x)
    local r, byte = '', x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0; codes = {} end
function request()
  n = n + 1
  local user = ({ 'alice', 'admin', 'nobody' })[n % 3 + 1]
  local auth = 'Basic ' .. b64(user .. ':guess-' .. tostring(math.random(1e9)) .. '-' .. n)
  return wrk.format('GET', '/v0/projects', { Authorization = auth })
end
function response(status) codes[status] = (codes[status] or 0) + 1 end
function done()
  local total = {}
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get('codes')) do total[status] = (total[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(total) do table.insert(parts, status .. ': ' .. count) end
  table.sort(parts)
  print('flood statuses: ' .. table.concat(parts, ', '))
end
LUA

run() {
  local label=$1; shift
  local port url pid
  port=$(free_port)
  url=http://127.0.0.1:$port
  rm -rf "$WORK/data"
  env "$@" HIL_DATA_DIR="$WORK/data" HIL_LISTEN="127.0.0.1:$port" HIL_ADMIN_PASSWORD=bench-pw \
    HIL_LOG=error "$BIN" serve >"$WORK/server.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do curl -sf -u admin:bench-pw "$url/v0/projects" >/dev/null && break; sleep 0.1; done
  curl -sf -u admin:bench-pw -X PUT "$url/v0/project/p" >/dev/null
  curl -sf -u admin:bench-pw -X PUT "$url/v0/auth/basic/user/alice" \
    -d '{"password": "alice-pw", "is_admin": false}' >/dev/null
  curl -sf -u admin:bench-pw -X POST "$url/v0/auth/basic/user/alice/add_project" -d '{"project": "p"}' >/dev/null
  curl -sf -u alice:alice-pw "$url/v0/project/p/nodes" >/dev/null
  echo "== $label"
  echo "RSS before: $(rss_mib "$pid") MiB"
  local alice_auth
  alice_auth="Authorization: Basic $(printf 'alice:alice-pw' | base64)"
  wrk -t1 -c1 -d"${DURATION}s" --latency -H "$alice_auth" "$url/v0/project/p/nodes" >"$WORK/alice.txt" &
  local alice_wrk=$!
  wrk -t2 -c64 -d"${DURATION}s" -s "$WORK/flood.lua" "$url" | grep -E 'Requests/sec|flood statuses'
  wait "$alice_wrk"
  grep -E '^ +(50|90|99)%|Non-2xx' "$WORK/alice.txt" | sed 's/^ */alice during the flood: /'
  echo "RSS after: $(rss_mib "$pid") MiB"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

run "default limits (10 per user, 100 per address, per minute)"
run "limits off" HIL_AUTH__MAX_FAILED_LOGINS_PER_USER=0 HIL_AUTH__MAX_FAILED_LOGINS_PER_ADDRESS=0
