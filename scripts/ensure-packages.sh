#!/usr/bin/env bash
# Installs Debian packages the tests need when their binaries are missing (our machines are
# fresh each time; nothing installed by hand survives). Usage: ensure-packages.sh nginx …
set -euo pipefail
missing=()
for pkg in "$@"; do
  case "$pkg" in
    nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx) ;;
    # The browser tests (tests/api/browser_e2e.rs): Debian's Chromium and its matching driver;
    # KEPGATE_CHROMIUM / KEPGATE_CHROMEDRIVER point them at other binaries instead.
    chromium) [ -n "${KEPGATE_CHROMIUM:-}" ] || [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    chromium-driver) [ -n "${KEPGATE_CHROMEDRIVER:-}" ] || [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver) ;;
    npm) command -v npm >/dev/null 2>&1 || missing+=(npm) ;;
    # The Kubernetes tests render deploy/kubernetes with `kubectl kustomize` (no cluster needed).
    kubectl) command -v kubectl >/dev/null 2>&1 || missing+=(kubectl) ;;
    *) dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-packages: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
