#!/usr/bin/env bash
# Scenario 8: a rolling restart under load. Three kepgate replicas on one database behind HAProxy
# (Debian's package) that health-checks /.kepgate/readyz; logins (start → SSE → the emulator
# confirms → complete → cabinet page) and proxied requests with a session run continuously while
# every replica in turn gets SIGTERM (it says "not ready" for server.shutdown_delay while still
# serving, then drains), exits and starts again — ROUNDS times over. Counts failed logins, failed
# proxied requests and pending logins left behind (goal: 0, 0, 0).
# Usage: bench/rolling_restart.sh [ROUNDS] [LOGIN_USERS] [REQUESTS_PER_SECOND]  (defaults 2 8 100;
# LOGIN_USERS confirm at once and as many again take 4 s at the phone)
source "$(dirname "$0")/lib.sh"
ROUNDS="${1:-2}"; USERS="${2:-8}"; RPS="${3:-100}"
REPLICAS=3
bench_build
"$ROOT/scripts/ensure-packages.sh" haproxy

lb=$(free_port)
LB="http://127.0.0.1:$lb"
db="kepgate_rolling_$(date +%s)"
# The provider calls back through the load balancer, as it would in production.
start_emulator_and_cabinet "$LB"

# One configuration; each replica differs only in the address it listens on (the environment).
cat >"$WORK/kepgate.toml" <<TOML
[server]
base_url = "$LB/"
# Longer than HAProxy needs to see /readyz fail (inter 500 ms, fall 2), so no new request
# reaches a replica once it stops accepting.
shutdown_delay = 3
shutdown_grace = 10
# Every load comes from 127.0.0.1: no cap on connections per address.
max_connections_per_address = 0
[database]
url = "postgres://postgres@127.0.0.1:5432/$db"
max_connections = 16
[metrics]
enabled = false
[log]
filter = "warn"
[login]
start_rate_per_minute = 1000000
[trust]
files = ["$WORK/emulator-ca.pem"]
$(provider_and_cabinet_toml)
TOML
register_at_emulator "$WORK/kepgate.toml"

declare -a PORT PID
launch_replica() { # N
  env -i PATH="$PATH" KEPGATE_SERVER__LISTEN="127.0.0.1:${PORT[$1]}" \
    "$BIN" serve --config "$WORK/kepgate.toml" >>"$WORK/replica-$1.log" 2>&1 &
  PID[$1]=$!
  PIDS+=(${PID[$1]})
}
replica_ready() { wait_http "http://127.0.0.1:${PORT[$1]}/.kepgate/readyz"; }
servers=""
for n in $(seq 0 $((REPLICAS - 1))); do
  PORT[$n]=$(free_port)
  servers+="    server kepgate$n 127.0.0.1:${PORT[$n]} check inter 500 fall 2 rise 2"$'\n'
done
# Started together on a database that does not exist yet.
for n in $(seq 0 $((REPLICAS - 1))); do launch_replica "$n"; done
for n in $(seq 0 $((REPLICAS - 1))); do replica_ready "$n"; done

cat >"$WORK/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout tunnel 120s
    # A request whose connection failed or got no answer from a replica that went away is
    # sent to another one (the request never reached kepgate's handlers).
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    http-reuse safe
frontend gateway
    bind 127.0.0.1:$lb
    default_backend kepgate
backend kepgate
    balance roundrobin
    option httpchk GET /.kepgate/readyz
$servers
CFG
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
wait_http "$LB/.kepgate/readyz"

cookie=$("$LOADGEN" session "$LB" "$EMULATOR")
# Long enough for every restart, with load before and after.
per_restart=9
seconds=$((ROUNDS * REPLICAS * per_restart + 10))
"$LOADGEN" logins "$LB" "$EMULATOR" "$USERS" "$seconds" >"$WORK/logins.txt" 2>"$WORK/logins.err" &
logins_pid=$!
"$LOADGEN" rate "$LB/" "$RPS" "$seconds" "$cookie" >"$WORK/rate.txt" 2>&1 &
rate_pid=$!
# People who take their time with the phone: their event streams are open when a replica drains.
"$LOADGEN" logins "$LB" "$EMULATOR" "$USERS" "$seconds" 4000 >"$WORK/slow.txt" 2>"$WORK/slow.err" &
slow_pid=$!
sleep 5
restarts=0
for round in $(seq "$ROUNDS"); do
  for n in $(seq 0 $((REPLICAS - 1))); do
    kill -TERM "${PID[$n]}"
    wait "${PID[$n]}" || echo "replica $n exited with $?" >&2
    launch_replica "$n"
    replica_ready "$n"
    restarts=$((restarts + 1))
    sleep 2
  done
done
wait "$logins_pid" "$rate_pid" "$slow_pid"

read -r _ _ ok failed _ < <(grep '^RATE' "$WORK/rate.txt")
column() { grep -E '^\| [0-9]' "$1" | awk -F'|' -v c="$2" '{gsub(/ /, "", $c); print $c}'; }
login_ok=$(( $(column "$WORK/logins.txt" 3) + $(column "$WORK/slow.txt" 3) ))
login_failed=$(( $(column "$WORK/logins.txt" 4) + $(column "$WORK/slow.txt" 4) ))
left=$(psql -At -h 127.0.0.1 -U postgres -d "$db" -c "SELECT count(*) FROM pending_logins WHERE state IN ('pending', 'confirmed')")
reconnected=$(cat "$WORK/logins.err" "$WORK/slow.err" | grep -o 'ended them: [0-9]*' | awk '{s += $3} END {print s + 0}' || true)
echo "## Rolling restart: $REPLICAS replicas behind HAProxy $(haproxy -v | head -1 | awk '{print $3}'), $restarts restarts in $ROUNDS rounds, ${seconds} s of load"
echo
echo "| logins completed (quick + 4 s at the phone) | failed logins | proxied requests | failed proxied requests | pending logins left | event streams reopened |"
echo "|---|---|---|---|---|---|"
echo "| $login_ok | $login_failed | $ok | $failed | $left | ${reconnected:-0} |"
errors=$(cat "$WORK/logins.err" "$WORK/slow.err" | grep -v 'ended them' || true)
if [ -n "$errors" ]; then echo; echo "$errors" | sed 's/^/    /' | head -10; fi
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
