"""`tritonlock diff OLD NEW`: what changed between two locks, for a reviewer."""

from __future__ import annotations

import argparse
import json

from .. import lockfile
from ..diff import RENDERERS, diff_locks
from ..errors import EXIT_NEGATIVE, EXIT_OK, LockInvalid, LockReadError
from ..model import Lock

HELP = "show what changed between two locks (text, markdown for a pull request, or json)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diff",
        help=HELP,
        description=HELP + ". Changes are grouped by kind (release facts, git repos and "
        "submodules, wheels, images, URL downloads, apt) with old → new short commits, "
        "versions and digests, the requested ref beside the pin, and compare links for "
        "github.com repos. The json form is documented in the README.",
    )
    p.add_argument("old", help="the lock before (e.g. from the base branch)")
    p.add_argument("new", help="the lock after")
    p.add_argument("--format", choices=sorted(RENDERERS), default="text", help="default: text")
    p.add_argument(
        "--exit-code", action="store_true", help="exit 1 when the locks differ (like git diff)"
    )
    p.set_defaults(func=run)


def _load(path: str) -> Lock:
    try:
        return lockfile.load(path)
    except LockInvalid as err:
        # A lock with schema problems cannot be compared meaningfully: bad input.
        raise LockReadError(f"{err}; run `tritonlock verify {path}`") from None


def run(args: argparse.Namespace) -> int:
    old, new = _load(args.old), _load(args.new)
    diff = diff_locks(old, new)
    rendered = RENDERERS[args.format](diff, args.old, args.new)
    if args.format == "json":
        print(json.dumps(rendered, indent=2, ensure_ascii=False))
    else:
        print(rendered, end="")
    return EXIT_NEGATIVE if args.exit_code and not diff.identical else EXIT_OK
