"""`tritonlock diff OLD NEW`: what changed between two locks, for a reviewer."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from .. import lockfile
from ..errors import EXIT_NEGATIVE, EXIT_OK
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers

EXAMPLES = (
    "tritonlock diff old.lock triton.lock",
    "git show main:triton.lock > base.lock && tritonlock diff base.lock triton.lock "
    "--format markdown",
    "tritonlock diff a.lock b.lock --exit-code --format json",
)


def register(sub: Subparsers, help: str) -> None:
    from ..diff import RENDERERS

    p = add_command(
        sub,
        "diff",
        help,
        help + ". Changes are grouped by kind (release facts, git repos and "
        "submodules, wheels, images, URL downloads, apt) with old → new short commits, "
        "versions and digests, the requested ref beside the pin, and compare links for "
        "github.com repos. The json form is documented in the README. A lock that breaks "
        "the schema is refused (exit 1), as by every command.",
        EXAMPLES,
    )
    p.add_argument("old", metavar="OLD", help="the lock before (e.g. from the base branch)")
    p.add_argument("new", metavar="NEW", help="the lock after")
    p.add_argument("--format", choices=sorted(RENDERERS), default="text", help="default: text")
    p.add_argument(
        "--exit-code", action="store_true", help="exit 1 when the locks differ (like git diff)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..diff import RENDERERS, diff_locks

    old, new = lockfile.load(args.old), lockfile.load(args.new)
    diff = diff_locks(old, new)
    rendered = RENDERERS[args.format](diff, args.old, args.new)
    if args.format == "json":
        print(json.dumps(rendered, indent=2, ensure_ascii=False))
    else:
        print(rendered, end="")
    return EXIT_NEGATIVE if args.exit_code and not diff.identical else EXIT_OK
