#!/usr/bin/env bash
# Verifies a detached DSTU 4145 / GOST 34.311-95 CAdES signature (.p7s, DER) of a file with an
# implementation nobody on kepgate wrote: the npm library jkurwa (dstucrypt/jkurwa, "BSD" in its
# package.json, no licence file upstream) with gost89 (dstucrypt/gost89, "BSD"), driven by
# scripts/dstu-verify/verify.js. They are not vendored: npm fetches them once from the npm
# registry into target/e2e-tools/ (not in git), pinned by scripts/dstu-verify/package-lock.json,
# whose integrity hashes npm checks, so a changed tarball fails loudly.
#
# jkurwa names its ASN.1 library as a git fork (muromec/asn1.js); the lock replaces it with the
# registry's asn1.js 4.9.1, the release that fork was cut from: the fork's one change makes
# INTEGERs with the top bit set decode as negative, which no DER certificate or CMS here has.
#
#   scripts/verify-dstu-p7s.sh <file> <p7s DER> [<CA certificate PEM or DER>...]
#
# Prints `OK <signer CN or serial>` and exits 0, or `FAIL <why>` and exits 1 (2 for bad usage).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

if [ "$#" -lt 2 ]; then
  echo "usage: $0 <file> <p7s DER> [<CA certificate PEM or DER>...]" >&2
  exit 2
fi

version=1.21.0
spec="$repo/scripts/dstu-verify"
dir="$repo/target/e2e-tools/dstu-verify-$version"
lock_sum=$(sha256sum "$spec/package-lock.json" | cut -d' ' -f1)

# Reinstalled when the lock changes; a lock file is used so that parallel test runs install once.
if [ "$(cat "$dir/installed-lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
  command -v npm >/dev/null 2>&1 || "$repo/scripts/ensure-packages.sh" npm >&2
  mkdir -p "$dir"
  exec 9>"$dir.lock"
  flock 9
  if [ "$(cat "$dir/installed-lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
    cp "$spec/package.json" "$spec/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
    echo "$lock_sum" >"$dir/installed-lock.sha256"
  fi
  exec 9>&-
fi

NODE_PATH="$dir/node_modules" exec node "$spec/verify.js" "$@"
