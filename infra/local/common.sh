# shellcheck shell=bash
# Helpers shared by rabbitmq.sh and postgres.sh. Sourced, never executed.

log() { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# All state of one set of services lives in one directory, so several sets can
# run side by side. The default is stable per user so that `start` and `stop`
# typed by hand find each other without exporting anything.
infra_dir() {
  local dir="${PIPELINE_INFRA_DIR:-${TMPDIR:-/tmp}/pipeline-infra-$(id -u)}"
  mkdir -p "$dir"
  (cd "$dir" && pwd -P)
}

# True when something on this machine already uses the TCP port (listening or
# connected), so a service started on it would fail to bind.
port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htan "sport = :$port" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# Prints the first port of a block of $1 consecutive free ports. Picks at random
# below the kernel's ephemeral range, so outgoing connections never take our
# ports and two concurrent starts are unlikely to choose the same block.
free_port_block() {
  local count=$1 low=32768 base i attempt ok
  if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  fi
  ((low > 21000)) || low=32768
  for ((attempt = 0; attempt < 200; attempt++)); do
    base=$((20000 + RANDOM % (low - 20000 - count)))
    ok=1
    for ((i = 0; i < count; i++)); do
      if port_in_use $((base + i)); then
        ok=0
        break
      fi
    done
    if ((ok)); then
      echo "$base"
      return 0
    fi
  done
  die "no block of $count free TCP ports found"
}

# True when a TCP connection to 127.0.0.1:$1 is accepted.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Installs Debian packages without letting them start their own system
# service: we only ever want the isolated instances these scripts start.
apt_install() {
  local -a sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "installing $* needs root or sudo"
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
  log "installing $* with apt-get"
  (
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
      # Exit code 101 = "action forbidden" for invoke-rc.d; removed again below.
      printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
      "${sudo[@]}" chmod 755 "$policy"
      trap '"${sudo[@]}" rm -f "$policy"' EXIT
    fi
    # Waits for a concurrent apt (another start, provisioning) instead of failing on the lock.
    apt_opts=(-o DPkg::Lock::Timeout=600 -q)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y "$@" >&2
  )
}

# Stops a distro service that a fresh install may have started anyway (e.g. on a
# machine whose policy-rc.d allows it); harmless when it is not running.
stop_distro_service() {
  local -a sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  if command -v service >/dev/null 2>&1; then
    "${sudo[@]}" service "$1" stop >/dev/null 2>&1 || true
  fi
}

# Writes KEY=VALUE pairs as shell exports, quoted so that sourcing is safe.
write_env_file() {
  local file=$1 pair tmp
  shift
  tmp="$file.tmp.$$"
  : >"$tmp"
  for pair in "$@"; do
    printf 'export %s=%q\n' "${pair%%=*}" "${pair#*=}" >>"$tmp"
  done
  mv -f "$tmp" "$file" # atomic: a reader never sees half a file
}

show_log_tail() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    printf -- '----- last 40 lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2 || true
  done
}

# True while the process runs; an exited-but-unreaped child (zombie) counts as gone.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}
