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

# Every query of the Grafana dashboard must parse as PromQL: check them as recording rules, with Grafana's
# $__rate_interval replaced by a fixed range.
dashboard=../grafana/pipeline-dashboard.json
rules=$(mktemp --suffix=.yml)
trap 'rm -f "$rules"' EXIT
python3 - "$dashboard" "$rules" <<'PY'
import json, sys
dashboard = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
with open(sys.argv[2], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, expr in enumerate(exprs):
        out.write(f"      - record: dashboard:query{i}\n        expr: {json.dumps(expr.replace('$__rate_interval', '5m'))}\n")
PY
echo "Checking the dashboard's queries"
promtool check rules "$rules"
