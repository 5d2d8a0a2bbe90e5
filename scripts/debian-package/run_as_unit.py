#!/usr/bin/python3
"""Runs an installed systemd service the way systemd would, on a machine where systemd is not
PID 1, and checks its life: start, readiness, reload, stop.

    run_as_unit.py UNIT_FILE READYZ_URL LOG_FILE PID_FILE

From the unit file it takes Environment=, User=, Group=, UMask=, ExecStartPre=, ExecStart=,
ExecReload=, TimeoutStartSec= and the confinement that decides whether the program can run at
all: NoNewPrivileges= and an empty CapabilityBoundingSet= (setpriv), SystemCallFilter=,
SystemCallErrorNumber=, SystemCallArchitectures=native, RestrictAddressFamilies= and
MemoryDenyWriteExecute= (seccomp filters built like systemd 252's, from `systemd-analyze
syscall-filter`). The mount, user and IPC namespaces (ProtectSystem=, PrivateTmp=, …) are
systemd's alone and not reproduced: the service writes no file.

The service is told NOTIFY_SOCKET, an abstract socket this script listens on, and must send
READY=1 only once READY_URL answers 200; ExecReload= (SIGHUP) must leave it running and ready
(RELOADING=1, then READY=1); SIGTERM must end it with STOPPING=1 and exit status 0. The service's
pid is written to PID_FILE while it runs (the calling script's trap ends it from there), and it
is killed whatever happens here. Exits non-zero with the reason on the first failure.
"""

import errno
import os
import pwd
import grp
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(message):
    print(f"run_as_unit: FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def step(message):
    print(f"run_as_unit: {message}", flush=True)


def parse_unit(path):
    """The [Service] section's settings: key → every value given, in order."""
    settings = {}
    section = None
    with open(path, encoding="utf-8") as unit:
        lines = unit.read().replace("\\\n", " ").splitlines()
    for line in lines:
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        if section != "[Service]" or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        settings.setdefault(key, []).append(value)
    return settings


def last(settings, key, default=None):
    values = settings.get(key)
    return values[-1] if values else default


def command_line(value, main_pid=None):
    """An Exec*= value: its prefixes (`-` tolerates failure) and the words, with $MAINPID."""
    ignore_failure = False
    while value and value[0] in "-@:+!":
        if value[0] in "+!":
            fail(f"Exec prefix {value[0]!r} (full privileges) is not reproduced here")
        ignore_failure |= value[0] == "-"
        value = value[1:]
    words = shlex.split(value)
    if main_pid is not None:
        words = [w.replace("${MAINPID}", str(main_pid)).replace("$MAINPID", str(main_pid)) for w in words]
    return ignore_failure, words


def environment(settings, user):
    """What systemd gives a service: its PATH, the user's identity, then Environment=."""
    entry = pwd.getpwnam(user)
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": entry.pw_dir,
        "USER": user,
        "LOGNAME": user,
        "SHELL": entry.pw_shell,
    }
    for value in settings.get("Environment", []):
        for assignment in shlex.split(value):
            name, _, val = assignment.partition("=")
            env[name] = val
    return env


def as_user(settings, words, confine):
    """The command run as User=/Group=, without privileges (and under the seccomp filters)."""
    user = last(settings, "User", "root")
    group = last(settings, "Group", grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name)
    setpriv = ["setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups"]
    if last(settings, "NoNewPrivileges") in ("yes", "true", "1", "on"):
        setpriv.append("--no-new-privs")
    bounding = settings.get("CapabilityBoundingSet")
    if bounding is not None and bounding[-1] == "":
        setpriv += ["--bounding-set=-all", "--inh-caps=-all"]
    elif bounding is not None:
        fail("a non-empty CapabilityBoundingSet= is not reproduced here")
    if confine:
        return setpriv + ["--", sys.executable, os.path.join(HERE, "confine.py"), "--"] + words
    return setpriv + ["--"] + words


def confinement_environment(settings):
    """What confine.py needs to know of the unit (it runs after the privileges are gone)."""
    return {
        "CONFINE_SYSCALL_FILTER": "\n".join(settings.get("SystemCallFilter", [])),
        "CONFINE_SYSCALL_ERRNO": last(settings, "SystemCallErrorNumber", ""),
        "CONFINE_ARCHITECTURES": last(settings, "SystemCallArchitectures", ""),
        "CONFINE_ADDRESS_FAMILIES": last(settings, "RestrictAddressFamilies", ""),
        "CONFINE_MDWE": last(settings, "MemoryDenyWriteExecute", "no"),
        "CONFINE_UMASK": last(settings, "UMask", "0022"),
    }


def readyz(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def confinement(settings, pid):
    """What the kernel says of the running service: its user, no privileges, the filters."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    user = last(settings, "User", "root")
    expected = {
        "Uid": str(pwd.getpwnam(user).pw_uid),
        "NoNewPrivs": "1",
        "CapEff": "0000000000000000",
        "CapBnd": "0000000000000000",
        "Seccomp": "2",
    }
    shown = {key: status.get(key, "?").split("\t")[0] for key in expected}
    shown["Seccomp_filters"] = status.get("Seccomp_filters", "?")
    step("the running service: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    for key, value in expected.items():
        if shown[key] != value:
            fail(f"/proc/{pid}/status: {key} is {shown[key]}, not {value}")


def wait_for(listener, wanted, deadline, service):
    """Notifications until one holds the line `wanted`; fails on a timeout or a dead service."""
    seen = []
    while time.monotonic() < deadline:
        if service.poll() is not None:
            fail(f"the service exited ({service.returncode}) before {wanted}; it sent {seen}")
        listener.settimeout(0.2)
        try:
            message = listener.recv(4096).decode()
        except socket.timeout:
            continue
        lines = message.split("\n")
        seen.append(lines)
        if wanted in lines:
            return lines, seen
    fail(f"no {wanted} in time; the service sent {seen}")


def main():
    # The calling script's trap ends this script with SIGTERM: the service goes with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    unit_file, ready_url, log_file, pid_file = sys.argv[1:5]
    settings = parse_unit(unit_file)
    if last(settings, "Type") != "notify":
        fail("the unit is not Type=notify")
    user = last(settings, "User", "root")
    env = environment(settings, user)
    name = f"kepgate-check-notify-{os.getpid()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind("\0" + name)
    env["NOTIFY_SOCKET"] = "@" + name

    for value in settings.get("ExecStartPre", []):
        ignore_failure, words = command_line(value)
        step(f"ExecStartPre as {user}: {shlex.join(words)}")
        done = subprocess.run(as_user(settings, words, confine=True), env={**env, **confinement_environment(settings)})
        if done.returncode != 0 and not ignore_failure:
            fail(f"ExecStartPre exited {done.returncode}")

    starts = settings.get("ExecStart", [])
    if len(starts) != 1:
        fail(f"a notify service has one ExecStart=, not {len(starts)}")
    _, words = command_line(starts[0])
    step(f"ExecStart as {user}, confined like the unit: {shlex.join(words)}")
    timeout = min(float(last(settings, "TimeoutStartSec", "90").rstrip("s")), 120.0)
    with open(log_file, "wb") as log:
        service = subprocess.Popen(
            as_user(settings, words, confine=True),
            env={**env, **confinement_environment(settings)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with open(pid_file, "w") as f:
            f.write(f"{service.pid}\n")
        run(settings, env, listener, service, ready_url, timeout)
    finally:
        if service.poll() is None:
            os.killpg(service.pid, signal.SIGKILL)
            service.wait()
        os.unlink(pid_file)


def run(settings, env, listener, service, ready_url, timeout):
    started = time.monotonic()
    lines, _ = wait_for(listener, "READY=1", started + timeout, service)
    status = readyz(ready_url)
    step(f"READY=1 after {time.monotonic() - started:.1f} s ({'; '.join(lines)}); /readyz then: {status}")
    if status != 200:
        fail(f"READY=1 came while /readyz answered {status}")
    confinement(settings, service.pid)

    reloads = settings.get("ExecReload", [])
    if not reloads:
        fail("no ExecReload=")
    for value in reloads:
        ignore_failure, words = command_line(value, main_pid=service.pid)
        step(f"ExecReload as {last(settings, 'User', 'root')}: {shlex.join(words)}")
        done = subprocess.run(
            as_user(settings, words, confine=True),
            env={**env, **confinement_environment(settings), "MAINPID": str(service.pid)},
        )
        if done.returncode != 0 and not ignore_failure:
            fail(f"ExecReload exited {done.returncode}")
    _, seen = wait_for(listener, "READY=1", time.monotonic() + 10, service)
    if not any("RELOADING=1" in lines for lines in seen):
        fail(f"no RELOADING=1 before the READY=1 after the reload: {seen}")
    time.sleep(0.5)
    if service.poll() is not None:
        fail(f"the service exited ({service.returncode}) after the reload")
    status = readyz(ready_url)
    step(f"after the reload: still running, {' then '.join('; '.join(l) for l in seen)}; /readyz: {status}")
    if status != 200:
        fail(f"/readyz answered {status} after the reload")

    # systemctl stop: SIGTERM (KillSignal=), then TimeoutStopSec=.
    os.kill(service.pid, signal.SIGTERM)
    _, seen = wait_for(listener, "STOPPING=1", time.monotonic() + 10, service)
    try:
        code = service.wait(timeout=float(last(settings, "TimeoutStopSec", "90").rstrip("s")))
    except subprocess.TimeoutExpired:
        fail("the service did not end after SIGTERM")
    step(f"SIGTERM: STOPPING=1, exit status {code}")
    if code != 0:
        fail(f"exit status {code} after SIGTERM")


if __name__ == "__main__":
    main()
