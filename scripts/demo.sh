#!/usr/bin/env bash
# Starts the demo stack on this machine: kepgate on http://127.0.0.1:8080 with its own
# database `kepgate_demo` (created and migrated on start). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
export SQLX_OFFLINE=true
cargo build --locked --bin kepgate
echo "kepgate demo: http://127.0.0.1:${KEPGATE_DEMO_PORT:-8080}/.kepgate/healthz" >&2
export KEPGATE_SERVER__LISTEN="${KEPGATE_SERVER__LISTEN:-127.0.0.1:${KEPGATE_DEMO_PORT:-8080}}"
export KEPGATE_SERVER__BASE_URL="${KEPGATE_SERVER__BASE_URL:-http://${KEPGATE_SERVER__LISTEN}/}"
exec target/debug/kepgate demo
