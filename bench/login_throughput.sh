#!/usr/bin/env bash
# Scenario 2: full logins per second. N users loop start → SSE pending → the emulator confirms
# (signs, calls back) → SSE confirmed → complete → first cabinet page. Reports logins/s,
# confirm-to-event latency, and where the CPU went (gateway, PostgreSQL, emulator, load generator).
# Usage: bench/login_throughput.sh [SECONDS] [USERS…]   (defaults: 10 s; 8 32 64 users)
# SIGN_ALGO=default|dstu|ecdsa picks what the phone signs with (default: Diia's own, DSTU 4145).
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${1:-10}"; shift || true
USERS=("${@:-8 32 64}"); [ $# -eq 0 ] && USERS=(8 32 64)
bench_build
start_login_stack "sign_algo = \"${SIGN_ALGO:-default}\""
echo "## Full logins ($SECONDS_PER_RUN s per run, sign_algo = ${SIGN_ALGO:-default})"
echo
# Per-statement cost from pg_stat_statements when the server preloads it (it needs
# shared_preload_libraries and a restart, which a benchmark should not do to a shared server).
PGSS=0
if psql -At -h 127.0.0.1 -U postgres -d "$BENCH_DB" -c 'SHOW shared_preload_libraries' | grep -q pg_stat_statements; then
  psql -q -h 127.0.0.1 -U postgres -d "$BENCH_DB" -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' && PGSS=1
fi
# Transactions committed in the benchmark's database (pg_stat_database, as of now: the
# statistics snapshot is cleared first; an idle backend reports its counts within 10 s, hence
# the sleeps around the run), and transaction ids assigned on the whole server:
# PostgreSQL gives a transaction an id only when it writes, and only those flush the WAL at commit.
committed_transactions() {
  psql -At -h 127.0.0.1 -U postgres -d "$BENCH_DB" -c "SELECT pg_stat_clear_snapshot();
    SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()" | tail -1
}
assigned_xids() {
  psql -At -h 127.0.0.1 -U postgres -d "$BENCH_DB" -c "SELECT pg_snapshot_xmax(pg_current_snapshot())"
}
for users in "${USERS[@]}"; do
  sleep 11; commits0=$(committed_transactions); xids0=$(assigned_xids)
  [ "$PGSS" = 1 ] && psql -qAt -h 127.0.0.1 -U postgres -d "$BENCH_DB" -c 'SELECT pg_stat_statements_reset()' >/dev/null
  pg0=$(cpu_seconds postgres)
  gp0=$(pid_cpu_seconds "$GATEWAY_PID"); ep0=$(pid_cpu_seconds "$EMULATOR_PID")
  "$LOADGEN" logins "$GATEWAY" "$EMULATOR" "$users" "$SECONDS_PER_RUN" | tee "$WORK/run.txt" | tail -1 >/dev/null
  pg1=$(cpu_seconds postgres)
  gp1=$(pid_cpu_seconds "$GATEWAY_PID"); ep1=$(pid_cpu_seconds "$EMULATOR_PID")
  xids1=$(assigned_xids); sleep 11; commits1=$(committed_transactions)
  cat "$WORK/run.txt"
  echo
  echo "CPU seconds during the run (of $((SECONDS_PER_RUN * $(nproc))) available): gateway $(echo "$gp1 - $gp0" | bc), Diia emulator $(echo "$ep1 - $ep0" | bc), PostgreSQL $(echo "$pg1 - $pg0" | bc) (the load generator's own CPU is not counted: it has exited when the run is read)"
  echo
  logins=$(awk -F'|' 'NR==3 {gsub(/[ ,]/, "", $3); print $3}' "$WORK/run.txt")
  per_login() { echo "scale=${2:-2}; ($1) / $(( logins > 0 ? logins : 1 ))" | bc; }
  echo "Per login: gateway CPU $(per_login "($gp1 - $gp0) * 1000" 3) ms, PostgreSQL CPU $(per_login "($pg1 - $pg0) * 1000" 3) ms;" \
    "transactions committed $(per_login "$commits1 - $commits0") (this database, read-only ones included: every statement outside BEGIN/COMMIT is one)," \
    "writing transactions $(per_login "$xids1 - $xids0") (transaction ids assigned, whole server)"
  echo
  if [ "$PGSS" = 1 ]; then
    echo "Statements per login (pg_stat_statements, this database, $logins logins):"
    echo
    echo "| statement | calls/login | mean ms | total ms |"
    echo "|---|---|---|---|"
    psql -At -F'|' -h 127.0.0.1 -U postgres -d "$BENCH_DB" -c "
      SELECT regexp_replace(left(regexp_replace(query, '\s+', ' ', 'g'), 90), '[|]', '/', 'g'),
             round(calls::numeric / greatest($logins, 1), 2), round(mean_exec_time::numeric, 3),
             round(total_exec_time::numeric, 0)
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = current_database() AND calls >= $logins / 10
      ORDER BY total_exec_time DESC LIMIT 15" | sed 's/^/| /; s/$/ |/'
    psql -At -h 127.0.0.1 -U postgres -d "$BENCH_DB" -c "
      SELECT 'All statements: ' || round(sum(calls)::numeric / greatest($logins, 1), 1) || ' per login, '
             || round(sum(total_exec_time)::numeric / greatest($logins, 1), 3) || ' ms of execution per login'
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()"
    echo
  fi
done
echo "Gateway RSS after the runs: $(rss_mib "$GATEWAY_PID") MiB"
