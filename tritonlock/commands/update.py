"""`tritonlock update [--only KIND:NAME]`: re-resolve some or all inputs of an existing lock."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .. import lockfile
from ..errors import UsageError
from ..util.programs import require
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers
from ._lockarg import add_lock_argument, check_output_file, lock_path
from ._options import add_source_options
from ._sourceargs import given_again, resolve_options
from .resolve import report

EXAMPLES = (
    "tritonlock update                       # every input of triton.lock, from its sources",
    "tritonlock update triton.lock --only git:core",
    "tritonlock update --only wheel:numpy --only image:base",
    "tritonlock update --exclude-newer now         # wheels from the indexes as they are today",
    "tritonlock update old.lock -o new.lock && tritonlock diff old.lock new.lock",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "update",
        help,
        help + ". Sources not given again (the repos' organization, the package "
        "indexes, your own requirements, the wheels' --exclude-newer cutoff) are the lock's. "
        "With --only, the server stays at its pinned commit, only the named kinds are "
        "resolved (an unrelated source may be down), other wheels are held at their "
        "versions, and every other entry stays byte-identical.",
        EXAMPLES,
    )
    add_lock_argument(p, "lock to update")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="KIND:NAME",
        help="re-resolve only this entry (git:NAME, wheel:NAME, image:ROLE, url:URL); "
        "it must be in the lock",
    )
    p.add_argument("-o", "--output", help="write here instead of over LOCK")
    add_source_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..resolve.merge import check_only, parse_only
    from ..resolve.update import remember_sources, update
    from ._progress import Progress

    only = [parse_only(spec) for spec in args.only]
    if only and args.server_ref:
        raise UsageError(
            "--server-ref with --only: --only keeps the server at its pinned commit; "
            "run `tritonlock update --server-ref REF` without --only"
        )
    path = lock_path(args)
    out = args.output or path
    old = lockfile.load(path)
    check_only(old, only, path)
    opts = remember_sources(resolve_options(args), old, given_again(args))
    check_output_file(out, "-o" if args.output else "LOCK")
    require("git", "update")
    with Progress(quiet=args.quiet or args.json) as progress:
        lock = update(old, opts, only, progress, progress.note)
        sealed = lockfile.write(lock, out)
        progress.note(f"wrote {out} {sealed.content_hash}")
    return report(sealed, out, args.json)
