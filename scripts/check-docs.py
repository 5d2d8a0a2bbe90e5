#!/usr/bin/env python3
"""Check the relative links of every tracked Markdown file.

For each file of `git ls-files '*.md'`, every Markdown link or image `[text](target)`,
`<img src=...>` and `<a href=...>` with a relative target must name a file or directory that
exists, and a `#anchor` (in the same file or another .md file) must name a heading or an explicit
`<a id=...>` / `<a name=...>` there. Anchors follow GitHub's heading slugs: lowercase; characters
other than letters, digits, spaces, `-` and `_` dropped (Unicode letters such as Cyrillic kept);
spaces become `-`; a repeated heading gets `-1`, `-2`, ... Links inside fenced code blocks and
inline code are ignored. http(s) and mailto links are not fetched (CI is offline), only counted.

Prints each broken link as `file:line: target: reason` and exits 1 if there is any; otherwise
prints a one-line summary. Run from anywhere inside the repository:

    scripts/check-docs.py
"""

import os
import re
import subprocess
import sys
import unicodedata
from urllib.parse import unquote

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
# [text](target "title") and ![alt](target); the text may hold one level of brackets.
MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
HTML_ATTR = re.compile(r"<(?:img|a)\b[^>]*?\b(src|href)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:id|name)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)
EXTERNAL = re.compile(r"^(https?:|mailto:)", re.I)
OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def repo_root():
    out = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def strip_inline_code(line):
    return INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)


def prose_lines(text):
    """(line number, line, raw line) of the lines outside fenced code blocks; in `line` inline
    code is blanked."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                continue
            yield number, strip_inline_code(line), line
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):].strip():
            fence = None


def heading_text(raw):
    """A heading's text as GitHub renders it: links reduced to their text, HTML tags dropped,
    except inside code, where `<name>` is text (`[routes.<name>]` is routesname)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)
    parts = re.split(r"(`+[^`]*`+)", text)
    return "".join(p if p.startswith("`") else re.sub(r"<[^>]+>", "", p) for p in parts).replace("`", "")


def slug(text):
    out = []
    for ch in heading_text(text).strip().lower():
        cat = unicodedata.category(ch)
        if ch in " -_" or cat[0] in "LN" or cat == "Mn":
            out.append("-" if ch == " " else ch)
    return "".join(out)


def anchors_of(text):
    found = set()
    counts = {}
    previous = None
    for _, line, raw in prose_lines(text):
        m = HEADING.match(raw)
        title = None
        if m:
            title = m.group(2)
        elif previous is not None and previous.strip() and SETEXT.match(raw) and not HEADING.match(previous):
            title = previous.strip()
        if title is not None:
            base = slug(title)
            n = counts.get(base, 0)
            counts[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        for a in HTML_ANCHOR.finditer(line):
            found.add(a.group(1).strip("\"'"))
        previous = raw
    return found


def targets(line):
    for m in MD_LINK.finditer(line):
        yield m.group(1).strip("<>")
    for m in HTML_ATTR.finditer(line):
        yield m.group(2).strip("\"'")


def main():
    root = repo_root()
    files = subprocess.run(["git", "ls-files", "*.md"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    cache = {}

    def anchors(path):
        if path not in cache:
            with open(path, encoding="utf-8") as f:
                cache[path] = anchors_of(f.read())
        return cache[path]

    broken = []
    checked = external = 0
    for name in files:
        path = os.path.join(root, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for number, line, _ in prose_lines(text):
            for target in targets(line):
                if EXTERNAL.match(target):
                    external += 1
                    continue
                if OTHER_SCHEME.match(target):
                    continue
                checked += 1
                file_part, _, anchor = target.partition("#")
                if file_part:
                    dest = os.path.normpath(os.path.join(os.path.dirname(path), unquote(file_part)))
                    if not os.path.exists(dest):
                        broken.append(f"{name}:{number}: {target}: no such file or directory")
                        continue
                else:
                    dest = path
                if anchor:
                    if not dest.endswith(".md") or os.path.isdir(dest):
                        broken.append(f"{name}:{number}: {target}: an anchor into a file that is not Markdown")
                    elif unquote(anchor) not in anchors(dest):
                        broken.append(f"{name}:{number}: {target}: no heading or anchor #{anchor} in {os.path.relpath(dest, root)}")
    for line in broken:
        print(line)
    if broken:
        print(f"check-docs: {len(broken)} broken of {checked} relative links in {len(files)} files", file=sys.stderr)
        return 1
    print(f"check-docs: {checked} relative links in {len(files)} Markdown files are good; {external} external links not fetched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
