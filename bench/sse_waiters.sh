#!/usr/bin/env bash
# Scenario 3: W browsers waiting on SSE at once on one gateway process: its RSS, its database
# connections (one LISTEN connection expected), and confirm-to-event latency of probe logins
# completing while they all wait.
# Usage: bench/sse_waiters.sh [WAITERS] [PROBES] [PROBE_CONCURRENCY]   (defaults 10000 200 4)
# SSE_TLS=1: the browsers wait on a replica serving HTTPS itself, each on its own HTTP/2
# connection (the probes' callbacks reach the plain replica; NOTIFY tells the other).
source "$(dirname "$0")/lib.sh"
WAITERS="${1:-10000}"; PROBES="${2:-200}"; CONC="${3:-4}"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
bench_build
start_login_stack
WAITED_ON="$GATEWAY"; WAITED_PID="$GATEWAY_PID"; PROTOCOL="HTTP/1.1"
if [ "${SSE_TLS:-0}" = 1 ]; then
  start_tls_replica
  WAITED_ON="$GATEWAY_TLS"; WAITED_PID="$GATEWAY_TLS_PID"; PROTOCOL="HTTP/2 over TLS"
  export LOADGEN_CA_FILE="$TLS_CA"
fi
idle=$(rss_mib "$WAITED_PID")
"$LOADGEN" waiters "$WAITED_ON" "$EMULATOR" "$WAITERS" "$PROBES" "$CONC" >"$WORK/waiters.txt" 2>"$WORK/waiters.err" &
lg=$!
until grep -q SAMPLE_NOW "$WORK/waiters.txt" 2>/dev/null; do
  kill -0 "$lg" 2>/dev/null || { cat "$WORK/waiters.err"; exit 1; }
  sleep 0.5
done
rss=$(rss_mib "$WAITED_PID")
# LOADGEN_HOLD_SECS=N: the browsers wait N s more and the RSS is read again (memory the
# allocator gives back once the connections' setup garbage is purged).
until grep -q SAMPLE_AGAIN "$WORK/waiters.txt" 2>/dev/null; do
  kill -0 "$lg" 2>/dev/null || break
  sleep 0.5
done
rss_later=$(rss_mib "$WAITED_PID")
conns=$(psql -At -h 127.0.0.1 -U postgres -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$BENCH_DB' AND application_name = 'kepgate'")
listen=$(psql -At -h 127.0.0.1 -U postgres -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$BENCH_DB' AND query ILIKE 'LISTEN%'")
wait "$lg"
echo "## $WAITERS browsers waiting on SSE ($PROTOCOL)"
echo
echo "| gateway RSS idle MiB | RSS with waiters MiB | the same ${LOADGEN_HOLD_SECS:-3} s later | DB connections (pool) | of them LISTEN |"
echo "|---|---|---|---|---|"
echo "| $idle | $rss | $rss_later | $conns | $listen |"
echo
grep -v -E '^(WAITERS_OPEN|SAMPLE_NOW|SAMPLE_AGAIN)' "$WORK/waiters.txt"
grep -E 'waiters open' "$WORK/waiters.err" || true
