"""`tritonlock verify [LOCK]`: check a lock offline."""

from __future__ import annotations

import argparse
import json

from ..errors import EXIT_NEGATIVE, EXIT_OK
from ..verify import verify

HELP = "check a lock offline: schema, content hash, consistency and compatibility rules"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help=HELP,
        description=HELP + ". Prints `OK <content-hash>` and exits 0, or lists every problem "
        "with its path in the lock and exits 1 (tampered, stale, inconsistent or partial). "
        "Exits 2 when the file cannot be read as a lock at all.",
    )
    p.add_argument(
        "lock", nargs="?", default="triton.lock", help="lock file (default: %(default)s)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON report instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = verify(args.lock)
    if args.json:
        print(
            json.dumps(
                {
                    "lock": report.path,
                    "ok": report.ok,
                    "content-hash": report.content_hash,
                    "problems": report.problems,
                },
                indent=2,
            )
        )
    elif report.ok:
        print(f"OK {report.content_hash}")
    else:
        for problem in report.problems:
            print(f"{report.path}: {problem}")
        n = len(report.problems)
        print(f"FAILED {report.path}: {n} problem{'s' if n != 1 else ''}")
    return EXIT_OK if report.ok else EXIT_NEGATIVE
