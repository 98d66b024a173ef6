#!/usr/bin/env bash
# The whole test suite; CI runs exactly this (through .ci/run).
#   ./test.sh [extra dotnet test arguments, e.g. --filter Category=Unit]
# With a Docker daemon the tests start their own containers (Testcontainers);
# without one, RabbitMQ and PostgreSQL are started here from local packages
# (infra/local) and stopped again on any exit.
# TRX files and service logs end up in .test-output/. The last line printed is
# always "N passed, N failed, N skipped".
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"

out=$root/.test-output
trx_dir=$out/trx
log_dir=$out/logs
# Stale files from an earlier run would be counted again.
rm -rf "$trx_dir" "$log_dir"
mkdir -p "$trx_dir" "$log_dir"

infra_dir=""
rabbit_start_pid=""
dotnet_pid=""

stop_services() {
  [[ -n $infra_dir ]] || return 0
  # A start still running in the background has to finish before its node can be stopped.
  if [[ -n $rabbit_start_pid ]]; then
    wait "$rabbit_start_pid" 2>/dev/null || true
    rabbit_start_pid=""
  fi
  PIPELINE_INFRA_DIR=$infra_dir infra/local/rabbitmq.sh stop || true
  PIPELINE_INFRA_DIR=$infra_dir infra/local/postgres.sh stop || true
  # Keep the service logs for whoever reads a failed CI run.
  if [[ -d $infra_dir/rabbitmq/log ]]; then
    cp -r "$infra_dir/rabbitmq/log" "$log_dir/rabbitmq" || true
  fi
  cp "$infra_dir/pg/postgres.log" "$infra_dir/pg/initdb.log" "$log_dir/" 2>/dev/null || true
  rm -rf "$infra_dir"
  infra_dir=""
}

# Prints "passed failed skipped" summed over the <Counters> of the given TRX
# files. error/timeout/aborted count as failed, notExecuted as skipped.
# Returns 1 if a file has no <Counters> (a broken run), after summing the rest.
sum_trx() {
  local passed=0 failed=0 skipped=0 broken=0 f line name value
  local -A n
  for f in "$@"; do
    if ! line=$(grep -o -m 1 '<Counters [^>]*>' "$f"); then
      echo "test.sh: no <Counters> in $f" >&2
      broken=1
      continue
    fi
    for name in passed failed error timeout aborted notExecuted; do
      value=0
      if [[ $line =~ [[:space:]]$name=\"([0-9]+)\" ]]; then
        value=${BASH_REMATCH[1]}
      fi
      n[$name]=$value
    done
    passed=$((passed + n[passed]))
    failed=$((failed + n[failed] + n[error] + n[timeout] + n[aborted]))
    skipped=$((skipped + n[notExecuted]))
  done
  echo "$passed $failed $skipped"
  return "$broken"
}

summary_printed=0

# Sums the TRX files, prints the summary as the last line and returns non-zero
# if a test failed, a TRX file was unreadable or no test ran at all.
summarize() {
  local -a trx_files
  local summary passed failed skipped ok=0
  mapfile -t trx_files < <(find "$trx_dir" -name '*.trx' -type f | sort)
  summary=$(sum_trx "${trx_files[@]}") || ok=1
  read -r passed failed skipped <<<"$summary"
  ((failed == 0)) || ok=1
  if ((passed + failed == 0)); then
    echo "test.sh: no test ran (${#trx_files[@]} TRX files in $trx_dir)" >&2
    ok=1
  fi
  echo "test.sh: TRX files and service logs are in $out"
  echo "$passed passed, $failed failed, $skipped skipped"
  summary_printed=1
  return "$ok"
}

# On an early exit (a service did not start, a signal) still stop everything
# and still end with the summary line.
# shellcheck disable=SC2317 # called through the EXIT trap
on_exit() {
  if [[ -n $dotnet_pid ]] && kill -0 "$dotnet_pid" 2>/dev/null; then
    echo "test.sh: stopping dotnet test" >&2
    kill -TERM "$dotnet_pid" 2>/dev/null || true
    # Give it a moment to end its test hosts, then insist.
    for _ in {1..20}; do
      kill -0 "$dotnet_pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL "$dotnet_pid" 2>/dev/null || true
    wait "$dotnet_pid" 2>/dev/null || true
  fi
  stop_services
  if ((summary_printed == 0)); then
    echo "test.sh: stopped before the test run completed" >&2
    summarize || true
  fi
}
trap on_exit EXIT
# Signals become a normal exit, so the EXIT trap still stops the services.
trap 'exit 130' INT
trap 'exit 143' TERM

docker_usable() {
  command -v docker >/dev/null 2>&1 && timeout 30 docker info >/dev/null 2>&1
}

infra/check-deploy.sh # compose file, k8s manifests, Dockerfiles (publish): what can be checked without Docker

if docker_usable; then
  echo "test.sh: Docker is available; the tests start their own containers (Testcontainers)"
  export PIPELINE_TEST_USE_TESTCONTAINERS=1
else
  echo "test.sh: no Docker daemon; starting local RabbitMQ and PostgreSQL (infra/local)"
  infra_dir=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-test.XXXXXX")
  export PIPELINE_INFRA_DIR=$infra_dir
  services_started=$SECONDS
  # In parallel: RabbitMQ takes several seconds, PostgreSQL about one.
  infra/local/rabbitmq.sh start &
  rabbit_start_pid=$!
  infra/local/postgres.sh start
  wait "$rabbit_start_pid"
  rabbit_start_pid=""
  # shellcheck source=/dev/null
  source "$infra_dir/rabbitmq.env"
  # shellcheck source=/dev/null
  source "$infra_dir/postgres.env"
  echo "test.sh: services ready in $((SECONDS - services_started))s"
fi

# The dashboard's browser test drives Debian's Chromium through playwright-core (no browser can be downloaded here).
if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Chromium (apt-get install chromium) for the dashboard browser test"
  as_root=()
  ((EUID == 0)) || as_root=(sudo)
  { "${as_root[@]}" apt-get update -qq &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
    echo "test.sh: could not install Chromium; the dashboard browser test will fail" >&2
fi

# The providers' own JavaScript libraries, for the interop tests (exact versions from the lock file).
echo "test.sh: installing the interop libraries (tests/interop)"
npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error

solution=Pipeline.sln
test_rc=0
# --blame-hang-timeout: a hung test is killed (no dump, it would be huge)
# instead of eating the whole CI budget.
# In the background and waited for, so that a signal to this script is acted
# on at once (on_exit stops dotnet, then the services), not after dotnet ends.
dotnet test "$solution" -c Release \
  --logger trx --results-directory "$trx_dir" \
  --blame-hang-timeout 15m --blame-hang-dump-type none \
  "$@" &
dotnet_pid=$!
wait "$dotnet_pid" || test_rc=$?
dotnet_pid=""

# Stopped now rather than by the trap, so the summary stays the last line.
stop_services

rc=0
if ((test_rc != 0)); then
  echo "test.sh: dotnet test exited with $test_rc" >&2
  rc=$test_rc
fi
summarize || rc=1
exit "$rc"
