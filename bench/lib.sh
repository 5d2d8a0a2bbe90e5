# Shared by the bench/ scripts: build once, start the parts as real processes on loopback,
# stop everything on exit. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# BENCH_SYMBOLS=1: a release build that keeps symbols and line tables, for perf/valgrind profiles
# (its own target dir, so the stripped benchmark build is not rebuilt).
# BENCH_GATEWAY_WRAPPER: a command the gateway runs under, e.g.
#   BENCH_GATEWAY_WRAPPER="valgrind --tool=massif --massif-out-file=/tmp/massif.out"
if [ "${BENCH_SYMBOLS:-0}" = 1 ]; then
  BENCH_TARGET="$ROOT/target/symbols"
else
  BENCH_TARGET="$ROOT/target"
fi
# BENCH_BIN: run this kepgate binary instead of building one (an A/B of two builds).
BIN="${BENCH_BIN:-$BENCH_TARGET/release/kepgate}"
LOADGEN="$ROOT/target/release/kepgate-loadgen"
WORK="$(mktemp -d)"
PIDS=()

bench_cleanup() {
  # A wrapper (BENCH_GATEWAY_WRAPPER, BENCH_TLS_WRAPPER: heaptrack is a script) may run the
  # gateway as its child: the children first, then what was started.
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] || continue
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap bench_cleanup EXIT

bench_build() {
  "$ROOT/scripts/ensure-postgres.sh"
  "$ROOT/scripts/ensure-packages.sh" nginx wrk
  if [ -n "${BENCH_BIN:-}" ]; then
    : # given, not built
  elif [ "${BENCH_SYMBOLS:-0}" = 1 ]; then
    (cd "$ROOT" && SQLX_OFFLINE=true CARGO_TARGET_DIR="$BENCH_TARGET" CARGO_PROFILE_RELEASE_STRIP=false \
      CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --locked --features demo --bin kepgate >/dev/null 2>&1)
  else
    (cd "$ROOT" && SQLX_OFFLINE=true cargo build --release --locked --features demo --bin kepgate >/dev/null 2>&1)
  fi
  (cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target" cargo build --release --manifest-path bench/loadgen/Cargo.toml >/dev/null 2>&1)
}

# The start every benchmark's nginx configuration shares, for an nginx whose pid, logs and
# temporary files live in DIR; prints up to the inside of `http {` (the caller adds its servers
# and the closing `}`). Extra arguments are main-context directives, e.g. "master_process off;".
nginx_config_head() { # DIR WORKERS CONNECTIONS [DIRECTIVE...]
  local dir=$1 workers=$2 connections=$3
  shift 3
  printf 'worker_processes %s;\n' "$workers"
  [ $# -eq 0 ] || printf '%s\n' "$@"
  cat <<NGINX
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $connections; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
NGINX
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() { # URL [TRIES of 50 ms]
  for _ in $(seq 1 "${2:-300}"); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench: $1 did not come up" >&2; return 1
}

# CPU seconds (user+system) used so far by processes whose command name matches $1.
cpu_seconds() {
  local total=0 ticks
  ticks=$(getconf CLK_TCK)
  for stat in /proc/[0-9]*/stat; do
    read -r line < "$stat" 2>/dev/null || continue
    case "$line" in *"($1"*) ;; *) continue ;; esac
    set -- "$1" $line
    total=$((total + ${15} + ${16}))
  done
  echo "scale=2; $total / $ticks" | bc
}

# CPU seconds (user+system) used so far by one process.
pid_cpu_seconds() {
  local ticks line
  ticks=$(getconf CLK_TCK)
  read -r line < "/proc/$1/stat" || { echo 0; return; }
  line="${line##*) }"
  set -- $line
  echo "scale=2; (${12} + ${13}) / $ticks" | bc
}

rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# The Diia emulator (calling back $1, the gateways' base URL) and the sample cabinet.
# Sets EMULATOR, EMULATOR_PID, CABINET, CALLBACK_SECRET; the emulator's CA in $WORK/emulator-ca.pem.
start_emulator_and_cabinet() {
  local em cab
  em=$(free_port); cab=$(free_port)
  CALLBACK_SECRET="bench-callback-secret-$(date +%s)-0123456789abcdef"
  EMULATOR="http://127.0.0.1:$em"; CABINET="http://127.0.0.1:$cab"
  env -i PATH="$PATH" "$BIN" emulator --listen "127.0.0.1:$em" \
    --partner-callback-url "$1/.kepgate/callback/diia/$CALLBACK_SECRET" >"$WORK/emulator.log" 2>&1 &
  PIDS+=($!)
  EMULATOR_PID=$!
  env -i PATH="$PATH" "$BIN" cabinet --listen "127.0.0.1:$cab" >"$WORK/cabinet.log" 2>&1 &
  PIDS+=($!)
  wait_http "$EMULATOR/emulator/ca.pem"
  curl -fsS "$EMULATOR/emulator/ca.pem" > "$WORK/emulator-ca.pem"
}

# The provider and the route into the cabinet, as TOML (after the [trust] section).
provider_and_cabinet_toml() {
  cat <<TOML
[providers.diia]
kind = "diia"
display_name = "Дія.Підпис (емулятор)"
api_base_url = "$EMULATOR/"
acquirer_token = "emulator-acquirer-token"
callback_secret = "$CALLBACK_SECRET"
request_ttl = 600
${1:-}
[routes.cabinet]
prefix = "/"
upstream = "$CABINET/"
TOML
}

# `kepgate diia setup` with the configuration $1, the branch and offer ids written into it.
register_at_emulator() {
  local ids
  ids=$(env -i PATH="$PATH" "$BIN" diia setup --config "$1" 2>/dev/null | grep -E '^(branch_id|offer_id)')
  python3 - "$1" "$ids" <<'PY'
import sys
path, ids = sys.argv[1], sys.argv[2]
text = open(path).read().replace('request_ttl = 600\n', 'request_ttl = 600\n' + ids + '\n', 1)
open(path, 'w').write(text)
PY
}

# The Diia emulator + the sample cabinet + a gateway configured for them (release build).
# Sets GATEWAY, EMULATOR, CABINET, GATEWAY_PID. Extra TOML for the gateway's provider in $1;
# more sections of the gateway's configuration (e.g. `[oidc]`) in $2.
start_login_stack() {
  local extra="${1:-}" sections="${2:-}"
  local gw db
  gw=$(free_port)
  db="kepgate_bench_$(date +%s)"
  GATEWAY="http://127.0.0.1:$gw"
  start_emulator_and_cabinet "$GATEWAY"
  cat >"$WORK/kepgate.toml" <<TOML
[server]
listen = "127.0.0.1:$gw"
base_url = "$GATEWAY/"
# Every load comes from 127.0.0.1: no cap on connections per address.
max_connections_per_address = 0
[database]
url = "postgres://postgres@127.0.0.1:5432/$db"
max_connections = 32
[metrics]
enabled = false
[log]
filter = "warn"
[login]
start_rate_per_minute = 1000000
# The flood bounds sized for the benchmarks' own load (10,000+ waiting, 64 starting at once).
max_pending = 100000
max_starts_in_flight = 1024
[trust]
files = ["$WORK/emulator-ca.pem"]
# Certificate status is asked of the emulator's OCSP responder only when a benchmark says so;
# BENCH_REVOCATION_CACHE_MAX=0 asks it at every login (a cold cache).
revocation = "${BENCH_REVOCATION:-off}"
revocation_cache_max = ${BENCH_REVOCATION_CACHE_MAX:-3600}
$(provider_and_cabinet_toml "$extra")
$sections
TOML
  register_at_emulator "$WORK/kepgate.toml"
  # shellcheck disable=SC2086 # the wrapper is a command line
  env -i PATH="$PATH" ${BENCH_GATEWAY_WRAPPER:-} "$BIN" serve --config "$WORK/kepgate.toml" >"$WORK/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  PIDS+=($GATEWAY_PID)
  wait_http "$GATEWAY/.kepgate/readyz" "$([ -n "${BENCH_GATEWAY_WRAPPER:-}" ] && echo 2400 || echo 300)"
  BENCH_DB="$db"
}

# A second replica of the login stack's gateway (same database, so the same sessions) serving
# HTTPS itself (`[server.tls]`) with a P-256 certificate of a throwaway CA, which nginx can serve
# too. Sets GATEWAY_TLS, GATEWAY_TLS_PID, TLS_CA, TLS_CERT, TLS_KEY.
start_tls_replica() {
  local port
  port=$(free_port)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ca.key" \
    -out "$WORK/ca.pem" -days 2 -subj "/CN=bench CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/server.key" \
    -out "$WORK/server.csr" -subj "/CN=bench" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$WORK/server.ext"
  openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
    -days 2 -extfile "$WORK/server.ext" -out "$WORK/server.crt" 2>/dev/null
  cat "$WORK/server.crt" "$WORK/ca.pem" >"$WORK/server.pem"
  chmod 644 "$WORK/server.pem" "$WORK/server.key"
  TLS_CA="$WORK/ca.pem"; TLS_CERT="$WORK/server.pem"; TLS_KEY="$WORK/server.key"
  GATEWAY_TLS="https://127.0.0.1:$port"
  sed -e "s|^listen = .*|listen = \"127.0.0.1:$port\"|" -e "s|^base_url = .*|base_url = \"$GATEWAY_TLS/\"|" \
    "$WORK/kepgate.toml" >"$WORK/kepgate-tls.toml"
  printf '[server.tls]\ncert_file = "%s"\nkey_file = "%s"\n' "$TLS_CERT" "$TLS_KEY" >>"$WORK/kepgate-tls.toml"
  # BENCH_TLS_WRAPPER: as BENCH_GATEWAY_WRAPPER, for this replica.
  env -i PATH="$PATH" ${BENCH_TLS_WRAPPER:-} "$BIN" serve --config "$WORK/kepgate-tls.toml" >"$WORK/gateway-tls.log" 2>&1 &
  GATEWAY_TLS_PID=$!
  PIDS+=($GATEWAY_TLS_PID)
  for _ in $(seq 300); do curl -sf --cacert "$TLS_CA" -o /dev/null "$GATEWAY_TLS/.kepgate/readyz" && return 0; sleep 0.05; done
  echo "bench: $GATEWAY_TLS did not come up" >&2; cat "$WORK/gateway-tls.log" >&2; return 1
}

# Builds and test suites running on the machine now (compilers, `cargo test`, scripts/test.sh,
# .ci/run), by name; nothing when it is quiet.
busy_processes() {
  local found=""
  pgrep -x rustc >/dev/null && found+="rustc "
  pgrep -x clippy-driver >/dev/null && found+="clippy-driver "
  pgrep -f 'cargo test' >/dev/null && found+="cargo-test "
  pgrep -f 'scripts/test[.]sh' >/dev/null && found+="scripts/test.sh "
  pgrep -f '[.]ci/run' >/dev/null && found+=".ci/run "
  echo "$found" | xargs
}

# Waits until busy_processes finds nothing, looking every 10 s, at most $1 s (default 1200).
# Sets QUIET to what a result should say: "quiet" (and how long it waited) or what still ran.
wait_quiet() {
  local limit="${1:-1200}" waited=0 busy
  while :; do
    busy=$(busy_processes)
    if [ -z "$busy" ]; then QUIET="quiet, waited ${waited} s"; return 0; fi
    if [ "$waited" -ge "$limit" ]; then QUIET="NOT quiet, after ${waited} s still: $busy"; return 0; fi
    sleep 10; waited=$((waited + 10))
  done
}

machine_line() {
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr); PostgreSQL $(psql -V | awk '{print $3}'); $(date -u +%Y-%m-%d)."
}
