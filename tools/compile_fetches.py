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
lock), NOT PROVIDED, or no fetch at all (``tools/fetchaudit``). Exit 0 when nothing reached
is NOT PROVIDED, 1 when something is, 2 on bad input. ``--cache-dir DIR`` keeps the
checkouts for the next run; ``--recipe DIR`` reads the generated files from DIR instead.
"""

from __future__ import annotations

import argparse
import fnmatch
import shutil
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fetchaudit import Tree, audit, counts, report
from fetchaudit.model import NOT_PROVIDED

from tritonlock import lockfile
from tritonlock.errors import TritonLockError
from tritonlock.model import GitPin, Lock, repo_key
from tritonlock.resolve.git import parse_mirror
from tritonlock.resolve.recipe import capture, read_folder, stale
from tritonlock.sources.gitclient import GitFailed, run_git, sparse_fetch
from tritonlock.sources.mirrors import rewrite as fetch_url
from tritonlock.upstream import cmake

DONE = ".tritonlock-checkout-done"
PATHS = ".tritonlock-paths"
# What the audit reads: CMake files, scripts, templates configure_file fills in, and the
# files that say what a Python build installs. Other blobs are never fetched (the upstream
# snapshots lack some big ones), but every path is listed.
READ = ("CMakeLists*.txt", "*.cmake", "*.py", "*.sh", "*.bash", "*.pl", "*.in", "*.toml", "*.cfg")
TIMEOUT = 600.0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="compile_fetches.py", description=__doc__.split("\n\n")[0])
    p.add_argument("lock", help="a triton.lock (a partial one too)")
    p.add_argument("--git-mirror", action="append", default=[], metavar="PREFIX=MIRROR")
    p.add_argument("--json", action="store_true", help="JSON instead of a markdown table")
    p.add_argument(
        "--recipe",
        type=Path,
        metavar="DIR",
        help="upstream's generated files (cmake_build …) from DIR, not build.py --dryrun",
    )
    p.add_argument("--cache-dir", type=Path, help="keep the checkouts here for the next run")
    p.add_argument("-o", "--output", type=Path, help="write the report here, not to stdout")
    p.add_argument("--jobs", type=int, default=4, help="checkouts at a time (default 4)")
    return p.parse_args(argv)


def checkout(url: str, commit: str, dest: Path, mirrors: Sequence[tuple[str, str]]) -> None:
    """The files the audit reads of ``commit`` (fetched shallow, by id, from the mirror),
    and the list of every path of the tree in ``PATHS``. A blob the mirror lacks is
    skipped when the files are read one by one."""
    src = fetch_url(url, mirrors)
    try:
        got = sparse_fetch(dest, src, commit, READ, timeout=TIMEOUT)
        if got != commit:
            raise GitFailed(f"served {got[:12]} for {commit[:12]}")
        listing = run_git(["ls-tree", "-r", "-z", commit], cwd=dest, timeout=TIMEOUT)
    except GitFailed as err:
        raise TritonLockError(f"{url} @ {commit[:12]}: cannot check out: {err}") from None
    blobs = [e.split("\t", 1)[1] for e in listing.split("\0") if "\t" in e and " blob " in e]
    try:
        run_git(["checkout", "-q", "--detach", commit], cwd=dest, timeout=TIMEOUT, remote=src)
    except GitFailed:  # a blob the mirror lacks: read the files one by one, as far as they go
        for path in blobs:
            if fnmatch_any(path) and not (dest / path).exists():
                try:
                    text = run_git(
                        ["show", f"{commit}:{path}"], cwd=dest, timeout=TIMEOUT, remote=src
                    )
                except GitFailed:
                    continue
                (dest / path).parent.mkdir(parents=True, exist_ok=True)
                (dest / path).write_text(text)
    (dest / PATHS).write_text("\n".join(blobs) + "\n")


def fnmatch_any(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(base, pattern) for pattern in READ)


def _checkout(url: str, commit: str, root: Path, mirrors: Sequence[tuple[str, str]]) -> Path:
    """``commit`` of ``url`` under ``root`` (kept there: a finished one is reused)."""
    dest = root / f"{repo_key(url)}@{commit}"
    if (dest / DONE).exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        checkout(url, commit, dest, mirrors)
    except TritonLockError:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    (dest / DONE).touch()
    return dest


class Trees:
    """Every pinned tree's checkout, with submodules at their paths, and a reader."""

    def __init__(self, lock: Lock, root: Path, mirrors: Sequence[tuple[str, str]], jobs: int):
        self.roots: dict[str, list[tuple[str, Path]]] = {}  # pin -> (prefix, dir), longest first
        self.unread: dict[str, str] = {}
        wanted = {(p.url, p.commit) for p in lock.git}
        wanted |= {(s.url, s.commit) for p in lock.git for s in p.submodules}
        # one checkout per folder: every spelling of a repository is one (repo_key)
        by_dest = {(repo_key(u), c): (u, c) for u, c in sorted(wanted)}
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {
                k: pool.submit(_checkout, u, c, root, mirrors) for k, (u, c) in by_dest.items()
            }
        done: dict[tuple[str, str], Path | str] = {}
        for k, fut in futures.items():
            try:
                done[k] = fut.result()
            except TritonLockError as err:
                done[k] = str(err)
        for pin in lock.git:
            self._compose(pin, done)

    def _compose(self, pin: GitPin, done: dict[tuple[str, str], Path | str]) -> None:
        top = done[(repo_key(pin.url), pin.commit)]
        if isinstance(top, str):
            self.unread[pin.name] = top
            return
        roots = [("", top)]
        for s in pin.submodules:
            got = done[(repo_key(s.url), s.commit)]
            if isinstance(got, str):
                self.unread[f"{pin.name}/{s.path}"] = got
            else:
                roots.append((s.path + "/", got))
        self.roots[pin.name] = sorted(roots, key=lambda r: -len(r[0]))

    def tree(self, name: str) -> Tree:
        paths: set[str] = set()
        for prefix, root in self.roots[name]:
            listed = (root / PATHS).read_text().split("\n")
            paths.update(f"{prefix}{p}" for p in listed if p)
        cmake_files = {p: self.read(name, p) or "" for p in sorted(paths) if cmake.is_cmake_file(p)}
        return Tree(name, cmake_files, frozenset(paths))

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
    if args.recipe is not None:
        recipe = read_folder(args.recipe, lock)
        problems = stale(lock, recipe, str(args.recipe), complete=False)
    else:
        recipe, problems = capture(lock, mirrors)
    for problem in problems:
        print(f"compile_fetches: warning: {problem}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="compile-fetches-") as tmp:
        root = args.cache_dir or Path(tmp)
        trees = Trees(lock, root, mirrors, args.jobs)
        found = {name: trees.tree(name) for name in trees.roots}
        result = audit(lock, recipe, found, trees.read, trees.unread)
    text = (report.to_json if args.json else report.markdown)(result, args.lock)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 1 if counts(result.findings)[NOT_PROVIDED] else 0


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
