#!/usr/bin/env bash
# The supply chain: `cargo audit` of every Cargo.lock of the repository (the gateway's workspace,
# fuzz/, bench/loadgen/) against the RustSec advisory database. Any advisory it finds, a
# vulnerability or a warning (unmaintained, unsound, yanked), fails the run unless it is fixed
# (the crate updated) or ignored in .cargo/audit.toml with the reason written beside it.
#
#   scripts/audit.sh [LOCAL_DB]        or   KEPGATE_ADVISORY_DB=LOCAL_DB scripts/audit.sh
#
# The database is fetched where the network reaches it. Where it does not, LOCAL_DB, a copy of
# the database (the folder holding its crates/), is read as it is (--no-fetch --stale): such an
# audit says "no advisory known as of the copy's date", nothing more.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.22.2
local_db="${1:-${KEPGATE_ADVISORY_DB:-}}"

if [ "$(cargo audit --version 2>/dev/null | awk '{print $NF}')" != "$version" ]; then
  echo "audit: installing cargo-audit $version" >&2
  cargo install cargo-audit --locked --version "=$version" >/dev/null
fi

fetched="$(mktemp -d)"
trap 'rm -rf "$fetched"' EXIT
# One try at the network, into a folder of its own: whatever it finds is not the verdict yet,
# only whether a database arrived.
timeout 300 cargo audit --db "$fetched/advisory-db" --file Cargo.lock --quiet >/dev/null 2>&1 || true
if [ -d "$fetched/advisory-db/crates" ]; then
  echo "audit: the advisory database as fetched now"
  db=(--db "$fetched/advisory-db" --no-fetch)
elif [ -n "$local_db" ] && [ -d "$local_db/crates" ]; then
  echo "audit: no network for the advisory database; the local copy ${local_db}"
  db=(--db "$local_db" --no-fetch --stale)
else
  echo "audit: the advisory database could not be fetched, and there is no local copy" \
    "${local_db:+at $local_db }(scripts/audit.sh LOCAL_DB, or KEPGATE_ADVISORY_DB)" >&2
  exit 1
fi

status=0
for lock in Cargo.lock fuzz/Cargo.lock bench/loadgen/Cargo.lock; do
  [ -f "$lock" ] || continue
  echo "== cargo audit: $lock"
  # .cargo/audit.toml (read from here, the repository's root) lists the ignored advisories.
  cargo audit "${db[@]}" --file "$lock" --deny warnings || status=1
done
exit "$status"
