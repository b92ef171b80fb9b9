"""`tritonlock diff OLD NEW`: what changed between two locks, for a reviewer."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from .. import lockfile
from ..errors import EXIT_NEGATIVE, EXIT_OK, LockInvalid, LockReadError, UsageError
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers

EXAMPLES = (
    "tritonlock diff old.lock triton.lock",
    "git show main:triton.lock > base.lock && tritonlock diff base.lock triton.lock "
    "--format markdown",
    "tritonlock diff a.lock b.lock --exit-code --format json",
    "tritonlock diff --textconv triton.lock   # one lock as `git diff` shows it (git-setup)",
)


def register(sub: Subparsers, help: str) -> None:
    from ..diff import RENDERERS

    p = add_command(
        sub,
        "diff",
        help,
        help + ". A summary comes first, then the risk flags (downgrades; TensorRT, ONNX "
        "Runtime, OpenVINO or libtorch changed; a new major numpy, torch, CUDA or cuDNN; a new "
        "Python) with what they mean, then the changes grouped by kind (release facts, git "
        "repos and submodules, wheels, images, URL downloads, apt) with old → new short "
        "commits, versions and digests, the requested ref beside the pin, the wheel files that "
        "appeared and went, and compare links for github.com repos; markdown folds each kind "
        "into a collapsed section for a pull-request comment. The json form is documented in "
        "the README. A lock that breaks "
        "the schema is refused (exit 1), as by every command. Each side's content hash is "
        "recomputed: a lock whose claimed hash is wrong (edited or tampered) is shown with a "
        "warning, and diff exits 1.",
        EXAMPLES,
    )
    p.add_argument(
        "old", metavar="OLD", nargs="?", help="the lock before (e.g. from the base branch)"
    )
    p.add_argument("new", metavar="NEW", nargs="?", help="the lock after")
    p.add_argument(
        "--textconv",
        metavar="FILE",
        help="print one lock, one line per entry, for git's textconv diff driver (so "
        "`git diff` of a lock reads like this command; `tritonlock git-setup` configures it); "
        "a file that is no readable lock is printed as written, under a line saying why",
    )
    p.add_argument("--format", choices=sorted(RENDERERS), default="text", help="default: text")
    p.add_argument(
        "--exit-code", action="store_true", help="exit 1 when the locks differ (like git diff)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..diff import RENDERERS, diff_locks

    if args.textconv is not None:
        return textconv(args)
    missing = [name for name, given in (("OLD", args.old), ("NEW", args.new)) if given is None]
    if missing:
        raise UsageError(
            f"the following arguments are required: {', '.join(missing)} "
            "(see `tritonlock diff --help`)",
            prog="tritonlock diff",
        )
    raws = lockfile.read_raw(args.old), lockfile.read_raw(args.new)
    old, new = (lockfile.to_model(r) for r in raws)
    diff = diff_locks(old, new, actual=(lockfile.content_hash(raws[0].data),
                                         lockfile.content_hash(raws[1].data)))  # fmt: skip
    from ..util.redact import redact  # a lock may quote a secret: never shown back

    rendered = RENDERERS[args.format](diff, args.old, args.new)
    if args.format == "json":
        print(redact(json.dumps(rendered, indent=2, ensure_ascii=False)))
    else:
        print(redact(rendered), end="")
    if not diff.hashes_ok:  # loud on stderr too: the diff of a tampered lock is not a review
        for warning in diff.hash_warnings(args.old, args.new):
            print(f"tritonlock: {warning}", file=sys.stderr)
        return EXIT_NEGATIVE
    return EXIT_NEGATIVE if args.exit_code and not diff.identical else EXIT_OK


def textconv(args: argparse.Namespace) -> int:
    """``git diff``'s view of one lock (git runs ``tritonlock diff --textconv FILE``)."""
    from ..diff.textconv import render_lock, render_unreadable
    from ..util.redact import redact

    if args.old is not None or args.new is not None:
        raise UsageError("--textconv FILE takes no OLD or NEW", prog="tritonlock diff")
    try:
        raw = lockfile.read_raw(args.textconv)
        text = render_lock(lockfile.to_model(raw), lockfile.content_hash(raw.data))
    except (LockReadError, LockInvalid) as err:
        if not os.path.isfile(args.textconv):
            raise
        with open(args.textconv, "rb") as fh:
            text = render_unreadable(str(err), fh.read(lockfile.MAX_LOCK_BYTES))
    print(redact(text), end="")
    return EXIT_OK
