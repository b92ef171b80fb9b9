"""The lock argument every command takes (``LOCK`` or ``--lock LOCK``) and the check of an
output file before any work."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import UsageError


def add_lock_argument(
    p: argparse.ArgumentParser, what: str = "lock file", *, several: bool = False
) -> None:
    """The lock, passed the same way to every command: ``LOCK`` (or ``--lock LOCK``);
    ``several``: ``LOCK...`` (read with :func:`lock_paths`)."""
    if several:
        p.add_argument("lock", nargs="*", metavar="LOCK", help=f"{what} (default: triton.lock)")
    else:
        p.add_argument("lock", nargs="?", metavar="LOCK", help=f"{what} (default: triton.lock)")
    p.add_argument("--lock", dest="lock_option", metavar="LOCK", help="the same as LOCK")


def lock_path(args: argparse.Namespace) -> str:
    """The lock of :func:`add_lock_argument`; giving both forms is a usage error."""
    if args.lock is not None and args.lock_option is not None:
        raise UsageError(f"give the lock once: {args.lock!r} or --lock {args.lock_option!r}")
    path: str = args.lock or args.lock_option or "triton.lock"
    return path


def lock_paths(args: argparse.Namespace) -> list[str]:
    """The locks of :func:`add_lock_argument` with ``several``, in the order given."""
    if args.lock and args.lock_option is not None:
        raise UsageError(f"give the lock once: {args.lock[0]!r} or --lock {args.lock_option!r}")
    return list(args.lock) or [args.lock_option or "triton.lock"]


def check_output_file(path: str, option: str) -> None:
    """An output file can be written at ``path``: not a folder, in a folder that exists and
    is writable (checked before any work, so a long resolve never ends in a bad path)."""
    out = Path(path)
    if out.is_dir():
        raise UsageError(f"{option} {path}: is a directory; give a file name")
    parent = out.parent
    if not parent.exists():
        above = next((p for p in parent.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise UsageError(f"{option} {path}: {above} is a file, not a folder")
        raise UsageError(f"{option} {path}: folder {parent} does not exist; create it first")
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: folder {parent} is not writable")
