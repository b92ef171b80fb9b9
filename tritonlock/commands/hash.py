"""`tritonlock hash [LOCK]`: print the content hash computed from a lock's content."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .. import lockfile
from ..errors import EXIT_OK
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers
from ._lockarg import add_lock_argument, lock_path

EXAMPLES = (
    "tritonlock hash triton.lock",
    "tritonlock hash triton.lock > computed.txt   # compare with its content-hash line",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "hash",
        help,
        help + ". The rule is in the README. A lock that breaks the schema is refused "
        "(exit 1), as by every command; a content-hash that does not match is not checked "
        "here (that is `verify`'s job).",
        EXAMPLES,
    )
    add_lock_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    raw = lockfile.read_raw(lock_path(args))
    lockfile.to_model(raw)  # a lock that breaks the schema is refused, as by every command
    print(lockfile.content_hash(raw.data))
    return EXIT_OK
