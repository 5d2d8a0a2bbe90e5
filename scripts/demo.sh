#!/usr/bin/env bash
# Starts the demo stack on this machine: kepgate on http://127.0.0.1:8080 with its own
# database `kepgate_demo` (created and migrated on start). Ctrl-C stops it.
# --tls: kepgate serves HTTPS itself on https://127.0.0.1:8443 ([server.tls]) with a certificate
# of a demo CA made here by OpenSSL in target/demo-tls/ (trust its ca.pem in the browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
export SQLX_OFFLINE=true
cargo build --locked --features demo --bin kepgate
if [ "${1:-}" = "--tls" ]; then
  tls=target/demo-tls
  if [ ! -s "$tls/server.pem" ]; then
    mkdir -p "$tls"
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${ec[@]}" -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 825 \
      -subj "/CN=kepgate demo CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req "${ec[@]}" -keyout "$tls/server.key" -out "$tls/server.csr" \
      -subj "/CN=kepgate demo" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
      -CAcreateserial -days 397 -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
    # The chain file ends with the demo CA: the demo's emulator and cabinet trust what it holds.
    cat "$tls/server.crt" "$tls/ca.pem" >"$tls/server.pem"
  fi
  export KEPGATE_SERVER__TLS__CERT_FILE="$PWD/$tls/server.pem"
  export KEPGATE_SERVER__TLS__KEY_FILE="$PWD/$tls/server.key"
  export KEPGATE_SERVER__LISTEN="${KEPGATE_SERVER__LISTEN:-127.0.0.1:${KEPGATE_DEMO_PORT:-8443}}"
  export KEPGATE_SERVER__BASE_URL="${KEPGATE_SERVER__BASE_URL:-https://${KEPGATE_SERVER__LISTEN}/}"
  echo "kepgate demo: $KEPGATE_SERVER__BASE_URL (demo CA: $PWD/$tls/ca.pem)" >&2
else
  export KEPGATE_SERVER__LISTEN="${KEPGATE_SERVER__LISTEN:-127.0.0.1:${KEPGATE_DEMO_PORT:-8080}}"
  export KEPGATE_SERVER__BASE_URL="${KEPGATE_SERVER__BASE_URL:-http://${KEPGATE_SERVER__LISTEN}/}"
  echo "kepgate demo: http://${KEPGATE_SERVER__LISTEN}/.kepgate/healthz" >&2
fi
exec target/debug/kepgate demo
