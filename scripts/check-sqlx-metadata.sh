#!/usr/bin/env bash
# Fails when .sqlx/ (the offline query metadata) does not match the queries in the code.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo sqlx --version 2>/dev/null | grep -q ' 0\.9'; then
  echo "check-sqlx-metadata: installing sqlx-cli 0.9" >&2
  cargo install sqlx-cli --locked --version '^0.9' --no-default-features --features postgres,rustls >/dev/null
fi
db="kepgate_sqlx_check_$$"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
trap 'psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT
cargo sqlx database create
cargo sqlx migrate run >/dev/null
cargo sqlx prepare --check -- --all-targets
