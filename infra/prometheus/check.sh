#!/usr/bin/env bash
# Validates the Prometheus files here with promtool: the configuration, the alert rules, and the rules' unit tests
# (alerts.test.yml). promtool comes with Debian's prometheus package (apt-get install -y prometheus).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v promtool >/dev/null 2>&1; then
  echo "check.sh: promtool not found; install it with: apt-get install -y --no-install-recommends prometheus" >&2
  exit 2
fi
promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts.test.yml
