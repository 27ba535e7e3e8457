#!/usr/bin/env bash
# Measures requests/s of GET /v0/project/physics/nodes (a project member's read) under
#   database: HTTP basic against HIL's user table (verified passwords cached);
#   keystone cached: a Keystone token, validated once and then remembered (revalidate 60 s);
#   keystone every request: revalidate_secs = 0, so each request asks Keystone.
# Release build, SQLite, wrk with 4 connections. Keystone is the lab's (lab/keystone.sh: SQLite,
# one gunicorn thread), so the uncached figure is a floor, not what a production Keystone does.
# Needs the Keystone venv scripts/test.sh makes, and wrk (installed with apt if missing).
# Usage: bench/keystone-auth.sh [duration-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
VENV=${HIL_KEYSTONE_VENV:-$HOME/.cache/hil-lab/venv-keystone}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
command -v jq >/dev/null || { apt-get install -y -qq jq >/dev/null; }
cargo build --release -q -p hil-server
BIN=${CARGO_TARGET_DIR:-target}/release/hil-admin
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- Keystone with HIL's service user, project physics and its member alice ----
KPORT=$(free_port); K=http://127.0.0.1:$KPORT/v3
KEYSTONE_ADMIN_PASSWORD=ks-admin setsid lab/keystone.sh "$VENV" "$WORK/ks" "$KPORT" > "$WORK/ks.out" 2>&1 &
PIDS+=($!)
until curl -sf -m 1 -o /dev/null "$K"; do sleep 0.3; done
token() { # user password project
  curl -si -m 10 -H 'Content-Type: application/json' "$K/auth/tokens?nocatalog" -d \
    "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$1\",\"domain\":{\"id\":\"default\"},\"password\":\"$2\"}}},\"scope\":{\"project\":{\"name\":\"$3\",\"domain\":{\"id\":\"default\"}}}}}" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}'
}
ADMIN_TOKEN=$(token admin ks-admin admin)
kpost() { curl -sf -m 10 -H "X-Auth-Token: $ADMIN_TOKEN" -H 'Content-Type: application/json' "$K$1" -d "$2"; }
role() { curl -sf -m 10 -H "X-Auth-Token: $ADMIN_TOKEN" "$K/roles?name=$1" | jq -r '.roles[0].id'; }
member() { # user password role project
  local p u
  p=$(kpost /projects "{\"project\":{\"name\":\"$4\",\"domain_id\":\"default\"}}" | jq -r .project.id)
  u=$(kpost /users "{\"user\":{\"name\":\"$1\",\"password\":\"$2\",\"domain_id\":\"default\"}}" | jq -r .user.id)
  curl -sf -m 10 -X PUT -H "X-Auth-Token: $ADMIN_TOKEN" "$K/projects/$p/users/$u/roles/$(role "$3")"
}
member hil-service svc-pw service service
member alice alice-pw member physics
ALICE_TOKEN=$(token alice alice-pw physics)

# ---- HIL: one server per backend ----
serve() { # name backend revalidate_secs; sets PORT (not a $(…): the server's pid must be kept)
  local dir="$WORK/$1"
  PORT=$(free_port)
  mkdir -p "$dir"
  cat > "$dir/hil.toml" <<EOF
listen = "127.0.0.1:$PORT"
data_dir = "$dir"
log = "warn"
[auth]
backend = "$2"
[auth.keystone]
auth_url = "$K"
username = "hil-service"
password = "svc-pw"
project_name = "service"
project_match = "name"
revalidate_secs = $3
EOF
  HIL_CONFIG="$dir/hil.toml" HIL_ADMIN_PASSWORD=bench-pw "$BIN" serve > "$dir/serve.log" 2>&1 &
  PIDS+=($!)
  until curl -s -m 1 -o /dev/null "http://127.0.0.1:$PORT/v0/nodes/free"; do sleep 0.1; done
}
measure() { # label port header
  local rps
  rps=$(wrk -t2 -c4 -d"${DURATION}s" -H "$3" "http://127.0.0.1:$2/v0/project/physics/nodes" |
    awk '/Requests\/sec/{print $2} /Non-2xx/{print "ERRORS: " $0 > "/dev/stderr"}')
  printf '  %-24s %10s requests/s\n' "$1" "$rps"
}

serve database database 60; DB_PORT=$PORT
curl -sf -u admin:bench-pw -X PUT "http://127.0.0.1:$DB_PORT/v0/project/physics" >/dev/null
curl -sf -u admin:bench-pw -X PUT "http://127.0.0.1:$DB_PORT/v0/auth/basic/user/alice" \
  -d '{"password": "alice-pw", "is_admin": false}' >/dev/null
curl -sf -u admin:bench-pw -X POST "http://127.0.0.1:$DB_PORT/v0/auth/basic/user/alice/add_project" \
  -d '{"project": "physics"}' >/dev/null
serve keystone keystone 60; KS_PORT=$PORT
serve keystone-nocache keystone 0; NOCACHE_PORT=$PORT
for port in "$KS_PORT" "$NOCACHE_PORT"; do
  curl -sf -H "X-Auth-Token: $ADMIN_TOKEN" -X PUT "http://127.0.0.1:$port/v0/project/physics" >/dev/null
done

echo "== GET /v0/project/physics/nodes as a project member (${DURATION}s, 4 connections)"
measure "database (basic)" "$DB_PORT" "Authorization: Basic $(printf alice:alice-pw | base64)"
measure "keystone, cached token" "$KS_PORT" "X-Auth-Token: $ALICE_TOKEN"
measure "keystone, every request" "$NOCACHE_PORT" "X-Auth-Token: $ALICE_TOKEN"
