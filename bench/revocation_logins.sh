#!/usr/bin/env bash
# Scenario 2b: full logins per second with the certificate status asked of the emulator CA's OCSP
# responder (trust.revocation = "require") — every login asking it (cache cold:
# revocation_cache_max = 0), answers reused from PostgreSQL (cache warm) — against not asking
# ("off"). Alternating rounds in one sitting; each round is one login_throughput.sh run.
# Usage: bench/revocation_logins.sh [SECONDS] [USERS] [ROUNDS]   (defaults: 10 s, 32 users, 2)
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_RUN="${1:-10}"; USERS="${2:-32}"; ROUNDS="${3:-2}"
for round in $(seq "$ROUNDS"); do
  for mode in off cold warm; do
    case "$mode" in
      off) revocation=off; cache=3600 ;;
      cold) revocation=require; cache=0 ;;
      warm) revocation=require; cache=3600 ;;
    esac
    echo "### round $round: $mode (trust.revocation = \"$revocation\", revocation_cache_max = $cache)"
    BENCH_REVOCATION=$revocation BENCH_REVOCATION_CACHE_MAX=$cache \
      ./login_throughput.sh "$SECONDS_PER_RUN" "$USERS" | grep -E '^\|' | head -3
    echo
  done
done
