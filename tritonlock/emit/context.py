"""Apply a ``.dockerignore`` to a folder, as Docker does to a build context.

Upstream's compile runs in the ``tritonserver_buildbase`` image, whose ``COPY . .`` takes
the server checkout as Docker's build context: without what the checkout's
``.dockerignore`` excludes (``.git*`` in every release). The emitted build copies this
file into its sources stage and runs it on the pinned server tree
(``python3 context.py ROOT``), so the compile sees the same tree; it needs only Python 3.8.

The rules are Docker's (moby ``patternmatcher``): one pattern a line, ``#`` comments, ``!``
for an exception, each pattern cleaned like a path with a leading ``/`` dropped; ``*`` and
``?`` match within one path segment, ``**`` any number of segments, ``[...]`` a class,
``\\`` escapes; a path is excluded when the last pattern matching it or one of its parent
folders is not an exception.
"""

from __future__ import annotations  # annotations are not evaluated: Python 3.8 runs this

import os
import posixpath
import re
import shutil
import sys


def _regex(pattern: str) -> re.Pattern[str]:
    """The regex of one cleaned pattern, matched against a whole slash-separated path."""
    out, i, n = "^", 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern[i : i + 2] == "**":
                i += 2
                if pattern[i : i + 1] == "/":  # "**/" is zero or more whole segments
                    i += 1
                    out += "(?:.*/)?"
                else:
                    out += ".*"
                continue
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "\\" and i + 1 < n:
            i += 1
            out += re.escape(pattern[i])
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise ValueError(f"unterminated character class in {pattern!r}")
            body = pattern[i + 1 : end]
            if body.startswith("^"):
                body = "!" + body[1:]
            neg = body.startswith("!")
            body = body[1:] if neg else body
            out += "[" + ("^/" if neg else "") + body.replace("\\", "\\\\") + "]"
            i = end
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + "$")


def parse(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """The patterns of a ``.dockerignore`` text, in order."""
    patterns: list[tuple[bool, re.Pattern[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
        line = posixpath.normpath(line.replace(os.sep, "/"))
        if len(line) > 1 and line.startswith("/"):
            line = line.lstrip("/")
        if line == ".":
            continue
        patterns.append((exception, _regex(line)))
    return patterns


def excluded(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether ``path`` (relative, slash-separated) is left out of the build context."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: k + 1]) for k in range(len(parts))]
    out = False
    for exception, rx in patterns:
        if any(rx.match(p) for p in prefixes):
            out = not exception
    return out


def apply(root: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> list[str]:
    """Remove from ``root`` what ``patterns`` exclude; the removed paths, sorted."""
    removed: list[str] = []
    keep_looking = any(exc for exc, _ in patterns)  # an exception may keep a file inside
    for here, dirs, files in os.walk(root, topdown=True):
        rel = os.path.relpath(here, root)
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        for name in sorted(dirs):
            path = f"{rel}/{name}" if rel else name
            full = os.path.join(here, name)
            if excluded(path, patterns) and not keep_looking:
                if os.path.islink(full):
                    os.unlink(full)
                else:
                    shutil.rmtree(full)
                dirs.remove(name)
                removed.append(path)
        for name in sorted(files):
            path = f"{rel}/{name}" if rel else name
            if excluded(path, patterns):
                os.unlink(os.path.join(here, name))
                removed.append(path)
    return sorted(removed)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: context.py ROOT", file=sys.stderr)
        return 2
    root = argv[1]
    ignore = os.path.join(root, ".dockerignore")
    if not os.path.isfile(ignore):
        return 0
    with open(ignore, encoding="utf-8") as fh:
        try:
            patterns = parse(fh.read())
        except ValueError as err:
            print(f"tritonlock: {ignore}: {err}", file=sys.stderr)
            return 1
    removed = apply(root, patterns)
    print(f"tritonlock: .dockerignore left out {len(removed)} path(s): {' '.join(removed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
