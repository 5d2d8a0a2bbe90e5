#!/usr/bin/env bash
# Prints the path of Taplo's command line (`@taplo/cli`, MIT), the TOML toolkit behind VS Code's
# "Even Better TOML": the docs test checks that it reads the published configuration schema as
# docs/configuring.md tells editors to. Fetched once with npm from the npm registry into
# target/e2e-tools/ (one self-contained script, not in git) and checked against a pinned
# SHA-256, so a changed tarball fails loudly instead of testing with something else.
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.7.0
sha256=0f7fdada8036d6fe1da08919e0f43213d8bc453fb60f67832f7e1cb4b9db9161
dir="$PWD/target/e2e-tools/taplo-cli-$version"

if [ ! -f "$dir/dist/cli.js" ]; then
  command -v npm >/dev/null 2>&1 || scripts/ensure-packages.sh npm
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@taplo/cli@$version" >/dev/null)
  echo "$sha256  $tmp/taplo-cli-$version.tgz" | sha256sum --check --quiet >&2
  tar -xzf "$tmp/taplo-cli-$version.tgz" -C "$tmp"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
echo "$dir/dist/cli.js"
