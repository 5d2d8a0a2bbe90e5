#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time: scripts/fuzz.sh [seconds-per-target] [target…]
# Installs cargo-fuzz if missing (it needs the nightly toolchain). Each target starts from its
# committed seeds (fuzz/seeds/<target>, real emulator callbacks) and keeps what it learns in
# fuzz/corpus/<target> (not committed). A crash stops the run and leaves its input in
# fuzz/artifacts/<target>/: fix the product, then copy the input to fuzz/regressions/<target>/,
# where `cargo test --test api fuzz_regressions` runs it on every test run.
#
# FUZZ_RUNS=N stops each target after N executions instead of after the seconds (the campaign's
# "≥ 10 M executions": FUZZ_RUNS=10000000 scripts/fuzz.sh 0 crl). FUZZ_SANITIZER=none builds
# without AddressSanitizer: the targets are safe Rust (the crate forbids `unsafe`), so ASan adds
# little but costs a factor of 3–10 in executions; libFuzzer's coverage guidance stays.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-300}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(callback_decoder cms_verify return_path canonical_path dstu_key_signature ocsp_response crl oidc_authorize_request)
fi

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# The signature targets also load the national CA bundle when it is here (KEPGATE_UA_TRUST).
export SQLX_OFFLINE=true
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  echo "== $target: ${seconds}s"
  # One process on one core (no -jobs: with it libFuzzer forks and logs to fuzz-N.log).
  # -max_len fits the largest seed (a 4.5 KiB callback) with room to grow.
  if [ -n "${FUZZ_RUNS:-}" ]; then bound="-runs=$FUZZ_RUNS"; else bound="-max_total_time=$seconds"; fi
  cargo +nightly fuzz run -s "${FUZZ_SANITIZER:-address}" "$target" "corpus/$target" "seeds/$target" -- \
    "$bound" -max_len=16384 -print_final_stats=1 \
    2>&1 | tee "$log" | grep -E '^(#[0-9]+\s+(INITED|DONE)|stat::|==[0-9]+==|SUMMARY|Done)' || true
  if grep -q 'SUMMARY\|panicked' "$log"; then
    echo "!! $target crashed; input in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  rm -f "$log"
done
