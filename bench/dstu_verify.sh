#!/usr/bin/env bash
# DSTU 4145 verification, kepgate against a C reference (UAPKI's uapkic), side by side in one run
# on the same vectors: one verification on M257 and one on M431 (real certificate signatures from
# UAPKI's Diia test chain, crates/signature/tests/data/dstu/uapki/certs/). A benchmark, not a test:
# nothing in the test suite runs it. It touches no other process and starts no server.
#
#   bench/dstu_verify.sh [UAPKI_SOURCE_DIR]      (or UAPKI_SRC=… bench/dstu_verify.sh)
#
# UAPKI_SOURCE_DIR is a checkout of https://github.com/specinfo-ua/UAPKI (BSD-2-Clause); measured
# at commit 12d8ff2b9eafb8fa2b184fff28990e0923e41e37, the commit the test vectors were copied from:
#   git clone https://github.com/specinfo-ua/UAPKI && git -C UAPKI checkout 12d8ff2b
# Only library/uapkic (the crypto core, plain C99) is built, with cc -O3 (what its CMake Release
# build uses), into target/dstu-bench/, together with our harness bench/dstu_verify/uapki_verify.c.
#
# Environment: DSTU_BENCH_ITERATIONS (verifications per round, default 300), DSTU_BENCH_ROUNDS
# (default 7; rounds alternate C, Rust, C, Rust, …), DSTU_BENCH_UAPKI_OPT (an extra C column with
# uapkic's ec_set_opt_level, e.g. b0b0 = comb tables of width 11 for G and Q; default none),
# UAPKI_CFLAGS (default "-O3 -DNDEBUG"; e.g. add -march=native), CC (default cc).
# Prints a table of the median microseconds per verification and every round's numbers.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${1:-${UAPKI_SRC:-}}"
ITER="${DSTU_BENCH_ITERATIONS:-300}"
ROUNDS="${DSTU_BENCH_ROUNDS:-7}"
OPT="${DSTU_BENCH_UAPKI_OPT:-}"

if [ -z "$SRC" ] || [ ! -f "$SRC/library/uapkic/src/dstu4145.c" ]; then
  cat >&2 <<EOF
bench/dstu_verify.sh: no UAPKI source given (or it has no library/uapkic/src/dstu4145.c).
The C reference is built from source: clone https://github.com/specinfo-ua/UAPKI, check out
12d8ff2b9eafb8fa2b184fff28990e0923e41e37 (the measured commit), and pass its directory:
  bench/dstu_verify.sh /path/to/UAPKI      or      UAPKI_SRC=/path/to/UAPKI bench/dstu_verify.sh
EOF
  exit 2
fi
SRC="$(cd "$SRC" && pwd)"
UAPKIC="$SRC/library/uapkic"
CC="${CC:-cc}"
read -r -a CFLAGS <<<"${UAPKI_CFLAGS:--O3 -DNDEBUG}"
OUT="$ROOT/target/dstu-bench"
mkdir -p "$OUT/obj"

# The C reference: uapkic's sources (all of them: the library's own self-tests and caches link
# across files), compiled once per source checkout.
stamp="$OUT/obj/.source"
if [ "$(cat "$stamp" 2>/dev/null)" != "$UAPKIC ${CFLAGS[*]}" ] || [ ! -f "$OUT/libuapkic.a" ]; then
  echo "building uapkic from $UAPKIC …" >&2
  rm -f "$OUT"/obj/*.o "$OUT/libuapkic.a"
  for f in "$UAPKIC"/src/*.c; do
    "$CC" "${CFLAGS[@]}" -std=gnu99 -DUAPKIC_STATIC -DUAPKIC_LIBRARY -w \
      -I"$UAPKIC/include" -I"$UAPKIC/src" -c "$f" -o "$OUT/obj/$(basename "$f" .c).o"
  done
  ar rcs "$OUT/libuapkic.a" "$OUT"/obj/*.o
  echo "$UAPKIC ${CFLAGS[*]}" >"$stamp"
fi
"$CC" "${CFLAGS[@]}" -std=gnu99 -DUAPKIC_STATIC -I"$UAPKIC/include" \
  "$ROOT/bench/dstu_verify/uapki_verify.c" "$OUT/libuapkic.a" -lpthread -o "$OUT/uapki_verify"

# kepgate: the example binary, release profile.
(cd "$ROOT" && cargo build --release --locked -p kepgate-signature --example dstu_verify_bench >&2)
RUST="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/dstu_verify_bench"

"$RUST" vectors >"$OUT/vectors.txt"
results="$OUT/results.txt"
: >"$results"
for round in $(seq 1 "$ROUNDS"); do
  "$OUT/uapki_verify" "$ITER" <"$OUT/vectors.txt" >>"$results"
  "$RUST" run "$ITER" >>"$results"
  if [ -n "$OPT" ]; then
    "$OUT/uapki_verify" "$ITER" "$OPT" <"$OUT/vectors.txt" >>"$results"
  fi
  echo "round $round/$ROUNDS done" >&2
done

median() { sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.1f\n", (v[NR/2]+v[NR/2+1])/2}'; }
impls="uapki kepgate"
[ -n "$OPT" ] && impls="uapki uapki-opt kepgate"

echo
echo "DSTU 4145 verification, µs per verification (median of $ROUNDS rounds × $ITER), $(date -u +%F)"
echo "C: $CC ${CFLAGS[*]} ($("$CC" --version | head -1)); Rust: $(rustc --version), release profile"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
header="| curve | UAPKI (C, default)"
sep="|---|---"
[ -n "$OPT" ] && header="$header | UAPKI (C, opt $OPT)" && sep="$sep|---"
echo "$header | kepgate (Rust) | kepgate ÷ UAPKI |"
echo "$sep|---|---|"
for curve in M257 M431; do
  row="| $curve"
  for impl in $impls; do
    m=$(awk -v i="$impl" -v c="$curve" '$1 == i && $2 == c {print $3}' "$results" | median)
    row="$row | $m"
    eval "med_${impl//-/_}=$m"
  done
  ratio=$(awk -v k="$med_kepgate" -v u="$med_uapki" 'BEGIN {printf "%.2f", k / u}')
  echo "$row | $ratio |"
done
echo
echo "every round (µs):"
for impl in $impls; do
  for curve in M257 M431; do
    echo "  $impl $curve: $(awk -v i="$impl" -v c="$curve" '$1 == i && $2 == c {printf "%s ", $3}' "$results")"
  done
done
