#!/usr/bin/env bash
# Builds the Debian package of the production gateway (default features: no demo, emulator or
# test CA) with cargo-deb: the release binary, the unit and configuration from debian/, and the
# licences of every crate linked in. Prints the .deb's path last.
#
#   scripts/build-debian-package.sh        (then: dpkg -i target/debian/kepgate_*.deb)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-cargo-deb.sh
# dpkg-shlibdeps (dpkg-dev) computes the package's dependencies on shared libraries.
scripts/ensure-packages.sh dpkg-dev >&2

# The committed .sqlx/ metadata builds the checked queries without a database.
SQLX_OFFLINE=true cargo build --release --locked >&2
target_dir="$(cargo metadata --locked --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

# The licence of each crate the binary links, as its Cargo.toml declares it (debian/copyright
# points here).
{
  echo "kepgate links these Rust crates statically; each is under the licence it declares."
  echo "Their sources: https://crates.io/crates/<name>/<version>."
  echo
  cargo tree --locked -p kepgate -e normal --prefix none --format '{p}: {l}' \
    | sed 's/ (\*)$//; s/ ([^)]*)\(:\)/\1/' | sort -u
} >"$target_dir/release/third-party-licenses.txt"

# The manual page, compressed as Debian's are (-n: no name or time inside, the same bytes each time).
gzip -9n <debian/kepgate.1 >"$target_dir/release/kepgate.1.gz"

cargo deb --locked --no-build -p kepgate >&2
ls -t "$target_dir"/debian/kepgate_*.deb | head -1
