#!/bin/sh
# Entrypoint of the compose broker: renders definitions.json with the passwords from the environment (RabbitMQ
# cannot read them from there itself), then starts RabbitMQ through the image's own entrypoint.
#   start.sh rabbitmq-server     (as compose runs it)
#   start.sh --render-only       (render and stop: infra/check-deploy.sh checks the result)
set -eu

template=${PIPELINE_DEFINITIONS_TEMPLATE:-/etc/rabbitmq/pipeline/definitions.json}
out=${PIPELINE_DEFINITIONS_OUT:-/tmp/pipeline-definitions.json}

# The passwords end up inside JSON, and the application user's also inside an amqp:// URI: keep them to characters
# that need escaping in neither.
check() {
  case "$2" in
    "") echo "start.sh: $1 is not set" >&2; exit 1 ;;
    *[!A-Za-z0-9._~-]*) echo "start.sh: $1 may contain only letters, digits and . _ ~ -" >&2; exit 1 ;;
  esac
}
check RABBITMQ_PIPELINE_PASSWORD "${RABBITMQ_PIPELINE_PASSWORD:-}"
check RABBITMQ_ADMIN_PASSWORD "${RABBITMQ_ADMIN_PASSWORD:-}"

umask 077
sed -e "s|\${RABBITMQ_PIPELINE_PASSWORD}|$RABBITMQ_PIPELINE_PASSWORD|g" \
    -e "s|\${RABBITMQ_ADMIN_PASSWORD}|$RABBITMQ_ADMIN_PASSWORD|g" \
    "$template" >"$out"
if [ "${1:-}" = --render-only ]; then
  exit 0
fi
# The image's entrypoint continues as the rabbitmq user, who has to read the file.
if [ "$(id -u)" = 0 ]; then
  chown rabbitmq:rabbitmq "$out"
fi
exec docker-entrypoint.sh "$@"
