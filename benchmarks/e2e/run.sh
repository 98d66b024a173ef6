#!/usr/bin/env bash
# End-to-end benchmark on the deployed topology: Ingress, Sandboxes and Credits as published Release builds, each its
# own process, on the local RabbitMQ and PostgreSQL (infra/local, durable: fsync on, quorum queues), driven over
# loopback HTTP by wrk with pre-signed unique requests. Prints, in one run:
#   1. accept throughput and p50/p99 at 32 connections: Ingress (consumers stopped) against a bare verifying endpoint
#   2. latency at a fixed offered rate (consumers running): p50/p99/p99.9 of the 200, and from the outbox row's writing
#      to its effect in Sandboxes
#   3. sustained end-to-end rate, accepted vs applied over time: E2B→Sandboxes and new-api usage→Credits, spread over
#      --users users and for one hot user
#   4. backlog drain: N accepted E2B events with the consumers stopped, then the time until Sandboxes applied them all
#   5. the bus floor: MassTransit publish with confirms + consume in one process, quorum queue, same broker
# It warms Ingress and Sandboxes up first (--ingress-warmup), then runs 1, 4, 2, 3, 5 (the accept run's events start
# the backlog while the consumers are stopped; the consumers 4 starts are warmed up again before 2, --warmup); the
# summary at the end is in the order above, followed by each speed goal against the run's figure (met or NOT met).
#
#   benchmarks/e2e/run.sh            # full run, about 16 minutes after the build
#   benchmarks/e2e/run.sh --quick    # about 4 minutes after the build; figures are rougher
#   benchmarks/e2e/run.sh --soak 600 # only a memory run instead: one flow at a fixed rate, Ingress's RSS sampled
#   benchmarks/e2e/run.sh --help     # every option and its default
#
# With PIPELINE_INFRA_DIR naming running infra/local services they are used (a throw-away vhost and databases,
# removed at the end); otherwise a private RabbitMQ and PostgreSQL are started in the run's temp dir and stopped.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/benchmarks/e2e

# Defaults of the full run; --quick replaces them, later options override either.
accept_seconds=30
rate=2000
rate_seconds=60
rate_connections=128
e2e_seconds=60
e2e_rate=0
e2e_drain_timeout=60
warmup_seconds=20
ingress_warmup=40
users=1000
backlog=100000
drain_timeout=900
bus_messages=50000
sample_seconds=5
headroom=6000
log_level=""
logs_dir=""
publish_dir=""
no_publish=0
soak_seconds=0
soak_rate=1000
soak_provider=e2b

usage() {
  cat <<EOF
usage: benchmarks/e2e/run.sh [options]
  --quick                 short run (about 4 min after the build): --accept-seconds 10 --rate-seconds 10
                          --e2e-seconds 10 --e2e-drain-timeout 10 --warmup 10 --backlog 2000 --bus-messages 10000
                          --sample-seconds 2
  --accept-seconds S      1: wrk -c32 time against each of the floor and Ingress (default $accept_seconds)
  --backlog N             4: events accepted with the consumers stopped before they start (default $backlog; at
                          least N: the accept run's events count towards it, and the load stops a little after N)
  --drain-timeout S       4: give up waiting for the backlog after S seconds (default $drain_timeout)
  --rate R                2: offered requests/s (default $rate)
  --rate-seconds S        2: duration (default $rate_seconds)
  --rate-connections C    2: wrk connections for the fixed rate (default $rate_connections)
  --e2e-seconds S         3: load time per flow and user mix (default $e2e_seconds)
  --e2e-rate R            3: offer R requests/s instead of a closed loop at 32 connections (default: closed loop)
  --e2e-drain-timeout S   3: after each load, wait at most S seconds for the rest to be applied (default $e2e_drain_timeout)
  --ingress-warmup S      before 1 (or a soak): closed-loop E2B events with the consumers running, so that what
                          follows measures a warmed-up Ingress and Sandboxes (default $ingress_warmup, also with --quick)
  --warmup S              after 4, which starts the consumers cold: closed-loop usage events (Credits), then E2B
                          events (Sandboxes), S seconds each, before 2 and 3 (default $warmup_seconds)
  --users U               3: users (sandboxes, accounts) of the spread mix (default $users)
  --bus-messages M        5: messages of the bus floor (default $bus_messages)
  --sample-seconds S      interval of the accepted/applied samples (default $sample_seconds)
  --headroom R            pre-signed requests per second of closed-loop load against Ingress (default $headroom);
                          a run that uses them all says so
  --log-level L           the services' Serilog minimum level (default: their appsettings, Information)
  --logs DIR              keep the services' logs in DIR (default: removed with the temp dir)
  --publish-dir DIR       publish the builds to DIR and keep them (default: the temp dir)
  --no-publish            use the builds already in --publish-dir
  --soak S                instead of 1-5: after the warm-up, one flow (--soak-provider) at --soak-rate for S seconds, consumers running,
                          Ingress's RSS sampled every 30 s (working set under load, growth over the run)
  --soak-rate R           offered requests/s of the soak (default $soak_rate)
  --soak-provider P       e2b (E2B→Sandboxes) or new-api (usage→Credits, over --users accounts) (default $soak_provider)
EOF
}

while (($#)); do
  case $1 in
    --quick) accept_seconds=10 rate_seconds=10 e2e_seconds=10 e2e_drain_timeout=10 warmup_seconds=10 backlog=2000 bus_messages=10000 sample_seconds=2 ;;
    --accept-seconds) accept_seconds=$2; shift ;;
    --backlog) backlog=$2; shift ;;
    --drain-timeout) drain_timeout=$2; shift ;;
    --rate) rate=$2; shift ;;
    --rate-seconds) rate_seconds=$2; shift ;;
    --rate-connections) rate_connections=$2; shift ;;
    --e2e-seconds) e2e_seconds=$2; shift ;;
    --e2e-rate) e2e_rate=$2; shift ;;
    --e2e-drain-timeout) e2e_drain_timeout=$2; shift ;;
    --warmup) warmup_seconds=$2; shift ;;
    --ingress-warmup) ingress_warmup=$2; shift ;;
    --users) users=$2; shift ;;
    --bus-messages) bus_messages=$2; shift ;;
    --sample-seconds) sample_seconds=$2; shift ;;
    --headroom) headroom=$2; shift ;;
    --log-level) log_level=$2; shift ;;
    --logs) logs_dir=$2; shift ;;
    --publish-dir) publish_dir=$2; shift ;;
    --no-publish) no_publish=1 ;;
    --soak) soak_seconds=$2; shift ;;
    --soak-rate) soak_rate=$2; shift ;;
    --soak-provider) soak_provider=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

case $soak_provider in
  e2b) soak_flow="E2B→Sandboxes" soak_consumer=Sandboxes ;;
  new-api) soak_flow="new-api usage→Credits" soak_consumer=Credits ;;
  *) usage >&2; echo "--soak-provider: e2b or new-api, not $soak_provider" >&2; exit 2 ;;
esac

LOG_TAG=e2e
# shellcheck source=../../infra/local/common.sh
source "$repo/infra/local/common.sh"

if ! command -v wrk >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    log "installing wrk (Debian package)"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    die "wrk is not installed: run 'sudo apt-get install -y wrk' (Debian package), then this again"
  fi
fi
command -v curl >/dev/null || die "curl is needed"

work=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-e2e.XXXXXX")
[[ -n $publish_dir ]] || publish_dir=$work/publish
run_id=e2e$(date +%s)$RANDOM
pids=()
own_infra=0
infra=""

stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do
    stop_pid "$pid"
  done
  if [[ -n $logs_dir ]]; then
    mkdir -p "$logs_dir" && cp "$work"/*.log "$logs_dir"/ 2>/dev/null || true
  fi
  if ((status != 0)); then
    local f
    for f in "$work"/*.log; do
      [[ -f $f ]] || continue
      echo "--- last lines of $(basename "$f")" >&2
      tail -n 15 "$f" >&2
    done
  fi
  if [[ -n $infra ]]; then
    if ((own_infra)); then
      PIPELINE_INFRA_DIR=$infra "$repo/infra/local/rabbitmq.sh" stop >/dev/null 2>&1 || true
      PIPELINE_INFRA_DIR=$infra "$repo/infra/local/postgres.sh" stop >/dev/null 2>&1 || true
    else
      local db
      for db in ingress sandboxes credits; do
        "$psql" "$pg_admin" -qc "drop database if exists ${run_id}_$db with (force)" >/dev/null 2>&1 || true
      done
      curl -s -u guest:guest -X DELETE "${mgmt_uri}api/vhosts/$run_id" >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- infrastructure
if [[ -n ${PIPELINE_INFRA_DIR:-} ]] && "$repo/infra/local/rabbitmq.sh" status >/dev/null 2>&1 && "$repo/infra/local/postgres.sh" status >/dev/null 2>&1; then
  infra=$PIPELINE_INFRA_DIR
  log "using the running RabbitMQ and PostgreSQL of $infra (vhost and databases $run_id*, removed at the end)"
else
  infra=$work/infra
  own_infra=1
  # As root, postgres.sh runs the server as the postgres user, which must traverse (not list) the temp dir.
  chmod 711 "$work"
  log "starting a private RabbitMQ and PostgreSQL in $infra"
  PIPELINE_INFRA_DIR=$infra "$repo/infra/local/rabbitmq.sh" start >"$work/infra-start.log" 2>&1 || die "RabbitMQ did not start"
  PIPELINE_INFRA_DIR=$infra "$repo/infra/local/postgres.sh" start >>"$work/infra-start.log" 2>&1 || die "PostgreSQL did not start"
fi
# shellcheck source=/dev/null
source "$infra/rabbitmq.env"
# shellcheck source=/dev/null
source "$infra/postgres.env"
mgmt_uri=$PIPELINE_TEST_RABBITMQ_MANAGEMENT_URI
pg_bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
psql=${pg_bin:+$pg_bin/}psql
pg_port=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$PIPELINE_TEST_POSTGRES")
pg_admin="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
for db in ingress sandboxes credits; do
  "$psql" "$pg_admin" -qc "create database ${run_id}_$db" >/dev/null
done
curl -sf -u guest:guest -X PUT "${mgmt_uri}api/vhosts/$run_id" >/dev/null || die "could not create vhost $run_id"
curl -sf -u guest:guest -X PUT -H 'content-type: application/json' -d '{"configure":".*","write":".*","read":".*"}' \
  "${mgmt_uri}api/permissions/$run_id/guest" >/dev/null || die "could not grant guest on vhost $run_id"
broker=${PIPELINE_TEST_RABBITMQ_URI}$run_id
pg_settings=$("$psql" "$pg_admin" -Atc "select string_agg(name || '=' || setting, ' ' order by name) from pg_settings where name in ('fsync','synchronous_commit','wal_sync_method')")
rabbit_version=$(curl -s -u guest:guest "${mgmt_uri}api/overview" | sed -n 's/.*"rabbitmq_version":"\([^"]*\)".*/\1/p')

# ---------------------------------------------------------------- builds
if ((!no_publish)); then
  log "publishing Release builds to $publish_dir"
  for project in Ingress/Pipeline.Ingress.csproj Consumers/Sandboxes/Pipeline.Consumers.Sandboxes.csproj \
    Consumers/Credits/Pipeline.Consumers.Credits.csproj; do
    name=$(basename "$(dirname "$project")")
    dotnet publish "$repo/$project" -c Release -o "$publish_dir/$name" -nologo -v quiet >"$work/publish-$name.log" 2>&1 ||
      die "publishing $project failed"
  done
  # The helper is built, not published: it references Ingress and Deliveries, whose appsettings.json collide.
  dotnet build "$repo/benchmarks/Pipeline.Benchmarks" -c Release -nologo -v quiet >"$work/build-benchmarks.log" 2>&1 ||
    die "building benchmarks/Pipeline.Benchmarks failed"
fi
bench_dll=$repo/benchmarks/Pipeline.Benchmarks/bin/Release/net10.0/Pipeline.Benchmarks.dll
for f in "$publish_dir/Ingress/Pipeline.Ingress.dll" "$publish_dir/Sandboxes/Pipeline.Consumers.Sandboxes.dll" \
  "$publish_dir/Credits/Pipeline.Consumers.Credits.dll" "$bench_dll"; do
  [[ -f $f ]] || die "$f is missing (run without --no-publish)"
done
# From the temp dir: the helper's output folder holds a service's appsettings.json, which the floor must not read.
bench() { (cd "$work" && exec dotnet "$bench_dll" "$@"); }

# ---------------------------------------------------------------- processes
base=$(free_port_block 8)
ingress_port=$base ingress_mgmt=$((base + 1))
sandboxes_port=$((base + 2)) sandboxes_mgmt=$((base + 3))
credits_port=$((base + 4)) credits_mgmt=$((base + 5))
floor_port=$((base + 6))
e2b_secret=$(openssl rand -hex 24)
newapi_secret=$(openssl rand -hex 24)
declare -A pid_of=()

common_env=(Database__Provider=PostgreSql "Bus__RabbitMq=$broker" "Bus__RabbitMqManagement=$mgmt_uri")
[[ -z $log_level ]] || common_env+=("Serilog__MinimumLevel__Default=$log_level")

# start NAME DIR DLL ENV...: a published service from its own folder (appsettings.json there), output to NAME.log.
start() {
  local name=$1 dir=$2 dll=$3
  shift 3
  (cd "$publish_dir/$dir" && exec env "${common_env[@]}" "$@" dotnet "$dll") >>"$work/$name.log" 2>&1 &
  pid_of[$name]=$!
  pids+=("$!")
}

wait_ready() {
  local name=$1 url=$2 deadline=$((SECONDS + 180))
  until curl -sf -o /dev/null "$url"; do
    kill -0 "${pid_of[$name]}" 2>/dev/null || die "$name exited during start-up (see its log above)"
    ((SECONDS < deadline)) || die "$name not ready at $url after 180 s"
    sleep 0.5
  done
}

forget_pid() {
  local kept=() pid
  for pid in "${pids[@]}"; do
    [[ $pid == "$1" ]] || kept+=("$pid")
  done
  pids=("${kept[@]}")
}
stop_service() {
  stop_pid "${pid_of[$1]}"
  forget_pid "${pid_of[$1]}"
}

start_sandboxes() {
  start sandboxes Sandboxes Pipeline.Consumers.Sandboxes.dll "Urls=http://127.0.0.1:$sandboxes_port" "Management__Port=$sandboxes_mgmt" \
    "ConnectionStrings__Sandboxes=$PIPELINE_TEST_POSTGRES;Database=${run_id}_sandboxes"
}
start_credits() {
  start credits Credits Pipeline.Consumers.Credits.dll "Urls=http://127.0.0.1:$credits_port" "Management__Port=$credits_mgmt" \
    "ConnectionStrings__Credits=$PIPELINE_TEST_POSTGRES;Database=${run_id}_credits"
}
start_consumers() {
  start_sandboxes
  start_credits
  wait_ready sandboxes "http://127.0.0.1:$sandboxes_mgmt/health/ready"
  wait_ready credits "http://127.0.0.1:$credits_mgmt/health/ready"
}

# ---------------------------------------------------------------- metrics
# metric PORT PATTERN...: sum of the /metrics series matching every pattern (0 when the service does not answer).
metric() {
  local port=$1 text
  shift
  text=$(curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null) || { echo 0; return; }
  awk -v a="${1:-}" -v b="${2:-}" -v c="${3:-}" '
    /^#/ { next }
    $0 ~ a && $0 ~ b && $0 ~ c { s += $NF }
    END { printf "%d\n", s }' <<<"$text"
}
accepted() { metric "$ingress_mgmt" '^pipeline_webhooks_accepted_total[{]' "provider=\"$1\"" 'outcome="new"'; }
published() { metric "$ingress_mgmt" '^pipeline_outbox_published_total[{]' 'context="IngressDbContext"'; }
receipt_commits() { metric "$ingress_mgmt" '^pipeline_group_commit_batch_size_count[{]' 'name="ingress.receipts"'; }
# Messages done by a consumer: applied now, or recognised by the inbox as already applied.
applied() {
  case $1 in
    e2b) metric "$sandboxes_mgmt" '^pipeline_consumer_messages_total[{]' 'consumer="sandboxes.lifecycle"' 'outcome="(applied|duplicate)"' ;;
    new-api) metric "$credits_mgmt" '^pipeline_consumer_messages_total[{]' 'consumer="credits.usage"' 'outcome="(applied|duplicate)"' ;;
  esac
}

# lag_snapshot FILE: Sandboxes' pipeline_consumer_lag_seconds series (outbox row written → effect committed) into FILE.
lag_snapshot() {
  curl -sf "http://127.0.0.1:$sandboxes_mgmt/metrics" 2>/dev/null |
    grep '^pipeline_consumer_lag_seconds_[a-z]*[{]consumer="sandboxes.lifecycle"' >"$1" || true
}
# lag_summary BEFORE AFTER: "mean 21 ms, p50 <= 16 ms, p99 <= 64 ms" of the events applied between two snapshots
# (the percentiles as the histogram's bucket bounds).
lag_summary() {
  awk 'FILENAME == ARGV[1] { before[$1] = $2; next }
    { d = $2 - before[$1] }
    $1 ~ /_sum[{]/ { sum = d }
    $1 ~ /_count[{]/ { count = d }
    $1 ~ /_bucket[{]/ { match($1, /le="[^"]*"/); n++; le[n] = substr($1, RSTART + 4, RLENGTH - 5); below[n] = d }
    END {
      if (count <= 0) { printf "no events applied"; exit }
      for (i = 1; i <= n; i++) {
        if (p50 == "" && below[i] >= 0.5 * count) p50 = le[i]
        if (p99 == "" && below[i] >= 0.99 * count) p99 = le[i]
      }
      printf "mean %.0f ms, p50 <= %s, p99 <= %s", 1000 * sum / count, ms(p50), ms(p99)
    }
    function ms(le) { return le == "+Inf" ? "+Inf" : sprintf("%.0f ms", 1000 * le) }' "$1" "$2"
}

# ---------------------------------------------------------------- wrk
# bodies PROVIDER COUNT USERS FILE
bodies() {
  local secret=$e2b_secret
  [[ $1 == e2b ]] || secret=$newapi_secret
  BENCH_SECRET=$secret bench e2e-bodies --provider "$1" --events "$2" --users "$3" --out "$4"
}

# load PORT FILE SECONDS CONNECTIONS RATE WRAP: wrk in the background; its output in $work/wrk.out, pid in $wrk_pid.
load() {
  E2E_REQUESTS=$2 E2E_RATE=$5 E2E_WRAP=$6 wrk -t1 -c"$4" -d"${3}s" --timeout 30s -s "$here/requests.lua" \
    "http://127.0.0.1:$1" >"$work/wrk.out" 2>&1 &
  wrk_pid=$!
  pids+=("$wrk_pid")
}
wait_load() {
  wait "$wrk_pid" || { cat "$work/wrk.out" >&2; die "wrk failed"; }
  forget_pid "$wrk_pid"
  wrk_line=$(grep '^E2E ' "$work/wrk.out") || { cat "$work/wrk.out" >&2; die "no figures from wrk"; }
}
# wait_applied PROVIDER N: until the consumer has done N messages, or --e2e-drain-timeout has passed.
wait_applied() {
  local deadline=$((SECONDS + e2e_drain_timeout))
  until (($(applied "$1") >= $2)) || ((SECONDS >= deadline)); do sleep 0.5; done
}
# field NAME: a number of the last wrk line.
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $wrk_line"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f ms", us / 1000 }'; }
per_s() { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.0f", n / (us / 1e6) }'; }
wrk_summary() {
  local errors
  errors=$(($(field status_errors) + $(field socket_errors)))
  printf '%s req/s, p50 %s, p99 %s, p99.9 %s' "$(per_s "$(field requests)" "$(field duration_us)")" \
    "$(ms "$(field p50_us)")" "$(ms "$(field p99_us)")" "$(ms "$(field p999_us)")"
  ((errors == 0)) || printf ' (%d non-200 or socket errors)' "$errors"
  (($(field exhausted) == 0)) || printf ' (RAN OUT of pre-signed requests and sent GET /health/live after them: raise --headroom)'
}
cpu_snapshot() {
  local list
  list=$(IFS=,; echo "${pids[*]}")
  # Two iterations a second apart: the first one's %CPU is not over a known interval.
  top -b -n 2 -d 1 -e k -p "$list" 2>/dev/null | awk '
    $1 == "PID" { header++; next }
    header == 2 && NF >= 12 { printf "    pid %s %s: %s%% CPU, RSS %.0f MB\n", $1, $12, $9, $6 / 1024 }' || true
}

# CPU time (clock ticks) used so far by Ingress, Sandboxes, Credits, PostgreSQL, RabbitMQ and the whole machine, in that
# order: two snapshots and an event count give the milliseconds of CPU each part spends per event, a figure that moves
# far less between runs than a rate on a shared two-core machine.
cpu_ticks() {
  local p t part parts=()
  for part in "${pid_of[ingress]}" "${pid_of[sandboxes]}" "${pid_of[credits]}" \
    "$(pgrep -x postgres | tr '\n' ' ')" "$(pgrep -f beam.smp | tr '\n' ' ')"; do
    t=0
    for p in $part; do
      # With the time of children waited for (PostgreSQL's backends that exited count towards the postmaster).
      [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    parts+=("$t")
  done
  parts+=("$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)")
  echo "${parts[*]}"
}
# Bytes the .NET runtime has allocated so far in Ingress, Sandboxes and Credits (0 for one that does not answer): like the
# CPU time, per event between two snapshots; unlike it, the same whatever else the machine is doing.
allocated() {
  local port text
  for port in "$ingress_mgmt" "$sandboxes_mgmt" "$credits_mgmt"; do
    text=$(curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null) || text=""
    awk '$1 == "system_runtime_dotnet_gc_heap_total_allocated" { s = $NF } END { printf "%.0f ", s }' <<<"$text"
  done
}
# alloc_per_event BEFORE AFTER EVENTS: "Ingress 4.1, Sandboxes 2.3, Credits 0.0 KiB"
alloc_per_event() {
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    split("Ingress Sandboxes Credits", name, " ")
    for (i = 1; i <= 3; i++) printf "%s%s %.1f", (i > 1 ? ", " : ""), name[i], (n > 0 ? (y[i] - x[i]) / 1024 / n : 0)
    printf " KiB"
  }'
}
# cpu_per_event BEFORE AFTER EVENTS: "Ingress 0.41, Sandboxes 0.23, … ms"
cpu_per_event() {
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    split("Ingress Sandboxes Credits PostgreSQL RabbitMQ machine", name, " ")
    for (i = 1; i <= 6; i++) printf "%s%s %.2f", (i > 1 ? ", " : ""), name[i], (n > 0 ? (y[i] - x[i]) * 1000 / hz / n : 0)
    printf " ms"
  }'
}

echo "Pipeline end-to-end benchmark, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown); RabbitMQ $rabbit_version, PostgreSQL: $pg_settings"
echo "  services: Release builds, one process each, logging at ${log_level:-the default of their appsettings.json (Information)}, to files"
echo "  wrk -t1 with pre-signed unique requests; Ingress rate limit raised to 1,000,000/s so it does not shape the figures"

# ---------------------------------------------------------------- start
log "starting Sandboxes and Credits (migrations, queues), then Ingress and the floor"
start_consumers
start ingress Ingress Pipeline.Ingress.dll "Urls=http://127.0.0.1:$ingress_port" "Management__Port=$ingress_mgmt" \
  "ConnectionStrings__Ingress=$PIPELINE_TEST_POSTGRES;Database=${run_id}_ingress" \
  "E2B_WEBHOOK_SECRET=$e2b_secret" "NEWAPI_WEBHOOK_SECRET=$newapi_secret" \
  Ingress__RateLimit__PerSecond=1000000 Ingress__RateLimit__Burst=1000000
# The secret through the environment, not the command line that ps shows.
(cd "$work" && BENCH_SECRET=$e2b_secret exec dotnet "$bench_dll" e2e-floor --port "$floor_port") >"$work/floor.log" 2>&1 &
pid_of[floor]=$!
pids+=("$!")
wait_ready ingress "http://127.0.0.1:$ingress_mgmt/health/ready"
wait_ready floor "http://127.0.0.1:$floor_port/health/live"
queue_type=$(curl -s -u guest:guest "${mgmt_uri}api/queues/$run_id/sandboxes-lifecycle" | sed -n 's/.*"type":"\([a-z]*\)".*/\1/p')
echo "  queues: sandboxes-lifecycle is a ${queue_type:-?} queue"

# ---------------------------------------------------------------- warm-up of Ingress and Sandboxes
# On two cores under load, the tiered JIT of a service that just started takes 30-40 s to settle, and until then it
# spends nearly twice the CPU a request (measured: 1. of one build gave 0.081 of the floor after a 3 s warm-up, 0.113
# after 45 s). The floor is warm after its own few seconds. So every figure is that of warmed-up processes; what a cold
# start costs is what 4 shows. With the consumers running, so that nothing is left queued for 4. Before a soak too:
# measured cold, a 30 s soak at 50/s spent 23 ms of the machine's CPU an event, warmed up 1 ms at 300/s.
# warm PROVIDER SECONDS PER_SECOND: closed-loop load at 32 connections with PER_SECOND signed requests a second, then
# until all is applied; counted in no figure.
warm() {
  local provider=$1 seconds=$2 signed=$(($2 * $3 + 1000)) before
  log "warm-up: $provider, closed loop for ${seconds}s with the consumers running, then until applied"
  before=$(accepted "$provider")
  bodies "$provider" "$signed" "$users" "$work/warm.tsv"
  load "$ingress_port" "$work/warm.tsv" "$seconds" 32 0 0 && wait_load
  local n=$(($(accepted "$provider") - before))
  log "warm-up: $n accepted"
  # Once the file is used up the connections only ask for /health/live: the rest of the warm-up would warm nothing.
  ((n < signed)) || log "warm-up: all $signed signed requests were used before ${seconds}s; sign more a second (run.sh)"
  wait_applied "$provider" "$(accepted "$provider")"
  rm -f "$work/warm.tsv"
}
warm e2b "$ingress_warmup" 3000
warm_accepted=$(accepted e2b)

# ---------------------------------------------------------------- soak (--soak): memory under a steady load
if ((soak_seconds > 0)); then
  log "soak: $soak_provider at $soak_rate/s for ${soak_seconds}s, consumers running; signing $((soak_rate * soak_seconds)) requests"
  stop_service floor
  bodies "$soak_provider" $((soak_rate * soak_seconds + soak_rate)) "$users" "$work/soak.tsv"
  soak_ticks=$(cpu_ticks)
  lag_snapshot "$work/lag-before"
  # The warm-up's events are counted by the same series: the soak's are what comes after.
  accepted0=$(accepted "$soak_provider") applied0=$(applied "$soak_provider")
  soak_accepted() { echo $(($(accepted "$soak_provider") - accepted0)); }
  soak_applied() { echo $(($(applied "$soak_provider") - applied0)); }
  load "$ingress_port" "$work/soak.tsv" "$soak_seconds" "$rate_connections" "$soak_rate" 0
  echo
  echo "soak: $soak_flow, $soak_rate/s offered for ${soak_seconds}s over $rate_connections connections, $users users"
  printf '   %6s %10s %10s %12s %14s\n' "t (s)" accepted applied "Ingress RSS" "$soak_consumer RSS"
  t0=$SECONDS
  rss() { ps -o rss= -p "${pid_of[$1]}" | awk '{ printf "%.0f", $1 / 1024 }'; }
  samples=()
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 30
    kill -0 "$wrk_pid" 2>/dev/null || break
    samples+=("$(rss ingress)")
    printf '   %6d %10d %10d %9s MB %11s MB\n' $((SECONDS - t0)) "$(soak_accepted)" "$(soak_applied)" "${samples[-1]}" "$(rss "${soak_consumer,,}")"
  done
  wait_load
  ((${#samples[@]} > 0)) || samples+=("$(rss ingress)") # a soak shorter than a sample interval
  # Growth from the second minute (after start-up, JIT and the pools have settled) to the end.
  settled=${samples[3]:-${samples[0]:-0}}
  peak=$(printf '%s\n' "${samples[@]}" | sort -n | tail -n 1)
  echo "   HTTP: $(wrk_summary)"
  echo "   CPU per event: $(cpu_per_event "$soak_ticks" "$(cpu_ticks)" "$(soak_accepted)")"
  if [[ $soak_provider == e2b ]]; then
    lag_snapshot "$work/lag-after"
    echo "   outbox row written → applied by Sandboxes (pipeline_consumer_lag_seconds): $(lag_summary "$work/lag-before" "$work/lag-after")"
  fi
  echo
  echo "Soak summary: Ingress RSS ${settled} MB at 2 min, ${samples[-1]:-0} MB at the end, peak ${peak:-0} MB" \
    "($(awk -v a="${samples[-1]:-0}" -v b="$settled" 'BEGIN { printf "%+d", a - b }') MB from 2 min to the end); $(soak_accepted) accepted, $(soak_applied) applied"
  exit 0
fi

# ---------------------------------------------------------------- 1. accept
log "1. accept: consumers stopped, wrk -c32 for ${accept_seconds}s against the floor, then Ingress"
stop_service sandboxes
stop_service credits
bodies e2b 20000 "$users" "$work/floor.tsv"
bodies e2b $((accept_seconds * headroom + 20000)) "$users" "$work/accept.tsv"
load "$floor_port" "$work/floor.tsv" 3 32 0 1 && wait_load # warm-up: JIT, connections
load "$floor_port" "$work/floor.tsv" "$accept_seconds" 32 0 1 && wait_load
floor_line=$wrk_line
floor_summary=$(wrk_summary)
# Ingress's warm-up takes the first 20,000 requests of the file (E2E_WRAP=0: never a duplicate), then the run the rest.
head -n 20000 "$work/accept.tsv" >"$work/warm.tsv" && sed -i '1,20000d' "$work/accept.tsv"
load "$ingress_port" "$work/warm.tsv" 3 32 0 0 && wait_load
accept_alloc0=$(allocated) accept_n0=$(accepted e2b) accept_ticks0=$(cpu_ticks)
load "$ingress_port" "$work/accept.tsv" "$accept_seconds" 32 0 0
sleep $((accept_seconds / 2))
accept_cpu=$(cpu_snapshot)
wait_load
ingress_summary=$(wrk_summary)
ingress_line=$wrk_line
accept_n=$(($(accepted e2b) - accept_n0))
accept_alloc=$(alloc_per_event "$accept_alloc0" "$(allocated)" "$accept_n" | cut -d, -f1)
# Where the machine's CPU went, per accepted request (the consumers are stopped; RabbitMQ takes the dispatcher's publishes).
accept_cpu_per=$(cpu_per_event "$accept_ticks0" "$(cpu_ticks)" "$accept_n" | sed 's/Sandboxes [0-9.]*, Credits [0-9.]*, //')
wrk_line=$floor_line
floor_rps=$(per_s "$(field requests)" "$(field duration_us)")
wrk_line=$ingress_line
ingress_rps=$(per_s "$(field requests)" "$(field duration_us)")
ingress_p99_us=$(field p99_us)
accept_ratio=$(awk -v a="$ingress_rps" -v b="$floor_rps" 'BEGIN { printf "%.3f", a / b }')
echo
echo "1. accept, wrk -t1 -c32, ${accept_seconds}s each (consumers stopped; Ingress's dispatcher publishing)"
echo "   floor (read, verify, answer): $floor_summary"
echo "   Ingress:                      $ingress_summary"
echo "   Ingress / floor: $accept_ratio; allocated per request (and its publish): $accept_alloc KiB"
echo "   CPU per accepted request (and its publish): $accept_cpu_per"
echo "   CPU at mid-run (pids: ingress ${pid_of[ingress]}, floor ${pid_of[floor]}, wrk):"
echo "$accept_cpu"
rm -f "$work/floor.tsv" "$work/accept.tsv" "$work/warm.tsv"

# ---------------------------------------------------------------- 4. backlog drain
so_far=$(($(accepted e2b) - warm_accepted))
if ((so_far < backlog)); then
  log "4. backlog: $((backlog - so_far)) more E2B events with the consumers stopped"
  # Spare requests: the load stops as soon as Ingress counts the backlog accepted.
  bodies e2b $((backlog - so_far + 2000)) "$users" "$work/backlog.tsv"
  load "$ingress_port" "$work/backlog.tsv" 36000 32 0 0
  until (($(accepted e2b) - warm_accepted >= backlog)) || ! kill -0 "$wrk_pid" 2>/dev/null; do sleep 0.5; done
  stop_pid "$wrk_pid"
  wait "$wrk_pid" 2>/dev/null || true
  forget_pid "$wrk_pid"
  rm -f "$work/backlog.tsv"
fi
backlog_total=$(accepted e2b) # what Ingress publishes: the warm-up's events and the backlog
backlog_n=$((backlog_total - warm_accepted))
log "4. backlog: $backlog_n accepted; waiting for Ingress to publish them all"
published_at=$SECONDS
until (($(published) >= backlog_total)); do
  ((SECONDS - published_at < drain_timeout)) || die "Ingress published $(published) of $backlog_total in ${drain_timeout}s"
  sleep 0.5
done
publish_wait=$((SECONDS - published_at))
log "4. backlog: starting Sandboxes and Credits, timing the drain"
drain_start=$(date +%s.%N)
start_sandboxes
start_credits
echo
echo "4. backlog drain: $backlog_n E2B events accepted with the consumers stopped (published within ${publish_wait}s after the last accept)"
printf '   %8s %10s\n' "t (s)" "applied"
drained=0
last_sample=0
first_applied=""
while :; do
  now=$(date +%s.%N)
  elapsed=$(awk -v a="$now" -v b="$drain_start" 'BEGIN { printf "%.1f", a - b }')
  done_count=$(applied e2b)
  [[ -n $first_applied || $done_count -eq 0 ]] || first_applied=$elapsed
  if ((done_count >= backlog_n)); then
    drained=1
    break
  fi
  if awk -v e="$elapsed" -v l="$last_sample" -v s="$sample_seconds" 'BEGIN { exit !(e - l >= s) }'; then
    printf '   %8s %10d\n' "$elapsed" "$done_count"
    last_sample=$elapsed
  fi
  awk -v e="$elapsed" -v t="$drain_timeout" 'BEGIN { exit !(e < t) }' || break
  sleep 0.2
done
drain_seconds=$elapsed
drain_rate=$(awk -v n="$done_count" -v s="$drain_seconds" -v f="${first_applied:-0}" 'BEGIN { printf "%.0f", (s > f ? n / (s - f) : 0) }')
if ((drained)); then
  drain_summary="$backlog_n applied in ${drain_seconds}s from the consumers' start: $(awk -v n="$backlog_n" -v s="$drain_seconds" 'BEGIN { printf "%.0f", n / s }')/s (the first at ${first_applied}s: $(awk -v n="$backlog_n" -v s="$drain_seconds" -v f="$first_applied" 'BEGIN { printf "%.0f", (s > f ? n / (s - f) : 0) }')/s without start-up)"
else
  drain_summary="only $done_count of $backlog_n applied after ${drain_seconds}s: $(awk -v n="$done_count" -v s="$drain_seconds" 'BEGIN { printf "%.0f", n / s }')/s"
fi
echo "   $drain_summary"
wait_ready sandboxes "http://127.0.0.1:$sandboxes_mgmt/health/ready"
wait_ready credits "http://127.0.0.1:$credits_mgmt/health/ready"

# ---------------------------------------------------------------- warm-up of the consumers started by 4
# 4 started Sandboxes and Credits cold, and Credits has consumed nothing yet: closed-loop usage events for Credits
# (over the same accounts as 3, which then exist, as a gateway's users do), then E2B events for Sandboxes, so that 2
# and 3 measure warmed-up processes too (tiered JIT, pools; measured: Sandboxes spent 0.28-0.30 ms an event in 2 when
# it ran 20 s after 4, 0.13-0.16 in 3). What a cold start costs is what 4 shows.
warm new-api "$warmup_seconds" "$headroom"
warm e2b "$warmup_seconds" "$headroom"

# ---------------------------------------------------------------- 2. fixed rate
log "2. fixed rate: $rate/s for ${rate_seconds}s, consumers running"
bodies e2b $((rate * rate_seconds + rate)) "$users" "$work/rate.tsv"
applied_before=$(applied e2b)
accepted_before=$(accepted e2b)
commits_before=$(receipt_commits)
lag_snapshot "$work/lag-before"
rate_ticks=$(cpu_ticks)
load "$ingress_port" "$work/rate.tsv" "$rate_seconds" "$rate_connections" "$rate" 0 && wait_load
rate_cpu=$(cpu_per_event "$rate_ticks" "$(cpu_ticks)" $(($(accepted e2b) - accepted_before)))
rate_commits=$(($(receipt_commits) - commits_before))
rate_summary=$(wrk_summary)
rate_p99_us=$(field p99_us)
late=$(field late)
scheduled=$(field scheduled)
late_pct=$(awk -v l="$late" -v s="$scheduled" 'BEGIN { printf "%.1f", s ? 100 * l / s : 0 }')
rate_applied=$(($(applied e2b) - applied_before))
rate_accepted=$(($(accepted e2b) - accepted_before))
echo
echo "2. fixed offered rate: $rate/s E2B for ${rate_seconds}s over $rate_connections connections (consumers running)"
echo "   Ingress: $rate_summary"
echo "   sends more than 1 ms behind schedule: $late of $scheduled ($late_pct%; 0% = open loop, otherwise the latencies are too low)"
echo "   applied by Sandboxes by the end of the load: $rate_applied of $rate_accepted accepted"
# At a fixed rate the batches are as large as the rate and a commit round's length make them: the round is most of the latency.
echo "   Ingress's receipt commits: $rate_commits, $(awk -v c="$rate_commits" -v s="$rate_seconds" -v n="$rate_accepted" \
  'BEGIN { if (c) printf "%.0f/s of %.1f receipts (a round every %.1f ms)", c / s, n / c, 1000 * s / c }')"
echo "   CPU per accepted request (with its publish and apply, during the load): $rate_cpu"
rm -f "$work/rate.tsv"
# Lets the rest drain so that it does not weigh on the next figure.
wait_applied e2b $((applied_before + rate_accepted))
lag_snapshot "$work/lag-after"
rate_lag=$(lag_summary "$work/lag-before" "$work/lag-after")
echo "   outbox row written → applied by Sandboxes (pipeline_consumer_lag_seconds): $rate_lag"

# ---------------------------------------------------------------- 3. sustained end to end
e2e_results=()
e2e_applied=()
e2e_growth=()
# sustained PROVIDER USERS LABEL
sustained() {
  local provider=$1 mix_users=$2 label=$3
  local rate_desc="closed loop, 32 connections"
  ((e2e_rate == 0)) || rate_desc="$e2e_rate/s offered"
  local count=$((e2e_seconds * headroom + 1000))
  ((e2e_rate == 0)) || count=$((e2e_rate * e2e_seconds + e2e_rate))
  log "3. $label: ${e2e_seconds}s, $rate_desc"
  bodies "$provider" "$count" "$mix_users" "$work/e2e.tsv"
  local acc0 app0 t0
  acc0=$(accepted "$provider")
  app0=$(applied "$provider")
  echo
  echo "3. $label: ${e2e_seconds}s, $rate_desc, consumers running"
  printf '   %6s %10s %10s %10s\n' "t (s)" accepted applied backlog
  t0=$SECONDS
  local ticks0 alloc0
  ticks0=$(cpu_ticks)
  alloc0=$(allocated)
  local connections=32
  ((e2e_rate == 0)) || connections=$rate_connections
  load "$ingress_port" "$work/e2e.tsv" "$e2e_seconds" "$connections" "$e2e_rate" 0
  local acc app mid_backlog=0 mid_t=0 cpu="" half=$((e2e_seconds / 2))
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep "$sample_seconds"
    acc=$(($(accepted "$provider") - acc0))
    app=$(($(applied "$provider") - app0))
    printf '   %6d %10d %10d %10d\n' $((SECONDS - t0)) "$acc" "$app" $((acc - app))
    if ((mid_t == 0 && SECONDS - t0 >= half)); then
      mid_t=$((SECONDS - t0)) mid_backlog=$((acc - app))
      cpu=$(cpu_snapshot)
    fi
  done
  wait_load
  local end_t=$((SECONDS - t0))
  acc=$(($(accepted "$provider") - acc0))
  app=$(($(applied "$provider") - app0))
  local end_backlog=$((acc - app))
  local growth
  growth=$(awk -v a="$end_backlog" -v b="$mid_backlog" -v t=$((end_t - mid_t)) 'BEGIN { printf "%.0f", (t > 0 ? (a - b) / t : 0) }')
  # Over wrk's own duration: it reads the requests file before its clock starts, and nothing is sent meanwhile.
  local load_us
  load_us=$(field duration_us)
  local line
  line=$(printf '%s: accepted %s/s, applied %s/s during the load, backlog %+d/s in its second half (%d left at the end)' "$label" \
    "$(per_s "$acc" "$load_us")" "$(per_s "$app" "$load_us")" "$growth" "$end_backlog")
  echo "   HTTP: $(wrk_summary)"
  echo "   CPU at mid-run (pids: ingress ${pid_of[ingress]}, sandboxes ${pid_of[sandboxes]}, credits ${pid_of[credits]}, floor ${pid_of[floor]}, wrk):"
  echo "$cpu"
  local drain_t0=$SECONDS
  wait_applied "$provider" $((app0 + acc))
  local left=$((acc - ($(applied "$provider") - app0)))
  if ((left <= 0)); then
    line+=", applied in full $((SECONDS - drain_t0))s after the load"
  else
    line+=", $left still to apply ${e2e_drain_timeout}s after the load"
  fi
  # From the start of the load until all was applied, per accepted event.
  line+="; CPU per event: $(cpu_per_event "$ticks0" "$(cpu_ticks)" "$acc"); allocated per event: $(alloc_per_event "$alloc0" "$(allocated)" "$acc")"
  echo "   $line"
  e2e_results+=("$line")
  e2e_applied+=("$(per_s "$app" "$load_us")")
  e2e_growth+=("$growth")
  rm -f "$work/e2e.tsv"
}
sustained e2b "$users" "E2B→Sandboxes, $users sandboxes"
sustained new-api "$users" "new-api usage→Credits, $users accounts"
sustained e2b 1 "E2B→Sandboxes, one hot sandbox"
sustained new-api 1 "new-api usage→Credits, one hot account"
ingress_rss_mb=$(ps -o rss= -p "${pid_of[ingress]}" | awk '{ printf "%.0f", $1 / 1024 }')
ingress_rss="$ingress_rss_mb MB"

# ---------------------------------------------------------------- 5. bus floor
log "5. bus floor: stopping the services; $bus_messages messages"
for name in ingress sandboxes credits floor; do stop_service "$name"; done
bus_line=$(bench bus-floor --rabbitmq "$broker" --events "$bus_messages" --concurrency 256 --prefetch 256 2>&1 | grep '^bus floor') ||
  die "the bus floor failed"
echo
echo "5. $bus_line"

# ---------------------------------------------------------------- summary
bus_rate=$(sed -n 's/.*published and consumed \([0-9]*\) msg.*/\1/p' <<<"$bus_line")
of_bus() { awk -v a="$1" -v b="$bus_rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo
echo "Summary ($(nproc) cores, load generator on the same machine; end-of-run Ingress RSS $ingress_rss)"
echo "1. accept at 32 connections:  floor $floor_summary"
echo "                              Ingress $ingress_summary; Ingress/floor $accept_ratio; CPU per request: $accept_cpu_per"
echo "2. fixed $rate/s offered:     Ingress $rate_summary; late sends $late_pct%; written → applied $rate_lag; CPU per request: $rate_cpu"
for i in "${!e2e_results[@]}"; do
  echo "3. ${e2e_results[$i]}; applied/s $(of_bus "${e2e_applied[$i]}") of the bus floor"
done
echo "4. backlog drain:             $drain_summary; without start-up $(of_bus "$drain_rate") of the bus floor"
echo "5. $bus_line"

# The goals this benchmark was written for (issue 12 of the project), each against this run's figure.
# goal TEXT MET FIGURE: one line, "met" when MET is 1.
goal() { printf '   %-68s %-8s %s\n' "$1" "$([[ $2 == 1 ]] && echo met || echo 'NOT met')" "$3"; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'; }
# A flow keeps up when its backlog grew by less than 2% of its applied rate in the second half of the load.
keeps_up() {
  local i=$1
  awk -v a="${e2e_applied[$i]}" -v g="${e2e_growth[$i]}" -v b="$bus_rate" \
    'BEGIN { print (a >= 3000 && a >= 0.7 * b && g < 0.02 * a) ? 1 : 0 }'
}
echo
echo "Goals"
goal "1. Ingress at least 0.25 of the floor" "$(at_least "$accept_ratio" 0.25)" "$accept_ratio"
goal "1. accept p99 at 32 connections at most 50 ms" "$(at_least 50000 "$ingress_p99_us")" "$(ms "$ingress_p99_us")"
rate_note=""
((rate == 2000)) || rate_note=" (this run offered $rate/s)"
goal "2. p99 at most 20 ms at 2,000/s offered$rate_note" "$(at_least 20000 "$rate_p99_us")" "$(ms "$rate_p99_us")"
goal "3. Sandboxes, $users sandboxes: 3,000/s kept up, 0.7 of the bus floor" "$(keeps_up 0)" \
  "${e2e_applied[0]}/s, $(of_bus "${e2e_applied[0]}"), backlog ${e2e_growth[0]}/s"
goal "3. Credits, $users accounts: 3,000/s kept up, 0.7 of the bus floor" "$(keeps_up 1)" \
  "${e2e_applied[1]}/s, $(of_bus "${e2e_applied[1]}"), backlog ${e2e_growth[1]}/s"
goal "3. one hot account at least 1,000/s" "$(at_least "${e2e_applied[3]}" 1000)" "${e2e_applied[3]}/s"
goal "4. backlog drain at least 3,000/s (without start-up)" "$( ((drained)) && at_least "$drain_rate" 3000 || echo 0)" "$drain_rate/s"
goal "Ingress's RSS under 300 MB (growth: --soak 600)" "$(at_least 299 "$ingress_rss_mb")" "$ingress_rss"
