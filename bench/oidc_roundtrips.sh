#!/usr/bin/env bash
# kepgate as an OpenID Provider: authorization-code round trips per second with a warm session.
# One person signs in once (the emulator); then CONCURRENCY relying parties loop authorize (the
# session cookie; the 303 to the redirect URI not followed) → token (client_secret_basic, PKCE
# S256) → userinfo (Bearer), a fresh state, nonce, verifier and code every time. Reports round
# trips/s, latency, and the CPU of the gateway, PostgreSQL and the load generator per round trip;
# ROUNDS runs, each after the machine is quiet (no builds or test suites), and their medians.
# Usage: bench/oidc_roundtrips.sh [SECONDS] [CONCURRENCY] [ROUNDS]   (defaults: 10 s, 16, 3)
source "$(dirname "$0")/lib.sh"
SECONDS_PER_RUN="${1:-10}"; CONCURRENCY="${2:-16}"; ROUNDS="${3:-3}"
CLIENT_ID="bench-rp"
CLIENT_SECRET="bench-rp-secret-$(date +%s)-0123456789abcdef"
REDIRECT_URI="http://127.0.0.1:9/cb"
bench_build
start_login_stack "" "[oidc]
enabled = true
[oidc.clients.$CLIENT_ID]
name = \"Benchmark relying party\"
redirect_uris = [\"$REDIRECT_URI\"]
secret_sha256 = \"$(printf %s "$CLIENT_SECRET" | sha256sum | cut -d' ' -f1)\"
scopes = [\"openid\", \"profile\", \"kep\"]"
pg_setting() { psql -At -h 127.0.0.1 -U postgres -d "$BENCH_DB" -c "SHOW $1"; }
echo "## OpenID Connect round trips with a warm session ($SECONDS_PER_RUN s per run, $CONCURRENCY concurrent, $ROUNDS rounds)"
echo
echo "authorize → token (client_secret_basic, PKCE S256) → userinfo, scope \`openid profile kep\`, a nonce; PostgreSQL synchronous_commit = $(pg_setting synchronous_commit), fsync = $(pg_setting fsync)"
echo
SUMMARY=()
for round in $(seq 1 "$ROUNDS"); do
  wait_quiet 1200
  pg0=$(cpu_seconds postgres); gp0=$(pid_cpu_seconds "$GATEWAY_PID")
  TIMEFORMAT='%U %S'
  { time "$LOADGEN" oidc "$GATEWAY" "$EMULATOR" "$CLIENT_ID" "$CLIENT_SECRET" "$REDIRECT_URI" \
      "$CONCURRENCY" "$SECONDS_PER_RUN" >"$WORK/run.txt" 2>"$WORK/run.err"; } 2>"$WORK/time.txt"
  pg1=$(cpu_seconds postgres); gp1=$(pid_cpu_seconds "$GATEWAY_PID")
  echo "### Round $round (machine: $QUIET)"
  echo
  cat "$WORK/run.txt"
  [ -s "$WORK/run.err" ] && sed 's/^/    /' "$WORK/run.err"
  lg=$(awk '{print $1 + $2}' "$WORK/time.txt")
  gw=$(echo "$gp1 - $gp0" | bc); pg=$(echo "$pg1 - $pg0" | bc)
  echo
  echo "CPU seconds during the run (of $((SECONDS_PER_RUN * $(nproc))) available): gateway $gw, PostgreSQL $pg, load generator $lg (its sign-in included)"
  echo
  # The table's data row: | concurrency | round trips | errors | round trips/s | p50 | p99 | max | steps |
  row=$(awk 'NR==3' "$WORK/run.txt")
  trips=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $3); print $3}')
  SUMMARY+=("$(echo "$row" | awk -F'|' -v r="$round" -v q="$QUIET" -v gw="$gw" -v pg="$pg" -v lg="$lg" -v n="$trips" '
    function ms(cpu) { return n > 0 ? sprintf("%.2f", cpu * 1000 / n) : "n/a" }
    { gsub(/^ +| +$/, "", $3); gsub(/^ +| +$/, "", $4); gsub(/^ +| +$/, "", $5); gsub(/^ +| +$/, "", $6); gsub(/^ +| +$/, "", $7)
      printf "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n", r, q, $3, $4, $5, $6, $7, ms(gw), ms(pg), ms(lg) }')")
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
column_median() { printf '%s\n' "${SUMMARY[@]}" | cut -d'|' -f"$1" | median; }
echo "| round | machine | round trips | errors | round trips/s | p50 ms | p99 ms | gateway CPU ms / round trip | PostgreSQL CPU ms / round trip | load generator CPU ms / round trip |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for line in "${SUMMARY[@]}"; do echo "| ${line//|/ | } |"; done
echo "| **median** | | $(column_median 3) | $(column_median 4) | **$(column_median 5)** | $(column_median 6) | $(column_median 7) | $(column_median 8) | $(column_median 9) | $(column_median 10) |"
echo
echo "Gateway RSS after the runs: $(rss_mib "$GATEWAY_PID") MiB"
