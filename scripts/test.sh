#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, unit tests, and the HTTP-level tests on SQLite
# and on PostgreSQL. Installs missing test peers itself and starts a private PostgreSQL when
# none is reachable (set HIL_TEST_PG_URL to use your own server instead).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

ensure_postgres_binaries() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    log "installing PostgreSQL"
    apt_install postgresql
  fi
}

PG_DIR=""
stop_private_postgres() {
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ]; then
    run_as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
trap stop_private_postgres EXIT

run_as_pg() {
  # initdb refuses to run as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_private_postgres() {
  ensure_postgres_binaries
  local bin port
  bin=$(pg_bin)
  PG_DIR=$(mktemp -d /tmp/hil-test-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  log "starting a private PostgreSQL on 127.0.0.1:$port"
  run_as_pg "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  run_as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" -w start >/dev/null
  HIL_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
}

pg_reachable() {
  [ -n "${HIL_TEST_PG_URL:-}" ] && command -v psql >/dev/null && psql "$HIL_TEST_PG_URL" -Atc 'select 1' >/dev/null 2>&1
}

# Lab peers: real programs the driver tests talk to (lab/ and the tests' common/ modules).
FS_VENV=${HIL_FAKESWITCH_VENV:-$HOME/.cache/hil-lab/venv-fs}
SUSHY_VENV=${HIL_SUSHY_VENV:-$HOME/.cache/hil-lab/venv-sushy}
KEYSTONE_VENV=${HIL_KEYSTONE_VENV:-$HOME/.cache/hil-lab/venv-keystone}
SCHEMATHESIS_VENV=${HIL_SCHEMATHESIS_VENV:-$HOME/.cache/hil-lab/venv-schemathesis}
ensure_lab_peers() {
  local c missing=""
  for c in ovsdb-server ovs-vswitchd ovs-vsctl ethtool ping ip; do
    command -v "$c" >/dev/null || missing="$missing $c"
  done
  if [ -n "$missing" ]; then
    log "installing Open vSwitch and network tools (missing:$missing)"
    apt_install openvswitch-switch ethtool iputils-ping iproute2
  fi
  if ! command -v ipmi_sim >/dev/null || ! command -v ipmitool >/dev/null; then
    log "installing OpenIPMI's BMC emulator and ipmitool"
    apt_install ipmitool openipmi
  fi
  missing=""
  for c in virsh libvirtd busybox; do command -v "$c" >/dev/null || missing="$missing $c"; done
  if [ -n "$missing" ]; then
    log "installing libvirt (session mode) and busybox for the headnode VM test (missing:$missing)"
    apt_install libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu busybox-static
  fi
  command -v qemu-img >/dev/null || apt_install qemu-utils
  # QEMU and the tiny guest, from Debian packages (kept between runs; readable by nobody).
  # The VM test needs root (taps, runuser); without it it skips and needs no guest.
  export HIL_HEADNODE_LAB=${HIL_HEADNODE_LAB:-/var/tmp/hil-lab/headnode}
  if [ "$(id -u)" = 0 ]; then
    log "preparing the headnode guest in $HIL_HEADNODE_LAB"
    lab/build_guest.sh "$HIL_HEADNODE_LAB" >/dev/null
  fi
  if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
    log "installing headless Chromium and chromedriver for the dashboard test"
    apt_install chromium chromium-driver
  fi
  if ! "$SUSHY_VENV/bin/python" -c 'import sushy_tools, bcrypt' 2>/dev/null; then
    log "creating the sushy-tools (Redfish emulator) venv in $SUSHY_VENV"
    python3 -m venv "$SUSHY_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$SUSHY_VENV"; }
    "$SUSHY_VENV/bin/pip" install -q sushy-tools==2.2.0 bcrypt==5.0.0
  fi
  export HIL_SUSHY_VENV="$SUSHY_VENV"
  if ! "$FS_VENV/bin/python" -c 'import fake_switches, paramiko' 2>/dev/null; then
    log "creating the fake-switches venv in $FS_VENV"
    python3 -m venv "$FS_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$FS_VENV"; }
    # fake-switches 1.5.0 pins Twisted<17, which does not build on current Python: install it
    # without dependencies and add a current Twisted (pip's resolver warning is expected).
    "$FS_VENV/bin/pip" install -q --no-deps fake-switches==1.5.0
    "$FS_VENV/bin/pip" install -q tftpy==0.8.7 netaddr==1.3.0 lxml==6.1.3 \
      'twisted[conch]==26.10.0' paramiko==5.1.0 2>&1 | grep -v "dependency resolver\|requires Twisted" || true
  fi
  export HIL_FAKESWITCH_PYTHON="$FS_VENV/bin/python"
  # OpenStack Keystone for the keystone auth backend (lab/keystone.sh serves it).
  if ! "$KEYSTONE_VENV/bin/python" -c 'import keystone, gunicorn' 2>/dev/null; then
    log "creating the Keystone venv in $KEYSTONE_VENV"
    python3 -m venv "$KEYSTONE_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$KEYSTONE_VENV"; }
    "$KEYSTONE_VENV/bin/pip" install -q keystone==30.0.0 gunicorn==27.0.1
  fi
  export HIL_KEYSTONE_VENV="$KEYSTONE_VENV"
  # schemathesis fuzzes the API from its OpenAPI document (tests/openapi.rs).
  if ! "$SCHEMATHESIS_VENV/bin/schemathesis" --version >/dev/null 2>&1; then
    log "creating the schemathesis venv in $SCHEMATHESIS_VENV"
    python3 -m venv "$SCHEMATHESIS_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$SCHEMATHESIS_VENV"; }
    "$SCHEMATHESIS_VENV/bin/pip" install -q schemathesis==4.32.5
  fi
  export HIL_SCHEMATHESIS_VENV="$SCHEMATHESIS_VENV"
  # Namespaces and OVS need root. As root every lab test must run; otherwise they skip.
  if [ "$(id -u)" = 0 ]; then
    export HIL_LAB_REQUIRED=1
  else
    echo "warning: not root; the Open vSwitch packet tests will be skipped" >&2
  fi
}

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
ensure_lab_peers

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "tests on SQLite"
HIL_TEST_DB=sqlite cargo test --workspace

log "the authorization matrix on Keystone tokens"
HIL_TEST_DB=sqlite HIL_TEST_AUTH=keystone cargo test -p hil-server --test authz

if ! pg_reachable; then
  start_private_postgres
fi
log "tests on PostgreSQL"
HIL_TEST_DB=postgres HIL_TEST_PG_URL="$HIL_TEST_PG_URL" cargo test --workspace --test '*'
