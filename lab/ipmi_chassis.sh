#!/bin/sh
# ipmi_sim's chassis_control hook for the IPMI lab tests: the "machine" behind the emulated
# BMC is lab/fake_node.py, and it runs exactly while the node is powered on.
#
# usage: ipmi_chassis.sh RUN_DIR get PARAM...       prints "param:value" per PARAM
#        ipmi_chassis.sh RUN_DIR set PARAM VALUE...  changes state, prints nothing
# RUN_DIR holds: console.port (the node's serial TCP port), bootdev, node.pid, chassis.log.
run=$1; shift
echo "$(date +%T.%N) $*" >> "$run/chassis.log"
here=$(dirname "$0")

is_alive() { st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }
node_running() { [ -f "$run/node.pid" ] && is_alive "$(cat "$run/node.pid")"; }

start_node() {
  node_running && return 0
  setsid python3 "$here/fake_node.py" "$(cat "$run/console.port")" \
    "$(cat "$run/bootdev" 2>/dev/null || echo default)" </dev/null >>"$run/node.log" 2>&1 &
  echo $! > "$run/node.pid"
}

stop_node() {
  if node_running; then
    pid=$(cat "$run/node.pid"); kill "$pid"
    # wait until the console port is free again, so a reset can start the next node
    n=0; while is_alive "$pid" && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
  fi
  rm -f "$run/node.pid"
}

op=$1; shift
case $op in
get)
  for p in "$@"; do
    case $p in
      power) if node_running; then echo power:1; else echo power:0; fi ;;
      boot) echo "boot:$(cat "$run/bootdev" 2>/dev/null || echo default)" ;;
      *) echo "Invalid parameter: $p"; exit 1 ;;
    esac
  done ;;
set)
  while [ $# -gt 1 ]; do
    p=$1; v=$2; shift 2
    case $p in
      power) if [ "$v" = 1 ]; then start_node; else stop_node; fi ;;
      reset) stop_node; start_node ;;
      boot) echo "$v" > "$run/bootdev" ;;
      shutdown) stop_node ;;
      identify) [ $# -gt 0 ] && shift ;;
      *) echo "Invalid parameter: $p"; exit 1 ;;
    esac
  done ;;
*) exit 1 ;;
esac
exit 0
