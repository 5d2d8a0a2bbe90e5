#!/usr/bin/env bash
# Installs cargo-deb (crates.io) at the pinned version when it is missing or another version:
# scripts/check-debian-package.sh builds the .deb with it, on CI's machine as on a fresh one.
set -euo pipefail

version=3.8.0

if [ "$(cargo deb --version 2>/dev/null | awk '{print $NF}')" != "$version" ]; then
  echo "ensure-cargo-deb: installing cargo-deb $version" >&2
  cargo install cargo-deb --locked --version "=$version" >/dev/null
fi
