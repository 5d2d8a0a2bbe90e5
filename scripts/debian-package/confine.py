#!/usr/bin/python3
"""Puts this process under the seccomp filters systemd 252 builds for a unit, then execs the
command: confine.py -- COMMAND ARGS…  (run_as_unit.py calls it after setpriv dropped the
privileges; the unit's settings come in CONFINE_* variables, which the command does not see).

- SystemCallFilter= (an allow list with `@groups`, then `~` lines taking some away),
  SystemCallErrorNumber= and SystemCallArchitectures=native: one filter, the groups expanded by
  `systemd-analyze syscall-filter` itself;
- RestrictAddressFamilies=: socket(2) of any other family fails with EAFNOSUPPORT;
- MemoryDenyWriteExecute=yes: systemd's rules — mmap(2) writable and executable at once,
  mprotect(2)/pkey_mprotect(2) adding PROT_EXEC, shmat(2) with SHM_EXEC fail with EPERM;
- UMask=.

Each is a filter of its own, as systemd loads them: the kernel runs all and the strictest
answer wins.
"""

import errno
import os
import socket
import subprocess
import sys

import seccomp

PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000


def expand(name, seen=None):
    """A syscall, or every syscall of a @group (nested groups included)."""
    if not name.startswith("@"):
        return {name}
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    listing = subprocess.run(
        ["systemd-analyze", "syscall-filter", name], capture_output=True, text=True, check=True
    ).stdout.splitlines()[1:]
    names = set()
    for line in listing:
        line = line.strip()
        if line and not line.startswith("#"):
            names |= expand(line, seen)
    return names


# Allowed whatever the list says (systemd.exec(5), SystemCallFilter=).
IMPLICIT = {"execve", "exit", "exit_group", "getrlimit", "rt_sigreturn", "sigreturn"}


def syscall_rules(lines):
    """The unit's SystemCallFilter= lines as (allowed, denied): an allow list when the first
    line is not `~`, else a deny list; an empty line starts over."""
    allowed, denied = None, set()
    for line in lines:
        if not line:
            allowed, denied = None, set()
            continue
        names = set()
        for word in line.lstrip("~").split():
            names |= expand(word)
        if line.startswith("~"):
            if allowed is None:
                denied |= names
            else:
                allowed -= names
        else:
            allowed = (allowed or set()) | names
    return allowed, denied


def syscall_filter(allowed, denied, error_number):
    if allowed is None and not denied:
        return
    action = seccomp.ERRNO(getattr(errno, error_number)) if error_number else seccomp.KILL_PROCESS
    if allowed is not None:
        rules, names, rule_action = seccomp.SyscallFilter(action), allowed | IMPLICIT, seccomp.ALLOW
    else:
        rules, names, rule_action = seccomp.SyscallFilter(seccomp.ALLOW), denied - IMPLICIT, action
    for name in sorted(names):
        try:
            rules.add_rule(rule_action, name)
        except (ValueError, RuntimeError, OSError):
            pass  # not a syscall of this architecture
    rules.load()


def address_families(value):
    if not value:
        return
    if value.startswith("~"):
        fail("a RestrictAddressFamilies= deny list is not reproduced here")
    allowed = sorted(getattr(socket, name) for name in value.split())
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    refuse = seccomp.ERRNO(errno.EAFNOSUPPORT)
    # Every family between the allowed ones, and above the last.
    low = 0
    for family in allowed:
        for other in range(low, family):
            rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.EQ, other))
        low = family + 1
    rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.GE, low))
    rules.load()


def memory_deny_write_execute():
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    refuse = seccomp.ERRNO(errno.EPERM)
    both = PROT_WRITE | PROT_EXEC
    rules.add_rule(refuse, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, both, both))
    rules.add_rule(refuse, "mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
    rules.add_rule(refuse, "pkey_mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
    rules.add_rule(refuse, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    rules.load()


def fail(message):
    print(f"confine: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) < 3 or sys.argv[1] != "--":
        fail("usage: confine.py -- COMMAND ARGS…")
    env = dict(os.environ)
    settings = {k: env.pop(k) for k in list(env) if k.startswith("CONFINE_")}
    if settings.get("CONFINE_ARCHITECTURES", "native") not in ("native", ""):
        fail("SystemCallArchitectures= other than native is not reproduced here")
    # Expanded before any filter is loaded: systemd-analyze is not the confined program.
    lines = settings.get("CONFINE_SYSCALL_FILTER", "")
    allowed, denied = syscall_rules(lines.split("\n") if lines else [])
    os.umask(int(settings.get("CONFINE_UMASK", "0022"), 8))
    address_families(settings.get("CONFINE_ADDRESS_FAMILIES", ""))
    if settings.get("CONFINE_MDWE", "no") in ("yes", "true", "1", "on"):
        memory_deny_write_execute()
    # libseccomp's filters allow only this architecture's syscalls (SystemCallArchitectures=native).
    syscall_filter(allowed, denied, settings.get("CONFINE_SYSCALL_ERRNO", ""))
    os.execvpe(sys.argv[2], sys.argv[2:], env)


if __name__ == "__main__":
    main()
