#!/usr/bin/env bash
# Adds a migration with the given name for every server provider, for the given contexts (default: all).
#   Persistence/add-migration.sh AddRefunds Credits
set -euo pipefail
name=${1:?usage: Persistence/add-migration.sh MigrationName [Context ...]}
shift
cd "$(dirname "$0")"
contexts=("$@")
if [[ ${#contexts[@]} -eq 0 ]]; then
  contexts=(Ingress Sandboxes Credits Rooms Deliveries)
fi
dotnet tool restore >/dev/null
for provider in PostgreSql SqlServer; do
  for context in "${contexts[@]}"; do
    dotnet ef migrations add "$name" --context "${provider}${context}DbContext" --output-dir "Migrations/$provider/$context"
  done
done
