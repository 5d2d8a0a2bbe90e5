#!/usr/bin/env bash
# The default build is the production gateway: `cargo build --release` and the Dockerfile's
# default build must hold no Diia emulator, test CA, sample cabinet or fuzz entry points (they
# come with the features `demo` and `fuzzing`, which the demo, the tests and compose turn on).
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLX_OFFLINE=true
fail=0

# What a plain `cargo build` resolves: the gateway's normal dependencies and their features.
tree="$(cargo tree --locked -p kepgate -e normal,features --prefix none)"
for unwanted in 'kepgate-emulator ' 'kepgate-signature feature "test-ca"' \
  'kepgate feature "demo"' 'kepgate feature "fuzzing"'; do
  if grep -qF "$unwanted" <<<"$tree"; then
    echo "the default build has $unwanted" >&2
    fail=1
  fi
done

# The Dockerfile builds the demo only when asked to (docker-compose.yml asks).
if ! grep -qx 'ARG DEMO=false' Dockerfile; then
  echo "the Dockerfile's default build is not the production one (ARG DEMO=false)" >&2
  fail=1
fi
if ! grep -q 'then features="--features demo"; else features=""; fi' Dockerfile; then
  echo "the Dockerfile no longer builds without features unless DEMO=true" >&2
  fail=1
fi

# The binary a plain build makes: the demo's commands are not in it.
cargo build --locked --bin kepgate
for command in demo emulator cabinet; do
  if target/debug/kepgate "$command" --help >/dev/null 2>&1; then
    echo "the default binary has the command \`kepgate $command\`" >&2
    fail=1
  fi
done
# The debug binary keeps its symbols: no code of the emulator, the test CA or the fuzz entry points.
if grep -qaE 'kepgate_emulator|7test_ca|7fuzzing' target/debug/kepgate; then
  echo "the default binary carries code of the emulator, the test CA or the fuzz entry points" >&2
  fail=1
fi
[ "$fail" = 0 ] && echo "the default build is the production gateway"
exit "$fail"
