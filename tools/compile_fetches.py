"""List every fetch the pinned sources of a lock can perform during the offline compile,
and show how the compile stage provides each one (issue 13).

Needs the upstream mirrors (``tools/serve-upstream.sh``). From the repository root::

    python3 tools/compile_fetches.py LOCK \\
        --git-mirror https://github.com/=git://127.0.0.1:9419/github.com/ [--json]

It checks out every pinned repository and submodule at its pinned commit (through the same
``--git-mirror`` options as ``tritonlock resolve``), regenerates upstream's recipe at the
pinned server commit, walks every tree's CMake the way the build configures it, and lists
every ``ExternalProject_Add``/``FetchContent_Declare`` download, ``file(DOWNLOAD)``, command
CMake runs and script it names, and ``cmake_build``'s clones, pip runs and downloads: each
provided (mirror, hook or wheelhouse), not reached (why), unresolved in the lock (a partial
lock), NOT PROVIDED, or no fetch at all (``fetch_audit.py``). Exit 0 when nothing reached
is NOT PROVIDED, 1 when something is, 2 on bad input. ``--cache-dir DIR`` keeps the
checkouts for the next run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fetch_audit
import fetch_report

from tritonlock import cmake, lockfile
from tritonlock.emit.recipe import capture
from tritonlock.errors import TritonLockError
from tritonlock.model import GitPin, Lock, repo_key
from tritonlock.resolve.git import parse_mirror
from tritonlock.resolve.trees import checkout

DONE = ".tritonlock-checkout-done"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="compile_fetches.py", description=__doc__.split("\n\n")[0])
    p.add_argument("lock", help="a triton.lock (a partial one too)")
    p.add_argument("--git-mirror", action="append", default=[], metavar="PREFIX=MIRROR")
    p.add_argument("--json", action="store_true", help="JSON instead of a markdown table")
    p.add_argument("--cache-dir", type=Path, help="keep the checkouts here for the next run")
    p.add_argument("-o", "--output", type=Path, help="write the report here, not to stdout")
    p.add_argument("--jobs", type=int, default=4, help="checkouts at a time (default 4)")
    return p.parse_args(argv)


def _checkout(url: str, commit: str, root: Path, mirrors: Sequence[tuple[str, str]]) -> Path:
    """``commit`` of ``url`` under ``root`` (kept there: a finished one is reused)."""
    dest = root / f"{repo_key(url)}@{commit}"
    if (dest / DONE).exists():
        return dest
    if dest.exists():
        _remove(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        checkout(url, commit, dest, mirrors)
    except TritonLockError:
        _remove(dest)
        raise
    (dest / DONE).touch()
    return dest


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


class Trees:
    """Every pinned tree's checkout, with submodules at their paths, and a reader."""

    def __init__(self, lock: Lock, root: Path, mirrors: Sequence[tuple[str, str]], jobs: int):
        self.roots: dict[str, list[tuple[str, Path]]] = {}  # pin -> (prefix, dir), longest first
        self.unread: dict[str, str] = {}
        wanted = {(p.url, p.commit) for p in lock.git}
        wanted |= {(s.url, s.commit) for p in lock.git for s in p.submodules}
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {k: pool.submit(_checkout, k[0], k[1], root, mirrors) for k in sorted(wanted)}
        done: dict[tuple[str, str], Path | str] = {}
        for k, fut in futures.items():
            try:
                done[k] = fut.result()
            except TritonLockError as err:
                done[k] = str(err)
        for pin in lock.git:
            self._compose(pin, done)

    def _compose(self, pin: GitPin, done: dict[tuple[str, str], Path | str]) -> None:
        top = done[(pin.url, pin.commit)]
        if isinstance(top, str):
            self.unread[pin.name] = top
            return
        roots = [("", top)]
        for s in pin.submodules:
            got = done[(s.url, s.commit)]
            if isinstance(got, str):
                self.unread[f"{pin.name}/{s.path}"] = got
            else:
                roots.append((s.path + "/", got))
        self.roots[pin.name] = sorted(roots, key=lambda r: -len(r[0]))

    def tree(self, name: str) -> fetch_audit.Tree:
        paths: set[str] = set()
        for prefix, root in self.roots[name]:
            for folder, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if d != ".git"]
                rel = os.path.relpath(folder, root)
                rel = "" if rel == "." else rel + "/"
                paths.update(f"{prefix}{rel}{f}" for f in files if f != DONE)
        # a submodule's files replace its (empty) folder in the superproject
        cmake_files = {p: self.read(name, p) or "" for p in sorted(paths) if cmake.is_cmake_file(p)}
        return fetch_audit.Tree(name, cmake_files, frozenset(paths))

    def read(self, name: str, path: str) -> str | None:
        for prefix, root in self.roots.get(name, []):
            if path.startswith(prefix):
                file = root / path[len(prefix) :]
                try:
                    return file.read_text("utf-8", errors="replace") if file.is_file() else None
                except OSError:
                    return None
        return None


def run(args: argparse.Namespace) -> int:
    lock = lockfile.load(args.lock)
    mirrors = [parse_mirror(m) for m in args.git_mirror]
    recipe, problems = capture(lock, mirrors)
    for problem in problems:
        print(f"compile_fetches: warning: {problem}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="compile-fetches-") as tmp:
        root = args.cache_dir or Path(tmp)
        trees = Trees(lock, root, mirrors, args.jobs)
        found = {name: trees.tree(name) for name in trees.roots}
        result = fetch_audit.audit(lock, recipe, found, trees.read, trees.unread)
    text = (fetch_report.to_json if args.json else fetch_report.markdown)(result, args.lock)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 1 if fetch_audit.counts(result.findings)[fetch_audit.NOT_PROVIDED] else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except TritonLockError as err:
        print(f"compile_fetches: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"compile_fetches: {err.filename or ''}: {err.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
