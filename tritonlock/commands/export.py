"""`tritonlock export requirements [LOCK]`: a pip requirements file with hashes, from a lock."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_OK
from ..export.requirements import check_complete, export_requirements, load_checked
from ..util.atomic import atomic_write_text
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers
from ._lockarg import add_lock_argument, check_output_file, lock_path

REQ_HELP = (
    "write the lock's wheel pins as a pip requirements file with --hash=sha256: lines, "
    "for `pip install --require-hashes --no-deps -r FILE`"
)
EXAMPLES = (
    "tritonlock export requirements triton.lock --step final-vllm -o requirements.txt",
    "pip install --require-hashes --no-deps -r requirements.txt",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(sub, "export", help, help + ".", EXAMPLES)
    formats = p.add_subparsers(dest="format", metavar="FORMAT", parser_class=type(p))
    r = add_command(formats, "requirements", REQ_HELP, REQ_HELP + ".", EXAMPLES)
    add_lock_argument(r)
    r.add_argument("--step", help="install step to export (default: all, if they agree)")
    r.add_argument("-o", "--output", help="file to write (default: standard output)")
    r.add_argument(
        "--allow-partial",
        action="store_true",
        help="export a partial lock's pinned wheels anyway (its unresolved ones are missing)",
    )
    r.set_defaults(func=run)
    p.set_defaults(func=lambda _args: p.error("name a format: requirements"))


def run(args: argparse.Namespace) -> int:
    path = lock_path(args)
    if args.output:
        check_output_file(args.output, "-o")
    lock = load_checked(path)
    if not args.allow_partial:
        check_complete(lock, path, args.step)
    text = export_requirements(lock, args.step)
    if args.output:
        atomic_write_text(Path(args.output), text, output=True)
    else:
        sys.stdout.write(text)
    return EXIT_OK
