#!/usr/bin/env bash
# Instructions per proxied request: the gateway runs under valgrind's callgrind, its counters are
# zeroed after a warm-up, wrk sends SECONDS of 1 KiB (or 64 KiB) requests with a session through
# it to an nginx file upstream, and the total is divided by the requests wrk counted. Counting
# instructions, not time, makes an A/B of two builds repeatable on a busy machine (the count does
# not move with the other core's load); the throughput A/B stays bench/proxy_compare.sh's job.
# The profile is kept, for callgrind_annotate, when PROFILE_OUT names a file.
# CALLGRIND=0: the same stack without valgrind, wrk -t2 -c64 for SECONDS: requests/s and the
# gateway's CPU per request (how the allocators were compared; noisy, so A/B in one sitting).
# PROXY=nginx or PROXY=haproxy measures that proxy instead of kepgate, the same way (one nginx
# worker without a master process, or one HAProxy thread, keep-alive to the same upstream): what
# the same request costs the proxies kepgate is compared with.
# Usage: [BENCH_BIN=…] [PROFILE_OUT=file] [CALLGRIND=0] [PROXY=kepgate|nginx|haproxy]
#   bench/proxy_instructions.sh [1k|64k] [SECONDS]
#   (defaults 1k 15; BENCH_SYMBOLS=1 for a profile with function names)
source "$(dirname "$0")/lib.sh"
SIZE="${1:-1k}"; SECONDS_MEASURED="${2:-15}"
CALLGRIND="${CALLGRIND:-1}"; PROXY="${PROXY:-kepgate}"
"$ROOT/scripts/ensure-packages.sh" valgrind haproxy >&2
bench_build
WRAPPER=()
if [ "$CALLGRIND" = 1 ]; then
  WRAPPER=(valgrind --tool=callgrind "--callgrind-out-file=$WORK/callgrind.out")
  [ "$PROXY" = kepgate ] && export BENCH_GATEWAY_WRAPPER="${WRAPPER[*]}"
fi
mkdir -p "$WORK/www/files" "$WORK/nginx"
head -c 1024 /dev/urandom > "$WORK/www/files/1k.bin"
head -c 65536 /dev/urandom > "$WORK/www/files/64k.bin"
chmod 755 "$WORK" "$WORK/www" "$WORK/www/files"; chmod 644 "$WORK/www/files/"*
UP=$(free_port)
{ nginx_config_head "$WORK/nginx" 1 1024
  cat <<NGINX
  server { listen 127.0.0.1:$UP; root $WORK/www; }
}
NGINX
} >"$WORK/nginx/nginx.conf"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx/stderr.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$UP/files/1k.bin"
HEADER=()
case "$PROXY" in
kepgate)
  start_login_stack "$(printf '[proxy]\ntrusted_proxies = ["127.0.0.1/32"]\n[routes.files]\nprefix = "/files"\nupstream = "http://127.0.0.1:%s/"\n' "$UP")"
  COOKIE=$("$LOADGEN" session "$GATEWAY" "$EMULATOR")
  HEADER=(-H "Cookie: $COOKIE")
  URL="$GATEWAY/files/$SIZE.bin" ;;
nginx)
  PORT=$(free_port)
  mkdir -p "$WORK/proxy"
  { nginx_config_head "$WORK/proxy" 1 1024 "master_process off;"
    cat <<NGINX
  upstream files { server 127.0.0.1:$UP; keepalive 128; }
  server {
    listen 127.0.0.1:$PORT;
    location / { proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
  } >"$WORK/proxy/nginx.conf"
  "${WRAPPER[@]}" nginx -c "$WORK/proxy/nginx.conf" -p "$WORK/proxy" >"$WORK/proxy/stderr.log" 2>&1 &
  GATEWAY_PID=$!; PIDS+=($!)
  URL="http://127.0.0.1:$PORT/files/$SIZE.bin" ;;
haproxy)
  PORT=$(free_port)
  cat >"$WORK/haproxy.cfg" <<CFG
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  http-reuse always
frontend files
  bind 127.0.0.1:$PORT
  default_backend upstream
backend upstream
  server files 127.0.0.1:$UP
CFG
  "${WRAPPER[@]}" haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
  GATEWAY_PID=$!; PIDS+=($!)
  URL="http://127.0.0.1:$PORT/files/$SIZE.bin" ;;
*) echo "PROXY: kepgate, nginx or haproxy" >&2; exit 2 ;;
esac
[ "$PROXY" = kepgate ] || wait_http "$URL" 600
# Warm: pooled upstream connections, the session in the cache, the assertion signed.
wrk -t1 -c8 -d5s "${HEADER[@]}" "$URL" >/dev/null
if [ "$CALLGRIND" != 1 ]; then
  before=$(pid_cpu_seconds "$GATEWAY_PID")
  out=$(wrk -t2 -c64 -d"${SECONDS_MEASURED}s" "${HEADER[@]}" "$URL")
  after=$(pid_cpu_seconds "$GATEWAY_PID")
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  echo "| $PROXY | $SIZE | $rps requests/s | $(echo "($after - $before) * 1000000 / $requests" | bc) µs gateway CPU per request |"
  exit 0
fi
callgrind_control -z "$GATEWAY_PID" >/dev/null
out=$(wrk -t1 -c8 -d"${SECONDS_MEASURED}s" "${HEADER[@]}" "$URL")
if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then echo "bench: $(echo "$out" | grep -E 'Non-2xx|Socket errors')" >&2; exit 1; fi
requests=$(echo "$out" | awk '/requests in/ {print $1}')
callgrind_control -d "$GATEWAY_PID" >/dev/null
sleep 1
profile=$(ls -t "$WORK"/callgrind.out* | head -1)
total=$(callgrind_annotate "$profile" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
[ -n "${PROFILE_OUT:-}" ] && cp "$profile" "$PROFILE_OUT"
echo "| $PROXY | $SIZE | $requests | $total | $((total / requests)) |"
