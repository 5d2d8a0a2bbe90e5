#!/usr/bin/env bash
# Prints the path of axe-core's axe.min.js, the accessibility checker the browser tests inject
# into every page. Fetched once with npm from the npm registry into target/e2e-tools/ (not in
# git: MPL-2.0 would allow vendoring, but 650 kB of minified code has no place in the history)
# and checked against a pinned SHA-256, so a changed tarball fails loudly instead of testing
# with something else.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.14.1
sha256=e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
dir="$PWD/target/e2e-tools/axe-core-$version"

if [ ! -f "$dir/axe.min.js" ]; then
  command -v npm >/dev/null 2>&1 || scripts/ensure-packages.sh npm
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "axe-core@$version" >/dev/null)
  echo "$sha256  $tmp/axe-core-$version.tgz" | sha256sum --check --quiet >&2
  tar -xzf "$tmp/axe-core-$version.tgz" -C "$tmp" package/axe.min.js package/LICENSE
  mkdir -p "$dir"
  mv "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$dir/"
fi
echo "$dir/axe.min.js"
