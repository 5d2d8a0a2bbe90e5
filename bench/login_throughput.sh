#!/usr/bin/env bash
# Scenario 2: full logins per second. N users loop start → SSE pending → the emulator confirms
# (signs, calls back) → SSE confirmed → complete → first cabinet page. Reports logins/s,
# confirm-to-event latency, and where the CPU went (gateway, PostgreSQL, emulator, load generator).
# Usage: bench/login_throughput.sh [SECONDS] [USERS…]   (defaults: 10 s; 8 32 64 users)
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${1:-10}"; shift || true
USERS=("${@:-8 32 64}"); [ $# -eq 0 ] && USERS=(8 32 64)
bench_build
start_login_stack
echo "## Full logins ($SECONDS_PER_RUN s per run)"
echo
for users in "${USERS[@]}"; do
  gw0=$(cpu_seconds kepgate); pg0=$(cpu_seconds postgres); lg0=$(cpu_seconds kepgate-loadgen)
  "$LOADGEN" logins "$GATEWAY" "$EMULATOR" "$users" "$SECONDS_PER_RUN" | tee "$WORK/run.txt" | tail -1 >/dev/null
  gw1=$(cpu_seconds kepgate); pg1=$(cpu_seconds postgres); lg1=$(cpu_seconds kepgate-loadgen)
  cat "$WORK/run.txt"
  echo
  echo "CPU seconds during the run: kepgate processes (gateway+emulator+cabinet) $(echo "$gw1 - $gw0" | bc), PostgreSQL $(echo "$pg1 - $pg0" | bc)"
  echo
done
echo "Gateway RSS after the runs: $(rss_mib "$GATEWAY_PID") MiB"
