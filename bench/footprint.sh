#!/usr/bin/env bash
# Scenario 4: footprint of the release binary: its size, start-to-ready time (process start until
# /readyz answers 200, migrations already applied), and idle RSS.
source "$(dirname "$0")/lib.sh"
bench_build
PORT=$(free_port)
DB="kepgate_bench_footprint"
cat >"$WORK/kepgate.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
[database]
url = "postgres://postgres@127.0.0.1:5432/$DB"
[metrics]
enabled = false
[log]
filter = "warn"
[trust]
files = ["$ROOT/tests/fixtures/ua-trust/CACertificates.p7b"]
TOML
# First start creates the database and applies the migrations; the measured ones do not.
env -i PATH="$PATH" "$BIN" migrate --config "$WORK/kepgate.toml" >/dev/null
times=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  env -i PATH="$PATH" "$BIN" serve --config "$WORK/kepgate.toml" >"$WORK/gw.log" 2>&1 &
  pid=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/.kepgate/readyz" 2>/dev/null; do sleep 0.005; done
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
  sleep 1
  rss=$(rss_mib "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
echo "| release binary | start-to-ready (5 runs, ms) | idle RSS (national trust list of 638 CAs loaded) |"
echo "|---|---|---|"
echo "| $(du -m "$BIN" | cut -f1) MiB ($(stat -c %s "$BIN") bytes) | $sorted | $rss MiB |"
