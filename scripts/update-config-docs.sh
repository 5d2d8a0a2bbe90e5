#!/usr/bin/env bash
# Writes docs/kepgate.schema.json and docs/configuration.md from the settings types, with the
# binary's own `kepgate config schema`: run it after changing a setting or its doc comment, and
# commit both (tests/api/docs.rs fails while they differ from what the binary prints).
set -euo pipefail
cd "$(dirname "$0")/.."

SQLX_OFFLINE=true cargo build --quiet --bin kepgate
target/debug/kepgate config schema > docs/kepgate.schema.json
target/debug/kepgate config schema --markdown > docs/configuration.md
echo "wrote docs/kepgate.schema.json and docs/configuration.md"
