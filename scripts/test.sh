#!/usr/bin/env bash
# The one command that runs every test: unit tests and the integration tests against a real
# PostgreSQL, with real HTTP between real processes, for every crate of the workspace. Extra
# arguments go to `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-postgres.sh
# The forward-auth and gate-bypass tests run a real nginx (Debian's package) in front of and
# behind kepgate, and a Python WSGI app behind it; the browser tests drive Debian's Chromium
# through chromedriver (nothing is downloaded from Google); the OpenID Connect tests sign in at
# kepgate through a real relying party, Apache httpd with mod_auth_openidc. The compose tests run
# docker-compose.replicas.yml's load balancer as Debian's HAProxy.
scripts/ensure-packages.sh nginx chromium chromium-driver python3 apache2 libapache2-mod-auth-openidc haproxy
# …and check the pages with axe-core (a pinned, checksummed copy from the npm registry).
KEPGATE_AXE_JS="${KEPGATE_AXE_JS:-$(scripts/ensure-axe.sh)}"
export KEPGATE_AXE_JS
# The deployment tests validate the compose files and the Kubernetes manifests with pinned
# Python validators; the Kubernetes ones render deploy/kubernetes with kubectl's kustomize.
KEPGATE_PYTHON_TOOLS="${KEPGATE_PYTHON_TOOLS:-$(scripts/ensure-python-tools.sh)}"
export KEPGATE_PYTHON_TOOLS
scripts/ensure-packages.sh kubectl

# Every test creates its own database kepgate_test_<unix time>_<run>_<random>, and a run drops
# its own when it ends (below). Drop those left by a killed run or a plain `cargo test` once they
# are over an hour old (a run going on right now keeps its databases).
drop_test_databases() { # SQL condition on datname
  psql -q -h 127.0.0.1 -U postgres -d postgres -At -c "
    SELECT 'DROP DATABASE IF EXISTS \"' || datname || '\" WITH (FORCE);' FROM pg_database
    WHERE datname ~ '^kepgate_test_' AND ($1)" \
    | psql -q -h 127.0.0.1 -U postgres -d postgres >/dev/null
}
drop_test_databases "
  substring(datname from '^kepgate_test_([0-9]{10})_') IS NULL
  OR substring(datname from '^kepgate_test_([0-9]{10})_')::bigint < extract(epoch from now()) - 3600"

# The committed .sqlx/ metadata builds the checked queries without a database.
export SQLX_OFFLINE=true

# Every process a test starts (nginx, Apache, HAProxy, Chromium and chromedriver, the WSGI app, kepgate)
# must be gone when the suite ends: what was not running before and still runs after is a leak.
# A process that has exited and waits only for init to reap it (state Z) is not left running.
left_behind() {
  ps -eo pid=,stat=,comm=,args= | awk -v before=" $1 " '
    index(before, " " $1 " ") == 0 && $2 !~ /^Z/ &&
    ($3 ~ /^(nginx|apache2|httpd|haproxy|chromium|chrome|chrome_crashpad|chromedriver|kepgate|openssl)$/ ||
     ($3 ~ /^python/ && $0 ~ /kepgate-wsgi-/))'
}
before="$(ps -eo pid= | tr -s ' \n' ' ')"
status=0
# This run's tag is in the name of every database its tests create (tests/api/support/helpers.rs):
# when the run ends, its databases go, whatever the outcome (their gateways are gone by then).
KEPGATE_TEST_RUN="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
export KEPGATE_TEST_RUN
cargo test --workspace --locked "$@" || status=$?
drop_test_databases "datname ~ '^kepgate_test_[0-9]{10}_${KEPGATE_TEST_RUN}_'"
sleep 1
leaked="$(left_behind "$before")"
if [ -n "$leaked" ]; then
  echo "The tests left these processes running (every test must end what it starts):" >&2
  echo "$leaked" >&2
  echo "$leaked" | awk '{print $1}' | xargs -r kill -9 2>/dev/null || true
  exit 1
fi
echo "No process started by the tests is left running."
[ "$status" = 0 ] || exit "$status"

# DSTU 4145's field arithmetic has two implementations chosen at build time: the CPU's
# carry-less multiply (on by .cargo/config.toml for x86-64) and the software comb every other
# build uses. The run above tested the first; this one builds without it (a target dir of its
# own) and runs the DSTU tests on the second.
if [ "$(uname -m)" = x86_64 ] && [ $# -eq 0 ]; then
  echo "== DSTU 4145 tests without the carry-less multiply"
  CARGO_TARGET_DIR=target/without-clmul RUSTFLAGS="-C target-feature=-pclmulqdq" \
    cargo test --locked -p kepgate-signature --lib dstu4145
fi

# The Debian package: built, lintian, the unit's hardening score, installed with dpkg on this
# machine, run as its unit runs it (user, configuration, system call filter, readiness), reloaded,
# stopped, removed and purged. A full run only (extra arguments select cargo tests).
if [ $# -eq 0 ]; then
  echo "== Debian package: scripts/check-debian-package.sh"
  scripts/check-debian-package.sh
fi
