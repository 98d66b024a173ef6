#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A throw-away PostgreSQL cluster for tests, without Docker and without the
# distro's cluster: its own data directory and socket in $PIPELINE_INFRA_DIR/pg,
# TCP on 127.0.0.1 only, trust authentication.
#   usage: postgres.sh start|stop|status
# start writes $PIPELINE_INFRA_DIR/postgres.env (PIPELINE_TEST_POSTGRES, an
# Npgsql connection string). The port is picked free unless POSTGRES_PORT is set.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_TAG=postgres
# shellcheck source=common.sh
source "$here/common.sh"

start_timeout=${POSTGRES_START_TIMEOUT:-60}
dir=$(infra_dir)
pgroot=$dir/pg
data=$pgroot/data
pg_log=$pgroot/postgres.log
env_file=$dir/postgres.env

# Newest server under /usr/lib/postgresql (Debian keeps initdb/pg_ctl off
# PATH), else whatever PATH has.
find_bin() {
  local d
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then
    echo "$d"
    return 0
  fi
  d=$(command -v initdb 2>/dev/null || true)
  if [[ -n $d && -x $(dirname "$d")/pg_ctl ]]; then
    dirname "$d"
    return 0
  fi
  return 1
}

ensure_installed() {
  find_bin >/dev/null && return 0
  apt_install postgresql
  # The package creates a "main" cluster; it must not stay running.
  stop_distro_service postgresql
  find_bin >/dev/null || die "initdb/pg_ctl still not found after installing postgresql"
}

# PostgreSQL refuses to run as root: run its tools as the postgres user then.
# From / so that they do not complain about a cwd they cannot read.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    getent passwd postgres >/dev/null || die "running as root, but there is no postgres user to run the server"
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_running() {
  [[ -f $data/PG_VERSION ]] && as_pg "$(find_bin)/pg_ctl" -D "$data" status >/dev/null 2>&1
}

cmd_status() {
  if [[ -f $env_file ]] && pg_running; then
    # shellcheck source=/dev/null
    source "$env_file"
    echo "postgres running: $PIPELINE_TEST_POSTGRES"
    return 0
  fi
  echo "postgres not running (dir $dir)"
  return 3
}

cmd_start() {
  ensure_installed
  if cmd_status >/dev/null; then
    log "already running; see $env_file"
    return 0
  fi
  local bin
  bin=$(find_bin)
  mkdir -p "$pgroot"
  if [[ $(id -u) -eq 0 ]]; then
    # The postgres user must reach $pgroot: let it traverse (not list) the
    # infra dir, which mktemp creates as 0700.
    chmod a+x "$dir"
    chown postgres: "$pgroot"
    as_pg test -w "$pgroot" || die "user postgres cannot write $pgroot (a parent directory is not searchable by others?)"
  fi

  local started=$SECONDS
  if [[ ! -f $data/PG_VERSION ]]; then
    log "initdb in $data ($bin)"
    # C collation, UTF8: fast and the same on every machine.
    if ! as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >"$pgroot/initdb.log" 2>&1; then
      show_log_tail "$pgroot/initdb.log"
      die "initdb failed"
    fi
    echo "include 'pipeline.conf'" | as_pg tee -a "$data/postgresql.conf" >/dev/null
  fi

  local port=${POSTGRES_PORT:-$(free_port_block 1)}
  # Unix socket paths are capped at 107 bytes; with a deep infra dir go TCP-only.
  local sockdir=$pgroot
  if ((${#sockdir} + 20 > 107)); then
    log "$pgroot is too long for a Unix socket path; TCP only"
    sockdir=""
  fi
  # Settings in a file of their own (rewritten on each start, the port may
  # change) rather than pg_ctl -o, which goes through a shell and breaks on
  # paths with spaces.
  as_pg tee "$data/pipeline.conf" >/dev/null <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
# Integration tests open many connection pools at once.
max_connections = 300
EOF
  write_env_file "$env_file" \
    "PIPELINE_TEST_POSTGRES=Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres" \
    "PIPELINE_POSTGRES_PORT=$port" \
    "PIPELINE_POSTGRES_DATA=$data"

  log "starting on 127.0.0.1:$port (data $data)"
  if ! as_pg "$bin/pg_ctl" -D "$data" -l "$pg_log" -w -t "$start_timeout" start >/dev/null; then
    show_log_tail "$pg_log"
    rm -f "$env_file"
    die "pg_ctl start failed"
  fi
  local deadline=$((SECONDS + start_timeout))
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; do
    if ((SECONDS >= deadline)); then
      show_log_tail "$pg_log"
      cmd_stop || true
      die "not accepting connections on 127.0.0.1:$port after ${start_timeout}s"
    fi
    sleep 0.3
  done
  log "ready after $((SECONDS - started))s; source $env_file"
}

cmd_stop() {
  local bin
  if [[ -f $data/PG_VERSION ]] && bin=$(find_bin) && pg_running; then
    log "stopping ($data)"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$env_file"
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
