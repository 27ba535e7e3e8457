#!/bin/sh
# A private OpenStack Keystone for the keystone auth lab tests (tests/lab/keystone.rs).
#
# usage: KEYSTONE_ADMIN_PASSWORD=... keystone.sh VENV STATE_DIR PORT [TOKEN_EXPIRATION_SECONDS]
#
# VENV has `keystone` and `gunicorn` installed (scripts/test.sh makes it). STATE_DIR must be
# new or empty: this writes keystone.conf, a SQLite database and fernet keys there, runs the
# one-off setup (db_sync, fernet_setup, credential_setup, bootstrap of user `admin` with
# project `admin` and the roles admin, manager, member, reader and service), then replaces
# itself with gunicorn serving the v3 API on 127.0.0.1:PORT in the foreground. Kill the
# process group to stop it: gunicorn's worker is a child of that process.
#
# With KEYSTONE_WATCH_PID set, gunicorn runs as this script's child instead, and the script
# stops it (within about a second) once that process is gone.
#
# The admin password comes from the environment (keystone-manage reads it from there as
# OS_BOOTSTRAP_PASSWORD), so it never appears in a command line.
set -eu

[ $# -ge 3 ] || { echo "usage: $0 VENV STATE_DIR PORT [TOKEN_EXPIRATION_SECONDS]" >&2; exit 2; }
venv=$1 dir=$2 port=$3 expiration=${4:-3600}
: "${KEYSTONE_ADMIN_PASSWORD:?set KEYSTONE_ADMIN_PASSWORD}"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -e "$dir/keystone.conf" ]; then
  echo "$dir already holds a Keystone; give a fresh state dir" >&2
  exit 2
fi
mkdir "$dir/fernet-keys" "$dir/credential-keys"

url="http://127.0.0.1:$port/v3/"
# password_hash_rounds must be set before any user exists: it makes token issue ~4x faster.
cat > "$dir/keystone.conf" <<EOF
[DEFAULT]
log_file = $dir/keystone.log
[database]
connection = sqlite:///$dir/keystone.db
[token]
provider = fernet
expiration = $expiration
[fernet_tokens]
key_repository = $dir/fernet-keys
[fernet_receipts]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
[identity]
password_hash_rounds = 4
EOF

manage() {
  echo "+ keystone-manage $1" >> "$dir/setup.log"
  "$venv/bin/keystone-manage" --config-file "$dir/keystone.conf" "$@" >> "$dir/setup.log" 2>&1 || {
    echo "keystone-manage $1 failed; $dir/setup.log ends:" >&2
    tail -n 20 "$dir/setup.log" >&2
    exit 1
  }
}
user=$(id -un) group=$(id -gn)
manage db_sync
manage fernet_setup --keystone-user "$user" --keystone-group "$group"
manage credential_setup --keystone-user "$user" --keystone-group "$group"
OS_BOOTSTRAP_PASSWORD=$KEYSTONE_ADMIN_PASSWORD manage bootstrap --bootstrap-region-id RegionOne \
  --bootstrap-admin-url "$url" --bootstrap-internal-url "$url" --bootstrap-public-url "$url"
unset KEYSTONE_ADMIN_PASSWORD

# Keystone parses sys.argv with oslo.config, so under gunicorn it would choke on gunicorn's
# own flags and its worker would die and respawn forever: hide them.
printf '%s\n' 'import sys' 'sys.argv = sys.argv[:1]' \
  'from keystone.wsgi.api import application  # noqa: E402,F401' > "$dir/ks_app.py"

export OS_KEYSTONE_CONFIG_FILES="$dir/keystone.conf"
# One thread: Keystone on SQLite answered some concurrent token issues with HTTP 500
# (the test matrix issues a service token per server, many at once).
set -- "$venv/bin/gunicorn" --chdir "$dir" --bind "127.0.0.1:$port" --workers 1 --threads 1 \
  --no-control-socket --pid "$dir/gunicorn.pid" ks_app:application
[ -n "${KEYSTONE_WATCH_PID:-}" ] || exec "$@"
# Stop with the watched process (the test binary), even when it dies without cleaning up.
"$@" &
server=$!
while kill -0 "$KEYSTONE_WATCH_PID" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
kill "$server" 2>/dev/null || true
wait "$server"
