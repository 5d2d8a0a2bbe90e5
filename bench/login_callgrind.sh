#!/usr/bin/env bash
# The gateway's instructions per login, counted by valgrind's callgrind: a fixed number of full
# logins (as bench/login_throughput.sh, after a warm-up) with the gateway under callgrind, total
# instructions (Ir) divided by the logins. Unlike CPU seconds, the count does not depend on what
# else the machine runs, so an A/B of two builds holds on a busy machine.
# Usage: bench/login_callgrind.sh [LOGINS] [USERS] [WARMUP]   (defaults: 200 logins, 4 users, 20)
# SIGN_ALGO=default|dstu|ecdsa as in login_throughput.sh. BENCH_BIN=… measures a given binary
# (build it with symbols, as BENCH_SYMBOLS=1 does, to read the profile). CALLGRIND_OUT=DIR keeps
# the profile there (for callgrind_annotate); CALLGRIND_IDLE=1 also counts the gateway idle for as
# long as the logins took (its timers: the waiting count, the sweeper), to tell them apart.
export BENCH_SYMBOLS="${BENCH_SYMBOLS:-1}"
source "$(dirname "$0")/lib.sh"
LOGINS="${1:-200}"; USERS="${2:-4}"; WARMUP="${3:-20}"
OUT="${CALLGRIND_OUT:-$WORK}"
mkdir -p "$OUT"
export BENCH_GATEWAY_WRAPPER="valgrind --tool=callgrind --callgrind-out-file=$OUT/callgrind.out.%p"
bench_build
start_login_stack "sign_algo = \"${SIGN_ALGO:-default}\""
"$LOADGEN" logins-count "$GATEWAY" "$EMULATOR" "$USERS" "$WARMUP" >/dev/null

# Dumps the gateway's counts so far into a new file; prints that file's total Ir.
dump_ir() {
  local before after
  before=$(ls "$OUT"/callgrind.out."$GATEWAY_PID".* 2>/dev/null | wc -l)
  callgrind_control -d "$GATEWAY_PID" >/dev/null
  for _ in $(seq 600); do
    after=$(ls "$OUT"/callgrind.out."$GATEWAY_PID".* 2>/dev/null | wc -l)
    [ "$after" -gt "$before" ] && break
    sleep 0.1
  done
  sleep 0.5 # the dump is written out
  awk '/^(summary|totals):/ {print $2; exit}' "$(ls -t "$OUT"/callgrind.out."$GATEWAY_PID".* | head -1)"
}

callgrind_control -z "$GATEWAY_PID" >/dev/null
t0=$(date +%s.%N)
"$LOADGEN" logins-count "$GATEWAY" "$EMULATOR" "$USERS" "$LOGINS" >/dev/null
t1=$(date +%s.%N)
ir=$(dump_ir)
echo "sign_algo=${SIGN_ALGO:-default} logins=$LOGINS users=$USERS: gateway Ir total $ir," \
  "per login $(echo "$ir / $LOGINS" | bc) ($(echo "$t1 - $t0" | bc | cut -c1-6) s under callgrind)"
echo "profile: $(ls -t "$OUT"/callgrind.out."$GATEWAY_PID".* | head -1)"
if [ "${CALLGRIND_IDLE:-0}" = 1 ]; then
  callgrind_control -z "$GATEWAY_PID" >/dev/null
  sleep "$(echo "$t1 - $t0" | bc)"
  idle=$(dump_ir)
  echo "idle for as long: Ir $idle ($(echo "$idle / $LOGINS" | bc) per login's share)"
fi
