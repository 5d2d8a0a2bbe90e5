#!/usr/bin/env python3
"""Fails when modules of the gateway crate import each other in a cycle.

Every file under src/ is a module (`src/login/form.rs` is `login::form`, `src/login/mod.rs` is
`login`). An edge a → b is any path `crate::…` or `super::…` in a's source that names b or
something inside b (a `use`, or a path written out in code). Tests (`#[cfg(test)] mod tests`
blocks and `tests.rs` files) are left out: they may reach anywhere. A strongly connected group of
more than one module is a cycle, printed with the lines that close it.

Usage: scripts/check-module-cycles.py [--list] [--depth N]
  exit 1 on a cycle; --list prints every edge; --depth N judges modules collapsed to their first N
  path segments (`--depth 1`: the top-level areas http, login, session, proxy, …).
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
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


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def main():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".rs") and name != "tests.rs":
                path = os.path.join(dirpath, name)
                files[module_of(path)] = path
    modules = set(files)
    edges = {m: {} for m in modules}
    for mod, path in files.items():
        with open(path, encoding="utf-8") as f:
            text = strip_comments(without_tests(f.read()))
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
                # A group brace (`use crate::http::{a, b}`) names the modules inside it.
                rest = line[m.end():]
                targets = [target]
                if rest.startswith("::{"):
                    inner = rest[3:rest.find("}")] if "}" in rest else ""
                    names = re.findall(r"(?<![\w:])(\w+)", inner)
                    named = [target + (n,) for n in names if target + (n,) in modules]
                    # The group's own module counts only when the group names something in it.
                    targets = named + ([target] if len(named) < len(names) else [])
                for t in targets:
                    if t != mod and t in modules and t != ():
                        where = os.path.relpath(path, os.path.join(ROOT, ".."))
                        edges[mod].setdefault(t, f"{where}:{lineno}")
    if "--depth" in sys.argv:
        depth = int(sys.argv[sys.argv.index("--depth") + 1])
        collapsed = {m[:depth] for m in modules}
        merged = {m: {} for m in collapsed}
        for a, targets in edges.items():
            for b, where in targets.items():
                if a[:depth] != b[:depth]:
                    merged[a[:depth]].setdefault(b[:depth], where)
        modules, edges = collapsed, merged
    if "--list" in sys.argv:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f"{'::'.join(a)} -> {'::'.join(b)}  ({edges[a][b]})")
    cycles = strongly_connected(modules, edges)
    if not cycles:
        print(f"no import cycle among {len(modules)} modules")
        return 0
    for group in cycles:
        names = sorted("::".join(m) for m in group)
        print(f"import cycle among {len(group)} modules: {', '.join(names)}")
        for a in sorted(group):
            for b in sorted(edges[a]):
                if b in group:
                    print(f"  {'::'.join(a)} -> {'::'.join(b)}  ({edges[a][b]})")
    return 1


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
