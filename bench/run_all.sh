#!/usr/bin/env bash
# Runs every kepgate benchmark and prints their tables (Markdown). Loopback only, bounded.
# Usage: bench/run_all.sh > results.md
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh >/dev/null
machine_line
echo
echo "# 1. Proxy throughput and latency"; echo; ./proxy_throughput.sh 10 64
echo "# 1b. Against nginx, HAProxy and Caddy; over TLS against nginx"; echo; ./proxy_compare.sh 3 10 64
echo "# 2. Full logins per second"; echo; ./login_throughput.sh 10 8 32 64
echo "# 2b. Logins with the certificate status (OCSP) on and off"; echo; ./revocation_logins.sh 10 32 2
echo "# 3. Browsers waiting on SSE"; echo; ./sse_waiters.sh 10000 200 4
echo "# 4. Footprint"; echo; ./footprint.sh
echo "# 5. Streaming memory"; echo; ./proxy_stream_memory.sh 200
echo "# 6. A stalled cabinet under load"; echo; ./slow_upstream_memory.sh 1000 8 5
if [ -n "${UAPKI_SRC:-}" ]; then
  echo "# 7. DSTU 4145 verification against UAPKI's C"; echo; ./dstu_verify.sh "$UAPKI_SRC"
fi
echo "# 8. A rolling restart under load"; echo; ./rolling_restart.sh 2 8 100
echo "# 9. OpenID Connect round trips with a warm session"; echo; ./oidc_roundtrips.sh 10 16 3
echo "# 10. Document signing"; echo; ./signing_throughput.sh 10 16 3 4096
echo "# 11. Traces off and on"; echo; ./traces_overhead.sh 2000 100 2
