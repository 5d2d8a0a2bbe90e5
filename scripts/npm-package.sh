#!/usr/bin/env bash
# npm-package.sh NAME VERSION SHA256 DIR [PATH...]: fetches NAME@VERSION's tarball from the npm
# registry with `npm pack`, refuses it unless its SHA-256 is the pinned one, and puts the
# package's files (or only the PATHs given, relative to the package) into DIR. For the
# scripts/ensure-*.sh that keep a test tool in target/, so a changed tarball fails loudly
# instead of testing with something else.
set -euo pipefail
cd "$(dirname "$0")/.."

name=$1 version=$2 sha256=$3 dir=$4
shift 4
command -v npm >/dev/null 2>&1 || scripts/ensure-packages.sh npm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball=$(cd "$tmp" && npm pack --silent "$name@$version")
echo "$sha256  $tmp/$tarball" | sha256sum --check --quiet >&2
tar -xzf "$tmp/$tarball" -C "$tmp" "${@/#/package/}"
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
mv "$tmp/package" "$dir"
