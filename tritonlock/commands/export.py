"""`tritonlock export requirements`: a pip requirements file with hashes, from a lock."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..atomic import atomic_write_text
from ..errors import EXIT_OK
from ..export import export_requirements, load_checked

HELP = "export part of a lock in another tool's format"
REQ_HELP = (
    "write the lock's wheel pins as a pip requirements file with --hash=sha256: lines, "
    "for `pip install --require-hashes --no-deps -r FILE`"
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help=HELP, description=HELP + ".")
    formats = p.add_subparsers(dest="format", metavar="FORMAT", parser_class=type(p))
    r = formats.add_parser("requirements", help=REQ_HELP, description=REQ_HELP + ".")
    r.add_argument("--lock", default="triton.lock", help="lock file (default: %(default)s)")
    r.add_argument("--step", help="install step to export (default: all, if they agree)")
    r.add_argument("-o", "--output", help="file to write (default: standard output)")
    r.set_defaults(func=run)
    p.set_defaults(func=lambda _args: p.error("name a format: requirements"))


def run(args: argparse.Namespace) -> int:
    text = export_requirements(load_checked(args.lock), args.step)
    if args.output:
        atomic_write_text(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return EXIT_OK
