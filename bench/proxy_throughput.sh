#!/usr/bin/env bash
# Scenario 1: the same small upstream (nginx serving 1 KiB and 64 KiB files) reached
# (a) directly, (b) through nginx as a plain reverse proxy, (c) through kepgate with a valid
# session cookie, (d) through nginx + kepgate forward-auth. wrk, loopback only, bounded.
# Then the latency each adds below saturation: open-loop requests at a fixed RATE (loadgen `rate`,
# timed from when each request was due), where queueing behind a saturated CPU does not drown it.
# Usage: bench/proxy_throughput.sh [SECONDS] [CONNECTIONS] [RATE]   (defaults 10 64 2000)
source "$(dirname "$0")/lib.sh"
DURATION="${1:-10}"; CONNS="${2:-64}"; RATE="${3:-2000}"
bench_build
mkdir -p "$WORK/www" "$WORK/nginx"
head -c 1024 /dev/urandom > "$WORK/www/1k.bin"
head -c 65536 /dev/urandom > "$WORK/www/64k.bin"
# nginx workers run unprivileged: let them read the files.
chmod 755 "$WORK" "$WORK/www"; chmod 644 "$WORK/www/"*
UP=$(free_port); NGX=$(free_port); FA=$(free_port)

start_login_stack "$(printf '[proxy]\ntrusted_proxies = ["127.0.0.1/32"]\n[routes.files]\nprefix = "/files"\nupstream = "http://127.0.0.1:%s/"\n' "$UP")"
GW_HOSTPORT="${GATEWAY#http://}"
{ nginx_config_head "$WORK/nginx" 1 4096
  cat <<NGINX
  upstream files { server 127.0.0.1:$UP; keepalive 128; }
  upstream kepgate { server $GW_HOSTPORT; keepalive 128; }
  # the upstream
  server { listen 127.0.0.1:$UP; location /files/ { alias $WORK/www/; } }
  # (b) plain reverse proxy
  server {
    listen 127.0.0.1:$NGX;
    location / { proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  # (d) nginx + kepgate forward-auth
  server {
    listen 127.0.0.1:$FA;
    location = /_kepgate_auth {
      internal;
      proxy_pass http://kepgate/.kepgate/auth;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_pass_request_body off; proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI \$request_uri;
    }
    location / {
      auth_request /_kepgate_auth;
      auth_request_set \$kep_assertion \$upstream_http_x_kepgate_assertion;
      proxy_set_header X-Kepgate-Assertion \$kep_assertion;
      proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection "";
    }
  }
}
NGINX
} >"$WORK/nginx/nginx.conf"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx/stderr.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$UP/files/1k.bin" || { cat "$WORK/nginx/stderr.log" "$WORK/nginx/error.log" >&2; exit 1; }
COOKIE=$("$LOADGEN" session "$GATEWAY" "$EMULATOR")

run() { # name url
  local out rps p50 p99
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H "Cookie: $COOKIE" "$2")
  echo "$out" | grep -q 'Non-2xx' && { echo "bench: $1 answered non-2xx" >&2; echo "$out" >&2; }
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  echo "| $1 | $rps | $p50 | $p99 |"
  eval "RPS_$3=$rps"
}

for size in 1k 64k; do
  echo "## $size responses (wrk -t2 -c$CONNS -d${DURATION}s)"
  echo
  echo "| path | requests/s | p50 | p99 |"
  echo "|---|---|---|---|"
  run "(a) direct" "http://127.0.0.1:$UP/files/$size.bin" a
  run "(b) nginx" "http://127.0.0.1:$NGX/files/$size.bin" b
  run "(c) kepgate (session)" "$GATEWAY/files/$size.bin" c
  run "(d) nginx + kepgate forward-auth" "http://127.0.0.1:$FA/files/$size.bin" d
  echo
  echo "kepgate ÷ nginx throughput: $(echo "scale=2; $RPS_c / $RPS_b" | bc)"
  echo
done

rated() { # name url
  local out
  out=$("$LOADGEN" rate "$2" "$RATE" "$DURATION" "$COOKIE")
  # RATE per_second ok errors p50 p90 p99 p99.9
  echo "$out" | awk -v name="$1" '{printf "| %s | %s | %s | %s ms | %s ms | %s ms | %s ms |\n", name, $3, $4, $5, $6, $7, $8}'
  eval "P99_$3=$(echo "$out" | awk '{print $7}')"
}
for size in 1k 64k; do
  echo "## $size responses at a fixed $RATE requests/s for ${DURATION}s (open loop, loadgen rate)"
  echo
  echo "| path | answered | errors | p50 | p90 | p99 | p99.9 |"
  echo "|---|---|---|---|---|---|---|"
  rated "(a) direct" "http://127.0.0.1:$UP/files/$size.bin" a
  rated "(b) nginx" "http://127.0.0.1:$NGX/files/$size.bin" b
  rated "(c) kepgate (session)" "$GATEWAY/files/$size.bin" c
  rated "(d) nginx + kepgate forward-auth" "http://127.0.0.1:$FA/files/$size.bin" d
  echo
  echo "p99 added over direct: nginx $(echo "$P99_b - $P99_a" | bc) ms, kepgate $(echo "$P99_c - $P99_a" | bc) ms"
  echo
done
