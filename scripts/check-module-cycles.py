#!/usr/bin/env python3
"""Fails when modules of a crate of the workspace import each other in a cycle.

Each crate is judged on its own: the gateway's `src/` and every `crates/*/src`. Every file under a
crate's src/ is a module (`src/login/form.rs` is `login::form`, `src/login/mod.rs` is `login`,
`lib.rs` is the crate root). An edge a → b is any path `crate::…` or `super::…` in a's source that
names b or something inside b (a `use`, or a path written out in code). Tests (`#[cfg(test)] mod
tests` blocks and `tests.rs` files) are left out: they may reach anywhere. A strongly connected
group of more than one module is a cycle, printed with the lines that close it. So a parent that
declares and re-exports its children (an edge parent → child) must not also be imported by them:
what children share lives in a module of its own, and `lib.rs`/`mod.rs` stay facades.

Usage: scripts/check-module-cycles.py [--list] [--depth N] [SRC_DIR …]
  exit 1 on a cycle in any crate; --list prints every edge; --depth N judges modules collapsed to
  their first N path segments (`--depth 1`: the top-level areas http, login, session, proxy, …);
  SRC_DIR limits the check to those crates' source folders (e.g. `crates/signature/src`).
"""
import glob
import os
import re
import sys

WORKSPACE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def crate_sources():
    """The gateway's src/ and each workspace crate's src/, as listed in the root Cargo.toml."""
    return [os.path.join(WORKSPACE, "src")] + sorted(
        glob.glob(os.path.join(WORKSPACE, "crates", "*", "src"))
    )


def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def without_tests(text):
    # Drop `#[cfg(test)] mod tests { … }` blocks by brace matching.
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def one_line_uses(text):
    """Puts each `use …;` on one line (rustfmt breaks long groups over several), keeping the line
    numbers of everything else."""

    def join(m):
        statement = m.group(0)
        return statement.replace("\n", " ") + "\n" * statement.count("\n")

    return re.sub(r"\buse\s[^;]*;", join, text)


def group_names(group):
    """The first-level names of a `{a, b::c, d::{e, f}, g as h}` group: a, b, d, g."""
    names, depth, item = [], 0, ""
    for ch in group:
        if ch == "{":
            depth += 1
            if depth == 1:
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if depth == 1 and ch == ",":
            names.append(item)
            item = ""
        elif depth >= 1:
            item += ch
    names.append(item)
    return [m.group(1) for m in (re.match(r"\s*(\w+)", n) for n in names) if m]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def main():
    args = sys.argv[1:]
    options = {"--list": False, "--depth": None}
    roots = []
    while args:
        arg = args.pop(0)
        if arg == "--list":
            options["--list"] = True
        elif arg == "--depth":
            options["--depth"] = int(args.pop(0))
        else:
            roots.append(os.path.abspath(arg))
    failed = False
    for root in roots or crate_sources():
        failed |= check_crate(root, options["--list"], options["--depth"])
    return 1 if failed else 0


def check_crate(root, list_edges, depth):
    label = os.path.relpath(root, WORKSPACE)
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            # main.rs beside lib.rs is a crate of its own (the binary), which reaches the library
            # by its name, not by `crate::`.
            is_bin_root = name == "main.rs" and os.path.exists(os.path.join(dirpath, "lib.rs"))
            if name.endswith(".rs") and name != "tests.rs" and not is_bin_root:
                files[module_of(root, path)] = path
    modules = set(files)
    edges = {m: {} for m in modules}
    for mod, path in files.items():
        with open(path, encoding="utf-8") as f:
            text = one_line_uses(strip_comments(without_tests(f.read())))
        is_dir_module = os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs")
        for lineno, line in enumerate(text.splitlines(), 1):
            # `pub(super)` is a visibility, not a path.
            line = re.sub(r"pub\((crate|super|self|in [^)]*)\)", "pub", line)
            for m in re.finditer(r"(?<![\w:])(crate|super|self|\w+)((?:::\w+)*)", line):
                head = m.group(1)
                parts = m.group(2).split("::")[1:]
                own = mod if is_dir_module else ()
                if head not in ("crate", "super", "self"):
                    # A path that starts at a child module (`use pending::X;`, `events::listen`).
                    if not (m.group(2) or line[m.end():].startswith("::")) or own + (head,) not in modules:
                        continue
                    base, parts = own, [head] + parts
                elif head == "crate":
                    base = ()
                elif head == "self":
                    base = own
                else:
                    base = mod if is_dir_module else mod[:-1]
                    while parts and parts[0] == "super":
                        base, parts = base[:-1], parts[1:]
                    # `super::` from a file module is its parent; another `super` climbs further.
                target = base
                for part in parts:
                    if base + (part,) in modules or target + (part,) in modules:
                        target = target + (part,)
                    else:
                        break
                # What the path names: a module, or an item of `target` (for the crate root only
                # when a name follows: `crate::X`, `crate::{X, m}`); a group brace names each
                # module or item in it.
                rest = line[m.end():]
                names_item = len(parts) > len(target) - len(base)
                targets = [target] if target != () or names_item else []
                if rest.startswith("::{"):
                    targets = []
                    for name in group_names(rest[2:]):
                        if name == "self" or target + (name,) not in modules:
                            targets.append(target)
                        else:
                            targets.append(target + (name,))
                for t in targets:
                    if t != mod and t in modules:
                        where = os.path.relpath(path, WORKSPACE)
                        edges[mod].setdefault(t, f"{where}:{lineno}")
    if depth is not None:
        collapsed = {m[:depth] for m in modules}
        merged = {m: {} for m in collapsed}
        for a, targets in edges.items():
            for b, where in targets.items():
                if a[:depth] != b[:depth]:
                    merged[a[:depth]].setdefault(b[:depth], where)
        modules, edges = collapsed, merged
    if list_edges:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f"{label}: {'::'.join(a) or 'crate'} -> {'::'.join(b) or 'crate'}  ({edges[a][b]})")
    cycles = strongly_connected(modules, edges)
    if not cycles:
        print(f"{label}: no import cycle among {len(modules)} modules")
        return False
    for group in cycles:
        names = sorted("::".join(m) or "crate" for m in group)
        print(f"{label}: import cycle among {len(group)} modules: {', '.join(names)}")
        for a in sorted(group):
            for b in sorted(edges[a]):
                if b in group:
                    print(f"  {'::'.join(a) or 'crate'} -> {'::'.join(b) or 'crate'}  ({edges[a][b]})")
    return True


def strongly_connected(nodes, edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(group)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
