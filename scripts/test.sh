#!/usr/bin/env bash
# The one command that runs every test: unit tests and the integration tests against a real
# PostgreSQL, with real HTTP between real processes. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-postgres.sh
# The forward-auth tests run a real nginx (Debian's package) in front of kepgate; the browser
# tests drive Debian's Chromium through chromedriver (nothing is downloaded from Google).
scripts/ensure-packages.sh nginx chromium chromium-driver
# …and check the pages with axe-core (a pinned, checksummed copy from the npm registry).
KEPGATE_AXE_JS="${KEPGATE_AXE_JS:-$(scripts/ensure-axe.sh)}"
export KEPGATE_AXE_JS

# Every test creates its own database kepgate_test_<unix time>_<uuid>; drop those left by runs
# that started over an hour ago (a run going on right now keeps its databases).
psql -q -h 127.0.0.1 -U postgres -d postgres -At -c "
  SELECT 'DROP DATABASE IF EXISTS \"' || datname || '\" WITH (FORCE);' FROM pg_database
  WHERE datname ~ '^kepgate_test_' AND (
    substring(datname from '^kepgate_test_([0-9]{10})_') IS NULL
    OR substring(datname from '^kepgate_test_([0-9]{10})_')::bigint < extract(epoch from now()) - 3600)" \
  | psql -q -h 127.0.0.1 -U postgres -d postgres >/dev/null

# The committed .sqlx/ metadata builds the checked queries without a database.
export SQLX_OFFLINE=true
cargo test --locked "$@"
