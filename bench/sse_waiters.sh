#!/usr/bin/env bash
# Scenario 3: W browsers waiting on SSE at once on one gateway process: its RSS, its database
# connections (one LISTEN connection expected), and confirm-to-event latency of probe logins
# completing while they all wait.
# Usage: bench/sse_waiters.sh [WAITERS] [PROBES] [PROBE_CONCURRENCY]   (defaults 10000 200 4)
source "$(dirname "$0")/lib.sh"
WAITERS="${1:-10000}"; PROBES="${2:-200}"; CONC="${3:-4}"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
bench_build
start_login_stack
idle=$(rss_mib "$GATEWAY_PID")
"$LOADGEN" waiters "$GATEWAY" "$EMULATOR" "$WAITERS" "$PROBES" "$CONC" >"$WORK/waiters.txt" 2>"$WORK/waiters.err" &
lg=$!
until grep -q SAMPLE_NOW "$WORK/waiters.txt" 2>/dev/null; do
  kill -0 "$lg" 2>/dev/null || { cat "$WORK/waiters.err"; exit 1; }
  sleep 0.5
done
rss=$(rss_mib "$GATEWAY_PID")
conns=$(psql -At -h 127.0.0.1 -U postgres -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$BENCH_DB' AND application_name = 'kepgate'")
listen=$(psql -At -h 127.0.0.1 -U postgres -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$BENCH_DB' AND query ILIKE 'LISTEN%'")
wait "$lg"
echo "## $WAITERS browsers waiting on SSE"
echo
echo "| gateway RSS idle MiB | RSS with waiters MiB | DB connections (pool) | of them LISTEN |"
echo "|---|---|---|---|"
echo "| $idle | $rss | $conns | $listen |"
echo
grep -v -E '^(WAITERS_OPEN|SAMPLE_NOW)' "$WORK/waiters.txt"
grep -E 'waiters open' "$WORK/waiters.err" || true
