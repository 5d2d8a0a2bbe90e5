#!/usr/bin/env bash
# Prints the path of axe-core's axe.min.js, the accessibility checker the browser tests inject
# into every page. Fetched once with npm from the npm registry into target/e2e-tools/ (not in
# git: MPL-2.0 would allow vendoring, but 650 kB of minified code has no place in the history)
# and checked against a pinned SHA-256 (scripts/npm-package.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.14.1
sha256=e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
dir="$PWD/target/e2e-tools/axe-core-$version"

if [ ! -f "$dir/axe.min.js" ]; then
  scripts/npm-package.sh axe-core "$version" "$sha256" "$dir" axe.min.js LICENSE
fi
echo "$dir/axe.min.js"
