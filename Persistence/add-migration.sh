#!/usr/bin/env bash
# Adds a migration with the given name for every server provider and every context.
set -euo pipefail
name=${1:?usage: Persistence/add-migration.sh MigrationName}
cd "$(dirname "$0")"
dotnet tool restore >/dev/null
for provider in PostgreSql SqlServer; do
  for context in Ingress Sandboxes; do
    dotnet ef migrations add "$name" --context "${provider}${context}DbContext" --output-dir "Migrations/$provider/$context"
  done
done
