"""`tritonlock verify [LOCK]`: check a lock offline; with --deep, also against its sources."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from ..errors import EXIT_NEGATIVE, EXIT_OK, UsageError
from ..util.programs import require
from ..verify.offline import Report, verify
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers
from ._lockarg import add_lock_argument, lock_paths
from ._options import add_apt_archive_option, add_cache_dir_option, add_mirror_options, cache_root
from ._sourceargs import live_source_fields

if TYPE_CHECKING:
    from ..verify.deep import DeepOptions, DeepReport

EXAMPLES = (
    "tritonlock verify                       # triton.lock in this folder",
    "tritonlock verify locks/25.04-igpu-python-vllm.lock --allow-partial",
    "tritonlock verify triton.lock --json",
    "tritonlock verify locks/a.lock locks/b.lock   # each in turn (as the pre-commit hook runs)",
    "tritonlock verify triton.lock --deep --git-mirror https://github.com/=https://git.example/gh/",
    "tritonlock verify triton.lock --deep --no-cache  # every download in full, cache untouched",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "verify",
        help,
        help + ". Prints `OK <content-hash>` and exits 0, or lists every problem "
        "with its path in the lock and exits 1 (tampered, stale, inconsistent or partial). "
        "Exits 2 when the file cannot be read as a lock at all. Given several locks (as the "
        "pre-commit hook passes them), it verifies each in turn, names each on its OK line, "
        "and exits 1 when any fails.",
        EXAMPLES,
    )
    add_lock_argument(p, "lock file(s)", several=True)
    p.add_argument("--json", action="store_true", help="print a JSON report instead of text")
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="a lock whose only problems are its unresolved entries passes (exit 0), "
        "still reported as PARTIAL",
    )
    _add_deep_options(p)
    p.set_defaults(func=run, needs_scratch=lambda args: args.deep)


def _add_deep_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "against the sources (--deep)",
        "After the offline checks, ask the sources whether every pin still holds: commits "
        "fetchable, wheel files listed with the same sha256, image digests served, downloads "
        "unchanged, apt versions still offered (the recipe is captured again at the server "
        "commit and the lock's apt snapshot and the repositories each step adds are read). "
        "A moved branch, rebuilt tag or newer apt version is a note, not a failure. "
        "Mirrors change where bytes come from, as for resolve. A download is fetched in "
        "full and hashed, and its bytes are added to the shared cache; it is not sent again "
        "only when the cache holds the bytes last fetched from its URL (hashed again now) "
        "and the server answers a conditional request with the ETag or Last-Modified it "
        "gave with them by 304 Not Modified; their hash is then compared with the pin "
        "(--no-cache: always in full).",
    )
    g.add_argument("--deep", action="store_true", help="after the offline checks, ask the sources")
    add_mirror_options(g)
    add_apt_archive_option(g)
    g.add_argument(
        "--index-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="URL of the lock's index NAME (overrides [[index]] url; credentials from netrc "
        "or in the URL; repeatable)",
    )
    g.add_argument(
        "-j", "--jobs", type=int, default=24, help="parallel network requests (default: 24)"
    )
    add_cache_dir_option(
        g,
        no_cache="download every file in full and hash it; neither read nor fill the cache",
    )
    g.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def run(args: argparse.Namespace) -> int:
    paths = lock_paths(args)
    if args.json and len(paths) > 1:
        raise UsageError(f"--json reports one lock; {len(paths)} given")
    options = deep_options(args) if args.deep else None
    if options is not None:
        require("git", "verify --deep")
    codes = [_one(args, path, options, named=len(paths) > 1) for path in paths]
    return max(codes)


def _one(args: argparse.Namespace, path: str, options: DeepOptions | None, *, named: bool) -> int:
    """Verify the lock at ``path``, print its result and return its exit code."""
    report = verify(path)
    deep: DeepReport | None = None
    if options is not None and report.ok and report.lock is not None:
        from ..verify.live import verify_deep
        from ._progress import Progress

        with Progress(quiet=args.quiet or args.json) as progress:
            deep = verify_deep(report.lock, options, progress=progress)
    partial_ok = args.allow_partial and report.partial
    if not args.json:
        for note in report.notes:
            print(f"note: {note}")
    if args.json:
        print(json.dumps(_json(report, deep, args.deep, partial_ok), indent=2))
    elif deep is not None:
        _print_deep(report, deep)
    elif report.ok:
        print(f"OK {report.content_hash}" + (f" {report.path}" if named else ""))
    else:
        for problem in report.problems:
            print(f"{report.path}: {problem}")
        n = len(report.problems)
        if report.partial:
            allowed = " (allowed by --allow-partial)" if partial_ok else ""
            print(
                f"PARTIAL {report.path}: {n} input{'s' if n != 1 else ''} not pinned{allowed}; "
                "everything else verifies"
            )
        else:
            print(f"FAILED {report.path}: {n} problem{'s' if n != 1 else ''}")
    ok = (report.ok or partial_ok) and (deep is None or deep.ok)
    return EXIT_OK if ok else EXIT_NEGATIVE


def _json(
    report: Report, deep: DeepReport | None, asked: bool, partial_ok: bool
) -> dict[str, object]:
    out: dict[str, object] = {
        "lock": report.path,
        "ok": (report.ok or partial_ok) and (deep is None or deep.ok),
        "partial": report.partial,
        "content-hash": report.content_hash,
        "problems": report.problems,
        "notes": report.notes,
    }
    if asked:
        out["deep"] = deep.to_json() if deep is not None else None
    return out


def _print_deep(report: Report, deep: DeepReport) -> None:
    for note in deep.notes:
        print(f"note: {note}")
    for problem in deep.problems:
        print(f"{report.path}: {problem}")
    n = len(deep.problems)
    if deep.ok:
        print(f"OK {report.content_hash} ({deep.checked} checks against the sources)")
    else:
        print(f"FAILED {report.path}: {n} problem{'s' if n != 1 else ''} against the sources")


def deep_options(args: argparse.Namespace) -> DeepOptions:
    """The --deep options, checked before anything is read or fetched."""
    from ..verify.deep import DeepOptions

    return DeepOptions(
        **live_source_fields(args),
        apt_archive=args.apt_archive.rstrip("/"),
        cache_dir=None if args.no_cache else cache_root(args),
    )
