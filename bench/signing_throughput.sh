#!/usr/bin/env bash
# Scenario 10: document signings per second. USERS people sign in once, then each loops
# POST /api/signing (FILES random files of BYTES bytes) → the signing page → its SSE stream →
# the emulator's phone confirms (one CMS signature per file, called back) → SSE `signed` → the
# result fetched and checked. Once with DSTU 4145 (Diia's default), once with ECDSA, on the same
# stack (the request's `algorithm` overrides the provider's sign_algo). Reports signings/s,
# files/s, confirm-to-event latency, and CPU per signing and per signed file.
# Usage: bench/signing_throughput.sh [SECONDS] [USERS] [FILES] [BYTES]   (defaults: 10 16 3 4096)
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${1:-10}"; USERS="${2:-16}"; FILES="${3:-3}"; BYTES="${4:-4096}"
bench_build
start_login_stack 'sign_algo = "default"'
echo "## Document signings ($SECONDS_PER_RUN s per run, $USERS users, $FILES files × $BYTES bytes)"
echo
machine_line
echo
for algorithm in dstu4145 ecdsa; do
  pg0=$(cpu_seconds postgres)
  gp0=$(pid_cpu_seconds "$GATEWAY_PID"); ep0=$(pid_cpu_seconds "$EMULATOR_PID")
  # CPU is read around the whole command: the USERS sign-ins before the timed loop are in it
  # (a few ms each, section 2 of docs/benchmarks.md; small next to a run's signings).
  "$LOADGEN" signings "$GATEWAY" "$EMULATOR" "$USERS" "$SECONDS_PER_RUN" "$FILES" "$BYTES" "$algorithm" >"$WORK/run.txt"
  pg1=$(cpu_seconds postgres)
  gp1=$(pid_cpu_seconds "$GATEWAY_PID"); ep1=$(pid_cpu_seconds "$EMULATOR_PID")
  cat "$WORK/run.txt"
  echo
  signings=$(awk -F'|' 'NR==3 {gsub(/[ ,]/, "", $5); print $5}' "$WORK/run.txt")
  files=$(awk -F'|' 'NR==3 {gsub(/[ ,]/, "", $6); print $6}' "$WORK/run.txt")
  per() { echo "scale=3; ($1) * 1000 / $(( $2 > 0 ? $2 : 1 ))" | bc; }
  echo "CPU seconds during the run, $USERS sign-ins included (of $((SECONDS_PER_RUN * $(nproc))) available): gateway $(echo "$gp1 - $gp0" | bc), Diia emulator $(echo "$ep1 - $ep0" | bc), PostgreSQL $(echo "$pg1 - $pg0" | bc)"
  echo
  echo "| $algorithm | per signing ms | per signed file ms |"
  echo "|---|---|---|"
  echo "| gateway CPU | $(per "$gp1 - $gp0" "$signings") | $(per "$gp1 - $gp0" "$files") |"
  echo "| Diia emulator CPU | $(per "$ep1 - $ep0" "$signings") | $(per "$ep1 - $ep0" "$files") |"
  echo "| PostgreSQL CPU | $(per "$pg1 - $pg0" "$signings") | $(per "$pg1 - $pg0" "$files") |"
  echo
done
echo "Gateway RSS after the runs: $(rss_mib "$GATEWAY_PID") MiB"
