"""`tritonlock hash LOCK`: print the content hash computed from a lock's content."""

from __future__ import annotations

import argparse

from .. import lockfile
from ..errors import EXIT_OK

HELP = "print the content hash of a lock (computed from its content, not the one it claims)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("hash", help=HELP, description=HELP + ". The rule is in the README.")
    p.add_argument("lock", help="lock file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(lockfile.file_hash(args.lock))
    return EXIT_OK
