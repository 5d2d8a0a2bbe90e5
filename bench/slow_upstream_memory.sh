#!/usr/bin/env bash
# A stalled cabinet under load: ROUNDS rounds of N concurrent requests through a kepgate process
# (release build) to the sample cabinet's /slow (which answers after a minute), on a route whose
# response_timeout is TIMEOUT seconds, so every request ends in kepgate's 504 page. Reports the
# answers, /healthz's latency while all of them are in flight, and the gateway's resident memory
# before, after each round and at its peak. Loopback only; bounded: ROUNDS × N requests.
# Usage: bench/slow_upstream_memory.sh [N] [ROUNDS] [TIMEOUT]   (default 1000 8 5)
source "$(dirname "$0")/lib.sh"
N="${1:-1000}"
ROUNDS="${2:-8}"
TIMEOUT="${3:-5}"
"$ROOT/scripts/ensure-postgres.sh"
(cd "$ROOT" && SQLX_OFFLINE=true cargo build --release --locked --features demo --bin kepgate >/dev/null 2>&1)

gw=$(free_port); cab=$(free_port)
env -i PATH="$PATH" "$BIN" cabinet --listen "127.0.0.1:$cab" >"$WORK/cabinet.log" 2>&1 &
PIDS+=($!)
cat >"$WORK/kepgate.toml" <<TOML
[server]
listen = "127.0.0.1:$gw"
base_url = "http://127.0.0.1:$gw/"
# Every load comes from 127.0.0.1: no cap on connections per address.
max_connections_per_address = 0
[database]
url = "postgres://postgres@127.0.0.1:5432/kepgate_bench"
[metrics]
enabled = false
[log]
filter = "error"
[routes.stalled]
prefix = "/"
upstream = "http://127.0.0.1:$cab/"
response_timeout = $TIMEOUT
# Public, so the benchmark needs no login; the timeout path is the same as for sessions.
public = true
TOML
env -i PATH="$PATH" "$BIN" serve --config "$WORK/kepgate.toml" >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
PIDS+=($GATEWAY_PID)
wait_http "http://127.0.0.1:$gw/.kepgate/healthz"
wait_http "http://127.0.0.1:$cab/echo"

# N connections at once, one request each; prints "<seconds> <status>:<count> …".
cat >"$WORK/burst.py" <<'PY'
import asyncio, collections, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
async def one(i):
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(f"GET /slow?ms=60000&i={i} HTTP/1.1\r\nHost: bench\r\nAccept: text/html\r\n"
                "Connection: close\r\n\r\n".encode())
        await w.drain()
        data = await r.read()
        w.close()
        return data.split(b" ", 2)[1].decode() if data else "closed"
    except OSError as e:
        return type(e).__name__
async def main():
    started = time.monotonic()
    answers = collections.Counter(await asyncio.gather(*(one(i) for i in range(n))))
    print(f"{time.monotonic() - started:.1f}", " ".join(f"{k}:{v}" for k, v in sorted(answers.items())))
asyncio.run(main())
PY

before=$(rss_mib "$GATEWAY_PID")
rows=""
for round in $(seq 1 "$ROUNDS"); do
  python3 "$WORK/burst.py" "$gw" "$N" >"$WORK/round" &
  burst=$!
  # While the burst is in flight (well inside the timeout): the probe, and the memory then.
  sleep "$(echo "$TIMEOUT / 2" | bc -l)"
  probe=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$gw/.kepgate/healthz")
  during=$(rss_mib "$GATEWAY_PID")
  wait "$burst"
  sleep 1
  after=$(rss_mib "$GATEWAY_PID")
  fds=$(ls "/proc/$GATEWAY_PID/fd" | wc -l)
  read -r seconds answers <"$WORK/round"
  rows+="| $round | $answers | $seconds | ${probe% *} in $(printf '%.1f' "$(echo "${probe#* } * 1000" | bc -l)") ms | $during | $after | $fds |"$'\n'
done
peak=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$GATEWAY_PID/status")

echo "$N concurrent requests per round to a cabinet that answers after 60 s; route response_timeout = ${TIMEOUT} s."
printf '\n| round | answers | seconds | /healthz meanwhile | RSS during (MiB) | RSS after (MiB) | open fds after |\n|---|---|---|---|---|---|---|\n'
printf '%s' "$rows"
printf '\n| gateway RSS | MiB |\n|---|---|\n| before | %s |\n| peak (VmHWM) | %s |\n' "$before" "$peak"
machine_line
