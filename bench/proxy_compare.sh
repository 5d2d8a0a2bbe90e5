#!/usr/bin/env bash
# Scenario 1b: kepgate with a session against the proxies an operator would put there instead, in
# one run: the same nginx file upstream (1 KiB and 64 KiB) reached directly, through nginx
# (2 workers), HAProxy (2 threads), Caddy, and kepgate; then over TLS with the same certificate,
# nginx against kepgate's own `[server.tls]`: requests on kept-alive connections, and a new
# connection (a full handshake) per request. wrk -t2, ROUNDS alternating rounds, medians.
# Usage: bench/proxy_compare.sh [ROUNDS] [SECONDS] [CONNECTIONS]   (defaults 3 10 64)
source "$(dirname "$0")/lib.sh"
ROUNDS="${1:-3}"; DURATION="${2:-10}"; CONNS="${3:-64}"
"$ROOT/scripts/ensure-packages.sh" haproxy caddy >&2
bench_build
mkdir -p "$WORK/www/files" "$WORK/nginx" "$WORK/caddy"
head -c 1024 /dev/urandom > "$WORK/www/files/1k.bin"
head -c 65536 /dev/urandom > "$WORK/www/files/64k.bin"
chmod 755 "$WORK" "$WORK/www" "$WORK/www/files"; chmod 644 "$WORK/www/files/"*
UP=$(free_port); NGX=$(free_port); HAP=$(free_port); CDY=$(free_port); NGXS=$(free_port)

start_login_stack "$(printf '[proxy]\ntrusted_proxies = ["127.0.0.1/32"]\n[routes.files]\nprefix = "/files"\nupstream = "http://127.0.0.1:%s/"\n' "$UP")"
start_tls_replica

{ nginx_config_head "$WORK/nginx" 2 4096
  cat <<NGINX
  upstream files { server 127.0.0.1:$UP; keepalive 128; }
  server { listen 127.0.0.1:$UP; root $WORK/www; }
  server {
    listen 127.0.0.1:$NGX;
    location / { proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:$NGXS ssl;
    ssl_certificate $WORK/server.pem; ssl_certificate_key $WORK/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://files; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
} >"$WORK/nginx/nginx.conf"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx/stderr.log" 2>&1 &
PIDS+=($!)

cat >"$WORK/haproxy.cfg" <<CFG
global
  nbthread 2
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  http-reuse always
frontend files
  bind 127.0.0.1:$HAP
  default_backend upstream
backend upstream
  server files 127.0.0.1:$UP
CFG
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)

cat >"$WORK/caddy/Caddyfile" <<CADDY
{
  admin off
  auto_https off
}
http://127.0.0.1:$CDY {
  reverse_proxy 127.0.0.1:$UP
}
CADDY
env -i PATH="$PATH" HOME="$WORK/caddy" XDG_DATA_HOME="$WORK/caddy" XDG_CONFIG_HOME="$WORK/caddy" \
  caddy run --config "$WORK/caddy/Caddyfile" --adapter caddyfile >"$WORK/caddy/caddy.log" 2>&1 &
PIDS+=($!)

for url in "http://127.0.0.1:$UP/files/1k.bin" "http://127.0.0.1:$NGX/files/1k.bin" \
           "http://127.0.0.1:$HAP/files/1k.bin" "http://127.0.0.1:$CDY/files/1k.bin"; do
  wait_http "$url" || { echo "bench: $url does not answer" >&2; cat "$WORK/nginx/error.log" "$WORK/haproxy.log" "$WORK/caddy/caddy.log" >&2; exit 1; }
done
COOKIE=$("$LOADGEN" session "$GATEWAY" "$EMULATOR")
# The same session under its https name (`__Host-`), for the replica on TLS.
COOKIE_TLS=$(echo "$COOKIE" | sed -E 's/(^|; )kepgate_/\1__Host-kepgate_/g')

# wrk: "requests/s p99" of one run, checked for errors.
measure() { # url cookie [extra wrk args…]
  local url="$1" cookie="$2" out rps p99
  shift 2
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency ${cookie:+-H "Cookie: $cookie"} "$@" "$url")
  if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then echo "bench: $url: $(echo "$out" | grep -E 'Non-2xx|Socket errors')" >&2; fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  echo "$rps $p99"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A RPS P99
record() { RPS[$1]+="$2"$'\n'; P99[$1]+="$3"$'\n'; }
for round in $(seq "$ROUNDS"); do
  for size in 1k 64k; do
    # Alternating order per round, so no proxy always runs first or last.
    names=(direct nginx haproxy caddy kepgate)
    [ $((round % 2)) = 0 ] && names=(kepgate caddy haproxy nginx direct)
    for name in "${names[@]}"; do
      case $name in
        direct) read -r r p < <(measure "http://127.0.0.1:$UP/files/$size.bin" "") ;;
        nginx) read -r r p < <(measure "http://127.0.0.1:$NGX/files/$size.bin" "") ;;
        haproxy) read -r r p < <(measure "http://127.0.0.1:$HAP/files/$size.bin" "") ;;
        caddy) read -r r p < <(measure "http://127.0.0.1:$CDY/files/$size.bin" "") ;;
        kepgate) read -r r p < <(measure "$GATEWAY/files/$size.bin" "$COOKIE") ;;
      esac
      record "$name-$size" "$r" "$p"
    done
  done
  tls_names=(nginx kepgate); [ $((round % 2)) = 0 ] && tls_names=(kepgate nginx)
  for name in "${tls_names[@]}"; do
    case $name in
      nginx) url="https://127.0.0.1:$NGXS/files/1k.bin"; cookie="" ;;
      kepgate) url="$GATEWAY_TLS/files/1k.bin"; cookie="$COOKIE_TLS" ;;
    esac
    read -r r p < <(measure "$url" "$cookie"); record "tls-$name" "$r" "$p"
    read -r r p < <(measure "$url" "$cookie" -H "Connection: close"); record "handshake-$name" "$r" "$p"
  done
done

med() { printf '%s' "${RPS[$1]}" | median; }
medp() { printf '%s' "${P99[$1]}" | sed 's/ms$//' | awk '/us$/ {sub(/us$/,""); print $1/1000; next} /s$/ {sub(/s$/,""); print $1*1000; next} {print}' | median; }
k() { awk -v v="$1" 'BEGIN {printf "%.1fk", v/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
echo "## Against the proxies people would use instead (wrk -t2 -c$CONNS -d${DURATION}s, $ROUNDS alternating rounds, medians of requests/s)"
echo
echo "| response | direct | nginx (2 workers) | HAProxy (2 threads) | Caddy | kepgate (session) | kepgate ÷ nginx | kepgate ÷ HAProxy |"
echo "|---|---|---|---|---|---|---|---|"
for size in 1k 64k; do
  label=$([ "$size" = 1k ] && echo "1 KiB" || echo "64 KiB")
  echo "| $label | $(k "$(med "direct-$size")") | $(k "$(med "nginx-$size")") | $(k "$(med "haproxy-$size")") | $(k "$(med "caddy-$size")") | $(k "$(med "kepgate-$size")") | $(ratio "$(med "kepgate-$size")" "$(med "nginx-$size")") | $(ratio "$(med "kepgate-$size")" "$(med "haproxy-$size")") |"
done
echo
echo "p99 at saturation (ms, medians): $(for size in 1k 64k; do printf '%s: ' "$size"; for n in nginx haproxy caddy kepgate; do printf '%s %s; ' "$n" "$(medp "$n-$size")"; done; done)"
echo
echo "## Over TLS with the same certificate (P-256), 1 KiB through to the same upstream"
echo
echo "| | nginx (2 workers) | kepgate (session, \`[server.tls]\`) | kepgate ÷ nginx |"
echo "|---|---|---|---|"
echo "| requests/s on kept-alive TLS connections | $(k "$(med tls-nginx)") | $(k "$(med tls-kepgate)") | $(ratio "$(med tls-kepgate)" "$(med tls-nginx)") |"
echo "| new TLS connection per request (handshakes/s) | $(k "$(med handshake-nginx)") | $(k "$(med handshake-kepgate)") | $(ratio "$(med handshake-kepgate)" "$(med handshake-nginx)") |"
echo
echo "Versions: $(nginx -v 2>&1 | sed 's/.*: //'), HAProxy $(haproxy -v | head -1 | awk '{print $3}'), Caddy $(caddy version | awk '{print $1}'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
