#!/usr/bin/env bash
# Prints the path of Taplo's command line (`@taplo/cli`, MIT), the TOML toolkit behind VS Code's
# "Even Better TOML": the docs test checks that it reads the published configuration schema as
# docs/configuring.md tells editors to. Fetched once with npm from the npm registry into
# target/e2e-tools/ (one self-contained script, not in git) and checked against a pinned
# SHA-256 (scripts/npm-package.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.7.0
sha256=0f7fdada8036d6fe1da08919e0f43213d8bc453fb60f67832f7e1cb4b9db9161
dir="$PWD/target/e2e-tools/taplo-cli-$version"

if [ ! -f "$dir/dist/cli.js" ]; then
  scripts/npm-package.sh @taplo/cli "$version" "$sha256" "$dir"
fi
echo "$dir/dist/cli.js"
