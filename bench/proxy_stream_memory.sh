#!/usr/bin/env bash
# Streams 200 MiB down and 200 MiB up through a kepgate process (release build) to the sample
# cabinet and reports the gateway's resident memory before, during (peak) and after.
# Loopback only; bounded: two transfers, then everything stops.
# Usage: bench/proxy_stream_memory.sh [MiB]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${1:-200}"
scripts/ensure-postgres.sh
SQLX_OFFLINE=true cargo build --release --locked --features demo --bin kepgate >/dev/null 2>&1
BIN=target/release/kepgate
work=$(mktemp -d)
cleanup() { kill "${gw:-}" "${cab:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GW=$(free_port); CAB=$(free_port)
env -i PATH="$PATH" "$BIN" cabinet --listen "127.0.0.1:$CAB" >"$work/cabinet.log" 2>&1 & cab=$!
cat >"$work/kepgate.toml" <<TOML
[server]
listen = "127.0.0.1:$GW"
base_url = "http://127.0.0.1:$GW/"
# Every load comes from 127.0.0.1: no cap on connections per address.
max_connections_per_address = 0
[database]
url = "postgres://postgres@127.0.0.1:5432/kepgate_bench"
[metrics]
enabled = false
[routes.stream]
prefix = "/"
upstream = "http://127.0.0.1:$CAB/"
# Public, so the benchmark needs no login; the streaming path is the same as for sessions.
public = true
TOML
env -i PATH="$PATH" "$BIN" serve --config "$work/kepgate.toml" >"$work/gateway.log" 2>&1 & gw=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$GW/.kepgate/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$gw/status"; }
hwm() { awk '/VmHWM/ {print int($2/1024)}' "/proc/$gw/status"; }
before=$(rss)
down=$(curl -sS -o /dev/null -w '%{size_download} %{speed_download}' "http://127.0.0.1:$GW/download?mb=$MB")
after_down=$(rss)
up=$(head -c "$((MB * 1024 * 1024))" /dev/zero | curl -sS -o "$work/up.json" -w '%{size_upload} %{speed_upload}' \
  -X POST -H 'content-type: application/octet-stream' -T - "http://127.0.0.1:$GW/upload")
after_up=$(rss); peak=$(hwm)

printf '| transfer | bytes | MiB/s |\n|---|---|---|\n'
printf '| download %s MiB | %s | %.0f |\n' "$MB" "${down% *}" "$(echo "${down#* } / 1048576" | bc -l)"
printf '| upload %s MiB | %s | %.0f |\n' "$MB" "${up% *}" "$(echo "${up#* } / 1048576" | bc -l)"
printf '\n| gateway RSS | MiB |\n|---|---|\n'
printf '| before | %s |\n| after download | %s |\n| after upload | %s |\n| peak (VmHWM) | %s |\n' "$before" "$after_down" "$after_up" "$peak"
echo "cabinet counted: $(cat "$work/up.json")"
