#!/usr/bin/env bash
# The Debian package, for real on this machine (root; systemd installed, not necessarily PID 1):
# builds it, lintian (no error), the unit's hardening (`systemd-analyze security`: exposure at
# most 2.0, the number docs/install.md gives) and `systemd-analyze verify`; installs it with dpkg -i,
# checks the files, the user and the permissions; edits the one configuration file (a fresh
# database, free ports) and runs the service as its unit says — ExecStartPre=/ExecStart= as its
# User= with its Environment=, its system call filter, address families and W^X, a
# NOTIFY_SOCKET this script listens on — waits for READY=1, /readyz 200, reloads (SIGHUP) and
# stops it; then dpkg -r and dpkg --purge, each leaving what Debian's rules say. Whatever
# happens, what it started is ended and the database dropped on exit.
#
#   scripts/check-debian-package.sh            (part of scripts/test.sh, so of .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

max_exposure=2.0
unit=/lib/systemd/system/kepgate.service
conffile=/etc/kepgate/kepgate.toml

fail() { echo "check-debian-package: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" = 0 ] || fail "installs a package: run as root"
scripts/ensure-packages.sh lintian dpkg-dev python3 python3-seccomp util-linux
scripts/ensure-postgres.sh

work="$(mktemp -d /tmp/kepgate-debcheck.XXXXXX)"
database="kepgate_debcheck_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
helper_pid=""
cleanup() {
  status=$?
  # The service (its pid is in the helper's file while it runs), then the helper.
  if [ -s "$work/service.pid" ]; then
    kill -KILL -- "-$(cat "$work/service.pid")" 2>/dev/null || true
  fi
  if [ -n "$helper_pid" ]; then
    kill -TERM "$helper_pid" 2>/dev/null || true
    wait "$helper_pid" 2>/dev/null || true
  fi
  psql -q -h 127.0.0.1 -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  # A failed check leaves no half-installed package behind (the user stays, as a purge leaves it).
  if [ "$status" != 0 ] && dpkg-query -W -f='${db:Status-Status}' kepgate 2>/dev/null | grep -qv not-installed; then
    dpkg --purge kepgate >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "check-debian-package: FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR

# dpkg refuses at once when another dpkg or apt holds its lock: wait for it (at most 5 minutes).
dpkg_run() {
  local tries=0
  while ! dpkg "$@" </dev/null >"$work/dpkg.log" 2>&1; do
    if grep -q 'lock' "$work/dpkg.log" && [ "$tries" -lt 150 ]; then
      tries=$((tries + 1))
      sleep 2
      continue
    fi
    cat "$work/dpkg.log" >&2
    fail "dpkg $*"
  done
}
status_of() { dpkg-query -W -f='${db:Status-Abbrev}' kepgate 2>/dev/null | tr -d ' ' || true; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

step "build the package"
deb="$(scripts/build-debian-package.sh | tail -1)"
[ -f "$deb" ] || fail "no package built"
echo "$deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb" >"$work/contents"
awk '{print $1, $2, $NF}' "$work/contents"
grep -q ' ./usr/bin/kepgate$' "$work/contents" || fail "no /usr/bin/kepgate in the package"
dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/bin/kepgate" --help >"$work/help"
if grep -qE '^ +(demo|emulator|cabinet) ' "$work/help"; then
  fail "the packaged binary has the demo commands: not the production build"
fi

step "lintian (no error)"
lintian --fail-on error --display-info "$deb" | tee "$work/lintian.log" \
  || fail "lintian found errors"
echo "lintian warnings: $(grep -c '^W:' "$work/lintian.log" || true)"

step "systemd-analyze security --offline=true (exposure at most $max_exposure)"
packaged_unit="$work/root/usr/lib/systemd/system/kepgate.service"
[ -f "$packaged_unit" ] || fail "no kepgate.service in the package"
# exposure UNIT_FILE DOC_PHRASE_AFTER_NUMBER: the unit's overall exposure, at most
# $max_exposure and written in docs/install.md as "exposure N OK<phrase>".
exposure() {
  local log="$1.security.log" overall number
  systemd-analyze security --offline=true --no-pager "$1" >"$log" 2>&1 || true
  grep -E '^✗' "$log" >&2 || true
  overall="$(grep -E 'Overall exposure level' "$log")" \
    || { cat "$log" >&2; fail "no overall exposure level for $1"; }
  echo "$overall" >&2
  number="$(echo "$overall" | sed -E 's/.*: ([0-9]+\.[0-9]+) .*/\1/')"
  awk -v e="$number" -v m="$max_exposure" 'BEGIN { exit !(e + 0 <= m + 0) }' \
    || fail "$1: exposure $number is above $max_exposure"
  grep -qF "exposure ${number} OK$2" docs/install.md \
    || fail "docs/install.md does not give this exposure as \"exposure ${number} OK$2\""
  echo "$number"
}
cp "$packaged_unit" "$work/kepgate.service"
exposure="$(exposure "$work/kepgate.service" "")"
# With the documented drop-in for ports below 1024 (a second [Service] section, as systemd
# merges a drop-in).
mkdir "$work/with-drop-in"
cat "$packaged_unit" "$work/root/usr/share/doc/kepgate/examples/privileged-port.conf" \
  >"$work/with-drop-in/kepgate.service"
echo "with examples/privileged-port.conf:"
exposure "$work/with-drop-in/kepgate.service" " with it" >/dev/null

step "purge any earlier installation, then dpkg -i"
if [ -n "$(status_of)" ] && [ "$(status_of)" != un ]; then
  dpkg_run --purge kepgate
fi
dpkg_run -i "$deb"
[ "$(status_of)" = ii ] || fail "kepgate is not installed: $(status_of)"

step "systemd-analyze verify $unit"
# Silent when the unit is right; the units it is ordered after (postgresql.service) need not
# exist here.
verified=0
systemd-analyze verify --man=no "$unit" >"$work/verify.log" 2>&1 || verified=$?
cat "$work/verify.log"
[ "$verified" = 0 ] || fail "systemd-analyze verify exited $verified"
if grep -v 'not found' "$work/verify.log" | grep -q .; then
  fail "systemd-analyze verify has complaints"
fi
echo "systemd-analyze verify: no complaint"

step "files, user and permissions"
[ -x /usr/bin/kepgate ] || fail "/usr/bin/kepgate"
/usr/bin/kepgate --version
[ -f "$unit" ] || fail "$unit"
[ -s /usr/share/man/man1/kepgate.1.gz ] || fail "no manual page"
for doc in README.md copyright changelog.Debian.gz kepgate.example.toml third-party-licenses.txt \
  docs/security.md docs/install.md examples/privileged-port.conf; do
  [ -s "/usr/share/doc/kepgate/$doc" ] || fail "/usr/share/doc/kepgate/$doc"
done
getent passwd kepgate >/dev/null || fail "no kepgate user"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd kepgate)
[ "$uid" -lt 1000 ] || fail "kepgate is not a system user (uid $uid)"
[ "$(getent group kepgate | cut -d: -f3)" = "$gid" ] || fail "kepgate's group is not kepgate"
[ "$shell" = /usr/sbin/nologin ] || fail "kepgate's shell is $shell"
[ ! -e "$home" ] || fail "kepgate has a home ($home)"
echo "user kepgate: uid $uid, gid $gid, home $home, shell $shell"
[ "$(stat -c '%U:%G %a' "$conffile")" = "root:kepgate 640" ] \
  || fail "$conffile is $(stat -c '%U:%G %a' "$conffile"), not root:kepgate 640"
dpkg-query -W -f='${Conffiles}\n' kepgate | grep -q "^ $conffile " || fail "$conffile is not a conffile"
stat -c '%n: %U:%G %a' "$conffile"
runuser -u nobody -- cat "$conffile" >/dev/null 2>&1 && fail "nobody can read $conffile"
runuser -u kepgate -- /usr/bin/kepgate check-config --config "$conffile" >"$work/check-config.log" \
  || { cat "$work/check-config.log" >&2; fail "the shipped configuration does not pass check-config"; }
echo "the shipped configuration passes check-config as kepgate"
head -1 "$conffile" | grep -qxF '#:schema /usr/share/kepgate/kepgate.schema.json' \
  || fail "the shipped configuration does not name the installed schema on its first line"
/usr/bin/kepgate config schema | cmp -s - /usr/share/kepgate/kepgate.schema.json \
  || fail "/usr/share/kepgate/kepgate.schema.json is not what the installed kepgate prints"
echo "the installed schema is the binary's, and the configuration names it for editors"

step "edit $conffile: database $database, free ports"
psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE \"$database\"" >/dev/null
port="$(free_port)"
metrics_port="$(free_port)"
sed -i \
  -e "s|^url = \"postgres://.*\"|url = \"postgres://postgres@127.0.0.1:5432/$database\"|" \
  -e "s|^listen = \"127.0.0.1:8080\"|listen = \"127.0.0.1:$port\"|" \
  -e "s|^base_url = \"http://127.0.0.1:8080/\"|base_url = \"http://127.0.0.1:$port/\"|" \
  -e "s|^listen = \"127.0.0.1:9464\"|listen = \"127.0.0.1:$metrics_port\"|" \
  "$conffile"
grep -qF "127.0.0.1:5432/$database\"" "$conffile" && grep -qF "127.0.0.1:$port\"" "$conffile" \
  && grep -qF "127.0.0.1:$metrics_port\"" "$conffile" || fail "the edit did not take"
echo "listen 127.0.0.1:$port, metrics 127.0.0.1:$metrics_port"

step "dpkg -i again (an upgrade): the edited configuration and its permissions stay"
dpkg_run -i "$deb"
grep -qF "127.0.0.1:5432/$database\"" "$conffile" || fail "reinstalling replaced the edited configuration"
[ "$(stat -c '%U:%G %a' "$conffile")" = "root:kepgate 640" ] || fail "reinstalling changed $conffile's permissions"

step "run the service as its unit does: start, READY=1, /readyz, reload, stop"
prefix="$(sed -n 's/^route_prefix = "\(.*\)"/\1/p' "$conffile")"
/usr/bin/python3 scripts/debian-package/run_as_unit.py "$unit" \
  "http://127.0.0.1:$port${prefix:-/.kepgate}/readyz" "$work/service.log" "$work/service.pid" &
helper_pid=$!
if ! wait "$helper_pid"; then
  helper_pid=""
  echo "--- the service's log" >&2
  cat "$work/service.log" >&2
  fail "the service did not run as its unit says"
fi
helper_pid=""
grep -q 'SIGHUP received; reloaded' "$work/service.log" \
  || { cat "$work/service.log" >&2; fail "the log does not say what SIGHUP reloaded"; }
grep -E 'kepgate listening|SIGHUP received|shutting down' "$work/service.log" | sed 's/^/  log: /'
psql -h 127.0.0.1 -U postgres -d "$database" -Atc "SELECT count(*) FROM _sqlx_migrations WHERE success" \
  | sed 's/^/migrations applied at start: /'

step "dpkg -r: the program goes, the configuration and the user stay"
dpkg_run -r kepgate
[ "$(status_of)" = rc ] || fail "after dpkg -r the status is $(status_of), not rc"
[ ! -e /usr/bin/kepgate ] || fail "/usr/bin/kepgate is still there"
[ ! -e "$unit" ] || fail "$unit is still there"
grep -qF "127.0.0.1:5432/$database\"" "$conffile" || fail "dpkg -r removed the edited configuration"
[ "$(stat -c '%U:%G %a' "$conffile")" = "root:kepgate 640" ] || fail "dpkg -r changed $conffile's permissions"
getent passwd kepgate >/dev/null || fail "dpkg -r removed the user"
echo "status rc; $conffile kept; user kepgate kept"

step "dpkg --purge: the configuration goes; the system user stays (Debian's rule)"
dpkg_run --purge kepgate
[ -z "$(status_of)" ] || [ "$(status_of)" = un ] || fail "after --purge the status is $(status_of)"
[ ! -e "$conffile" ] || fail "$conffile is still there"
[ ! -e /etc/kepgate ] || fail "/etc/kepgate is still there"
[ ! -e /usr/share/doc/kepgate ] || fail "/usr/share/doc/kepgate is still there"
dpkg-statoverride --list "$conffile" >/dev/null && fail "the statoverride of $conffile is still there"
getent passwd kepgate >/dev/null || fail "the purge removed the system user"
echo "nothing of kepgate left but its system user"

echo "check-debian-package: the package builds, installs, runs as its unit says and goes (exposure $exposure)"
