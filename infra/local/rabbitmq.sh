#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A throw-away RabbitMQ node for tests, without Docker and without the system
# service: its own node name, ports, cookie, data and logs, all bound to
# 127.0.0.1 and kept in $PIPELINE_INFRA_DIR/rabbitmq.
#   usage: rabbitmq.sh start|stop|status
# start writes $PIPELINE_INFRA_DIR/rabbitmq.env (PIPELINE_TEST_RABBITMQ_URI,
# PIPELINE_TEST_RABBITMQ_MANAGEMENT_URI). Ports are picked free unless
# RABBITMQ_PORT / RABBITMQ_MANAGEMENT_PORT are set.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_TAG=rabbitmq
# shellcheck source=common.sh
source "$here/common.sh"

start_timeout=${RABBITMQ_START_TIMEOUT:-120}
dir=$(infra_dir)
rdir=$dir/rabbitmq
env_file=$dir/rabbitmq.env

# Debian's /usr/sbin/rabbitmq-* wrappers switch to the rabbitmq user (who can
# not write our directory) and drop the server's output, so call the real
# scripts behind them.
find_bin() {
  local d
  for d in /usr/lib/rabbitmq/bin "$(dirname "$(command -v rabbitmq-server 2>/dev/null || echo /nonexistent/x)")"; do
    if [[ -x $d/rabbitmq-server && -x $d/rabbitmqctl ]]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

ensure_installed() {
  find_bin >/dev/null && return 0
  apt_install rabbitmq-server
  stop_distro_service rabbitmq-server
  find_bin >/dev/null || die "rabbitmq-server still not found after installing it"
}

# Exports what both the server and the CLI tools need to address our node and
# only our node. Takes its facts from the PIPELINE_RABBITMQ_* variables.
node_env() {
  export HOME=$rdir # the Erlang cookie is read from $HOME: a private one per node
  export RABBITMQ_NODENAME=$PIPELINE_RABBITMQ_NODENAME
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$PIPELINE_RABBITMQ_PORT
  export RABBITMQ_DIST_PORT=$PIPELINE_RABBITMQ_DIST_PORT
  export RABBITMQ_CTL_DIST_PORT_MIN=$PIPELINE_RABBITMQ_CTL_PORT
  export RABBITMQ_CTL_DIST_PORT_MAX=$((PIPELINE_RABBITMQ_CTL_PORT + 10))
  # A private epmd keeps nodes of different directories from seeing each other
  # and lets stop end it without touching anyone else's.
  export ERL_EPMD_PORT=$PIPELINE_RABBITMQ_EPMD_PORT
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  # Keep /etc/rabbitmq out of it entirely.
  export RABBITMQ_CONF_ENV_FILE=$rdir/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$rdir/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$rdir/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$rdir/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$rdir/mnesia
  export RABBITMQ_LOG_BASE=$rdir/log
  export RABBITMQ_PID_FILE=$rdir/rabbitmq.pid
  export ERL_CRASH_DUMP=$rdir/log/erl_crash.dump
  unset RABBITMQ_ERLANG_COOKIE RABBITMQ_USE_LONGNAME
}

load_env_file() {
  [[ -f $env_file ]] || return 1
  # shellcheck source=/dev/null
  source "$env_file"
  node_env
}

bin() { echo "$(find_bin)/$1"; }

node_pid() {
  local pid
  [[ -f $RABBITMQ_PID_FILE ]] || return 1
  pid=$(<"$RABBITMQ_PID_FILE")
  [[ -n $pid ]] && alive "$pid" && echo "$pid"
}

overview() {
  curl -fsS --max-time 3 -u guest:guest \
    "http://127.0.0.1:$PIPELINE_RABBITMQ_MANAGEMENT_PORT/api/overview" 2>/dev/null
}

# Ready = the management API of *our* node answers and lists our AMQP
# listener. An open port alone proves nothing: a listener that failed to bind
# (port taken by someone else) still leaves the port open, for a while even
# the management API, until the node gives up.
ready() {
  local o re
  re='"protocol":"amqp","ip_address":"127\.0\.0\.1","port":'"${PIPELINE_RABBITMQ_PORT}"'[,}]'
  port_open "$PIPELINE_RABBITMQ_PORT" || return 1
  o=$(overview) || return 1
  [[ $o == *"\"node\":\"$RABBITMQ_NODENAME\""* ]] || return 1
  [[ $o =~ $re ]]
}

cmd_status() {
  if load_env_file && node_pid >/dev/null && ready; then
    echo "rabbitmq running: node $RABBITMQ_NODENAME, $PIPELINE_TEST_RABBITMQ_URI, management $PIPELINE_TEST_RABBITMQ_MANAGEMENT_URI"
    return 0
  fi
  echo "rabbitmq not running (dir $dir)"
  return 3
}

cmd_start() {
  ensure_installed
  command -v curl >/dev/null 2>&1 || die "curl is needed to check the management API"
  if cmd_status >/dev/null; then
    log "already running; see $env_file"
    return 0
  fi
  mkdir -p "$rdir"

  # Ports: AMQP, management, distribution, epmd, and 11 for the CLI tools'
  # own distribution listeners (rabbitmqctl's default range is machine-wide).
  local base
  base=$(free_port_block 16)
  local amqp=${RABBITMQ_PORT:-$base}
  local mgmt=${RABBITMQ_MANAGEMENT_PORT:-$((base + 1))}
  local node="pipeline-$amqp@localhost"
  write_env_file "$env_file" \
    "PIPELINE_TEST_RABBITMQ_URI=amqp://guest:guest@127.0.0.1:$amqp/" \
    "PIPELINE_TEST_RABBITMQ_MANAGEMENT_URI=http://127.0.0.1:$mgmt/" \
    "PIPELINE_RABBITMQ_NODENAME=$node" \
    "PIPELINE_RABBITMQ_PORT=$amqp" \
    "PIPELINE_RABBITMQ_MANAGEMENT_PORT=$mgmt" \
    "PIPELINE_RABBITMQ_DIST_PORT=$((base + 2))" \
    "PIPELINE_RABBITMQ_EPMD_PORT=$((base + 3))" \
    "PIPELINE_RABBITMQ_CTL_PORT=$((base + 4))" \
    "PIPELINE_RABBITMQ_DIR=$rdir"
  load_env_file

  mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
  : >"$RABBITMQ_CONF_ENV_FILE"
  echo '[rabbitmq_management].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
  cat >"$RABBITMQ_CONFIG_FILE" <<EOF
listeners.tcp.default = 127.0.0.1:$amqp
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt
# guest may log in over loopback only, which is all we use.
loopback_users.guest = true
log.console = false
log.file.level = info
# As infra/rabbitmq/rabbitmq.conf: quorum queues' shared log is flushed at 64 MB instead of 512 MiB.
raft.wal_max_size_bytes = 64000000
EOF
  # Written before the start so that the server and the CLI agree from the
  # first moment (whoever comes first would otherwise create its own).
  if [[ ! -s $HOME/.erlang.cookie ]]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | tr 'a-f' 'A-F' >"$HOME/.erlang.cookie")
    chmod 400 "$HOME/.erlang.cookie"
  fi

  log "starting node $node (AMQP 127.0.0.1:$amqp, management :$mgmt) in $rdir"
  local started=$SECONDS launcher=""
  rm -f "$rdir/launcher.pid"
  # setsid: Ctrl-C in the calling terminal must not hit the node; it is
  # stopped cleanly by `stop`. All fds redirected so no caller's pipe is held.
  # The launcher records its own pid: setsid may fork, making $! useless.
  # shellcheck disable=SC2016 # $$ and $1 belong to the inner shell
  (cd "$rdir" && exec setsid bash -c 'echo $$ >"$1" && exec "$2"' launcher \
    "$rdir/launcher.pid" "$(bin rabbitmq-server)" </dev/null >"$RABBITMQ_LOG_BASE/startup.log" 2>&1 &)

  local deadline=$((SECONDS + start_timeout))
  until ready; do
    [[ -n $launcher || ! -s $rdir/launcher.pid ]] || launcher=$(<"$rdir/launcher.pid")
    if [[ -n $launcher ]] && ! alive "$launcher"; then
      fail_start "the node exited during start"
    fi
    if ((SECONDS >= deadline)); then
      fail_start "not ready after ${start_timeout}s"
    fi
    sleep 0.5
  done
  # `stop` talks to the node through the CLI tools; prove that path works now.
  if ! "$(bin rabbitmq-diagnostics)" -q check_port_listener "$PIPELINE_RABBITMQ_PORT" >/dev/null 2>&1; then
    fail_start "AMQP and management answer, but rabbitmq-diagnostics cannot reach the node"
  fi
  log "ready after $((SECONDS - started))s; source $env_file"
}

fail_start() {
  log "ERROR: $1"
  show_log_tail "$RABBITMQ_LOG_BASE/startup.log" "$RABBITMQ_LOG_BASE/$RABBITMQ_NODENAME.log"
  cmd_stop || true
  exit 1
}

kill_epmd() {
  local epmd
  epmd=$(command -v epmd 2>/dev/null || true)
  if [[ -z $epmd ]]; then
    epmd=$(find /usr/lib/erlang /usr/local/lib/erlang -name epmd -type f -perm -u+x 2>/dev/null | head -n 1 || true)
  fi
  if [[ -n $epmd ]]; then
    "$epmd" -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
  fi
}

cmd_stop() {
  if ! load_env_file; then
    log "not running (no $env_file)"
    return 0
  fi
  local pid launcher=""
  [[ -f $rdir/launcher.pid ]] && launcher=$(<"$rdir/launcher.pid")
  if pid=$(node_pid); then
    log "stopping node $RABBITMQ_NODENAME"
    # With the pid file, rabbitmqctl stop waits until the process has exited.
    if ! timeout 60 "$(bin rabbitmqctl)" -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1; then
      log "rabbitmqctl stop failed; sending TERM to $pid"
      kill -TERM "$pid" 2>/dev/null || true
    fi
    wait_gone "$pid"
  fi
  # A node that died before writing its pid file still has its launcher.
  if [[ -n $launcher ]] && alive "$launcher"; then
    kill -TERM "$launcher" 2>/dev/null || true
    wait_gone "$launcher"
  fi
  kill_epmd
  rm -f "$env_file" "$RABBITMQ_PID_FILE" "$rdir/launcher.pid"
  log "stopped"
}

wait_gone() {
  local pid=$1 deadline=$((SECONDS + 30))
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      log "process $pid still alive after 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.2
  done
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
