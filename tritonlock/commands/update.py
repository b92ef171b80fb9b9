"""`tritonlock update [--only KIND:NAME]`: re-resolve some or all inputs of an existing lock."""

from __future__ import annotations

import argparse

from .. import lockfile
from ..errors import UsageError
from ..merge import parse_only
from ..resolve.update import update
from ..ui.progress import Progress
from ._sources import add_source_options, interruptible, resolve_options
from .resolve import report

HELP = "re-resolve the inputs of an existing lock (all, or only the named ones)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "update",
        help=HELP,
        description=HELP + ". Sources not given again (the repos' organization, the package "
        "indexes, your own requirements) are the lock's. With --only, the server stays at "
        "its pinned commit, only the named kinds are resolved (an unrelated source may be "
        "down), other wheels are held at their versions, and every other entry stays "
        "byte-identical. Examples: --only git:core, --only wheel:numpy, --only image:base.",
    )
    p.add_argument(
        "lock", nargs="?", default="triton.lock", help="lock to update (default: %(default)s)"
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="KIND:NAME",
        help="re-resolve only this entry (git:NAME, wheel:NAME, image:ROLE, url:URL)",
    )
    p.add_argument("-o", "--output", help="write here instead of over LOCK")
    add_source_options(p)
    p.set_defaults(func=interruptible(run))


def run(args: argparse.Namespace) -> int:
    only = [parse_only(spec) for spec in args.only]
    if only and args.server_ref:
        raise UsageError(
            "--server-ref with --only: --only keeps the server at its pinned commit; "
            "run `tritonlock update --server-ref REF` without --only"
        )
    old = lockfile.load(args.lock)
    opts = resolve_options(args, previous=old)
    with Progress(quiet=args.quiet or args.json) as progress:
        lock = update(old, opts, only, progress, progress.note)
        sealed = lockfile.write(lock, args.output or args.lock)
        progress.note(f"wrote {args.output or args.lock} {sealed.content_hash}")
    return report(sealed, args.output or args.lock, args.json)
