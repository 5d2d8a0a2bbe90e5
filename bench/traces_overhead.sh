#!/usr/bin/env bash
# Scenario 11: what traces cost. The same gateway with `[log.traces]` off and on (exporting to a
# real OTLP/HTTP receiver, tests/tools/otlp_receiver.py --count, on the same machine), in
# alternating rounds of one sitting: proxied requests into the sample cabinet at a fixed rate
# (open loop, loadgen rate), then full logins (loadgen logins); the gateway's CPU seconds for each.
# Usage: bench/traces_overhead.sh [SECONDS] [USERS] [RATE] [ROUNDS]   (defaults 10 32 1000 2)
# BENCH_BIN and BENCH_LOADGEN as in lib.sh (e.g. an A/B of debug builds when there is no time for
# release ones).
set -euo pipefail
SECONDS_PER_RUN="${1:-10}"; USERS="${2:-32}"; RATE="${3:-1000}"; ROUNDS="${4:-2}"

if [ -z "${TRACES_MODE:-}" ]; then
  source "$(dirname "$0")/lib.sh"
  bench_build
  PYTHON_TOOLS="${KEPGATE_PYTHON_TOOLS:-$("$ROOT/scripts/ensure-python-tools.sh")}"
  echo "| round | traces | proxied answered | errors | p50 | p99 | gateway CPU ms / 1000 proxied | logins/s | gateway CPU ms / login | spans exported |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for round in $(seq "$ROUNDS"); do
    for mode in off on; do
      TRACES_MODE=$mode ROUND=$round KEPGATE_PYTHON_TOOLS="$PYTHON_TOOLS" BENCH_BIN="$BIN" BENCH_LOADGEN="$LOADGEN" \
        "$0" "$SECONDS_PER_RUN" "$USERS" "$RATE"
    done
  done
  exit 0
fi

# One round in one mode: its own stack, ended with this process.
source "$(dirname "$0")/lib.sh"
sections=""
spans="-"
if [ "$TRACES_MODE" = on ]; then
  "$KEPGATE_PYTHON_TOOLS/bin/python" "$ROOT/tests/tools/otlp_receiver.py" --count >"$WORK/receiver.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q '^port ' "$WORK/receiver.out" 2>/dev/null && break; sleep 0.05; done
  RECEIVER="http://127.0.0.1:$(awk '/^port / {print $2}' "$WORK/receiver.out")"
  sections=$(printf '[log.traces]\nenabled = true\nendpoint = "%s/v1/traces"\n' "$RECEIVER")
fi
start_login_stack "" "$sections"
COOKIE=$("$LOADGEN" session "$GATEWAY" "$EMULATOR")

cpu0=$(pid_cpu_seconds "$GATEWAY_PID")
# RATE per_second ok errors p50 p90 p99 p99.9
proxied=$("$LOADGEN" rate "$GATEWAY/" "$RATE" "$SECONDS_PER_RUN" "$COOKIE")
cpu1=$(pid_cpu_seconds "$GATEWAY_PID")
logins=$("$LOADGEN" logins "$GATEWAY" "$EMULATOR" "$USERS" "$SECONDS_PER_RUN" | awk -F'|' 'NR==3')
cpu2=$(pid_cpu_seconds "$GATEWAY_PID")

answered=$(echo "$proxied" | awk '{print $3}')
login_count=$(echo "$logins" | awk -F'|' '{gsub(/[ ,]/, "", $3); print $3}')
per_second=$(echo "$logins" | awk -F'|' '{gsub(/ /, "", $5); print $5}')
if [ "$TRACES_MODE" = on ]; then
  # The batch left at the end is exported at shutdown; what arrived during the runs is counted.
  sleep 6
  spans=$(curl -fsS "$RECEIVER/spans" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
fi
answered_n=$(( ${answered:-0} > 0 ? ${answered:-0} : 1 ))
logins_n=$(( ${login_count:-0} > 0 ? ${login_count:-0} : 1 ))
echo "$proxied" | awk -v round="$ROUND" -v mode="$TRACES_MODE" \
  -v proxy_ms="$(echo "scale=1; ($cpu1 - $cpu0) * 1000000 / $answered_n" | bc)" \
  -v per_second="$per_second" -v login_ms="$(echo "scale=2; ($cpu2 - $cpu1) * 1000 / $logins_n" | bc)" \
  -v spans="$spans" \
  '{printf "| %s | %s | %s | %s | %s ms | %s ms | %s | %s | %s | %s |\n", round, mode, $3, $4, $5, $7, proxy_ms, per_second, login_ms, spans}'
