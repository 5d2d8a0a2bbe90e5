#!/usr/bin/env bash
# Scenario 11: what traces cost. The same gateway with `[log.traces]` off and on (exporting to a
# real OTLP/HTTP receiver, tests/tools/otlp_receiver.py --count, on the same machine), in
# alternating rounds of one sitting: PROXIED requests into the sample cabinet with a session, then
# LOGINS full logins through the Diia emulator, one at a time (bench/traces_drive.py); the
# gateway's CPU time per request and per login, and the client's wall time per each.
# Usage: bench/traces_overhead.sh [PROXIED] [LOGINS] [ROUNDS]   (defaults 2000 100 2)
# BENCH_BIN as in lib.sh (e.g. an A/B of a debug build when there is no time for a release one).
set -euo pipefail
PROXIED="${1:-2000}"; LOGINS="${2:-100}"; ROUNDS="${3:-2}"

if [ -z "${TRACES_MODE:-}" ]; then
  source "$(dirname "$0")/lib.sh"
  "$ROOT/scripts/ensure-postgres.sh"
  [ -n "${BENCH_BIN:-}" ] ||
    (cd "$ROOT" && SQLX_OFFLINE=true cargo build --release --locked --features demo --bin kepgate >/dev/null 2>&1)
  PYTHON_TOOLS="${KEPGATE_PYTHON_TOOLS:-$("$ROOT/scripts/ensure-python-tools.sh")}"
  echo "| round | traces | proxied | gateway CPU µs / proxied | wall µs / proxied | logins | gateway CPU ms / login | wall ms / login | spans exported |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for round in $(seq "$ROUNDS"); do
    for mode in off on; do
      TRACES_MODE=$mode ROUND=$round KEPGATE_PYTHON_TOOLS="$PYTHON_TOOLS" BENCH_BIN="$BIN" \
        "$0" "$PROXIED" "$LOGINS"
    done
  done
  exit 0
fi

# One round in one mode: its own stack, ended with this process.
source "$(dirname "$0")/lib.sh"
DRIVE="python3 $ROOT/bench/traces_drive.py"
sections=""
spans="-"
if [ "$TRACES_MODE" = on ]; then
  "$KEPGATE_PYTHON_TOOLS/bin/python" "$ROOT/tests/tools/otlp_receiver.py" --count >"$WORK/receiver.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q '^port ' "$WORK/receiver.out" 2>/dev/null && break; sleep 0.05; done
  RECEIVER="http://127.0.0.1:$(awk '/^port / {print $2}' "$WORK/receiver.out")"
  sections=$(printf '[log.traces]\nenabled = true\nendpoint = "%s/v1/traces"\n' "$RECEIVER")
fi
# The certificate status asked at every login, as in production (lib.sh's default is "off").
BENCH_REVOCATION=require start_login_stack "" "$sections"
COOKIE=$($DRIVE session "$GATEWAY" "$EMULATOR")

cpu0=$(pid_cpu_seconds "$GATEWAY_PID"); t0=$(date +%s%N)
proxied_ok=$($DRIVE proxied "$GATEWAY" "$COOKIE" "$PROXIED")
cpu1=$(pid_cpu_seconds "$GATEWAY_PID"); t1=$(date +%s%N)
logins_ok=$($DRIVE logins "$GATEWAY" "$EMULATOR" "$LOGINS")
cpu2=$(pid_cpu_seconds "$GATEWAY_PID"); t2=$(date +%s%N)
if [ "$TRACES_MODE" = on ]; then
  # The SDK exports a batch every 5 s; what arrived by then is counted.
  sleep 6
  spans=$(curl -fsS "$RECEIVER/spans" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
fi
p=$(( proxied_ok > 0 ? proxied_ok : 1 )); l=$(( logins_ok > 0 ? logins_ok : 1 ))
echo "| $ROUND | $TRACES_MODE | $proxied_ok | $(echo "scale=0; ($cpu1 - $cpu0) * 1000000 / $p" | bc) |" \
  "$(( (t1 - t0) / 1000 / p )) | $logins_ok | $(echo "scale=2; ($cpu2 - $cpu1) * 1000 / $l" | bc) |" \
  "$(( (t2 - t1) / 1000000 / l )) | $spans |"
