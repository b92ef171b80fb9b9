"""`tritonlock git-setup`: route locks to tritonlock's textconv diff and merge drivers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_OK, UsageError
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers

EXAMPLES = (
    "tritonlock git-setup                          # triton.lock, this repository's config",
    "tritonlock git-setup --pattern 'locks/*.lock' --pattern triton.lock",
    "tritonlock git-setup --global                 # the drivers in ~/.gitconfig",
    "tritonlock git-setup --command '/opt/venv/bin/tritonlock'",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "git-setup",
        help,
        help + ". Adds `PATTERN diff=tritonlock merge=tritonlock` to the repository's "
        ".gitattributes (once; a line for the same pattern that sets only diff or merge "
        "attributes is replaced, other lines are kept before it) and sets "
        "diff.tritonlock.textconv (`tritonlock diff --textconv`), "
        "merge.tritonlock.name and merge.tritonlock.driver (`tritonlock merge-driver %O %A %B "
        "%P`) in this repository's git config, or with --global in yours. Commit .gitattributes "
        "so everyone's git routes the lock; each clone runs git-setup once for the config "
        "(git never takes commands from a repository).",
        EXAMPLES,
    )
    p.add_argument(
        "--pattern",
        action="append",
        default=[],
        help="a .gitattributes pattern of lock files (repeatable; default: triton.lock)",
    )
    p.add_argument(
        "--global",
        dest="scope",
        action="store_const",
        const="--global",
        default="--local",
        help="write the driver config to your global git config, not this repository's",
    )
    p.add_argument(
        "--command",
        default="tritonlock",
        help="how git runs tritonlock (default: tritonlock, found on git's PATH)",
    )
    p.add_argument("-C", dest="repo", default=".", help="the repository (default: here)")
    p.set_defaults(func=run, needs_scratch=lambda _args: False)


def _git(repo: str, *words: str) -> str:
    from ..util import procs
    from ..util.programs import require

    done = procs.run([require("git", "git-setup"), "-C", repo, *words], timeout=60)
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise UsageError(f"git {' '.join(words[:2])}: {why[0]}", prog="tritonlock git-setup")
    return done.stdout.decode().strip()


def run(args: argparse.Namespace) -> int:
    from ..diff.gitsetup import DEFAULT_PATTERNS, check_pattern, config, with_attributes
    from ..util.atomic import atomic_write_text

    patterns = tuple(args.pattern) or DEFAULT_PATTERNS
    for pattern in patterns:
        why = check_pattern(pattern)
        if why:
            raise UsageError(f"--pattern {pattern!r}: {why}", prog="tritonlock git-setup")
    if not args.command.strip():
        raise UsageError("--command: empty", prog="tritonlock git-setup")
    top = Path(_git(args.repo, "rev-parse", "--show-toplevel"))
    attributes = top / ".gitattributes"
    before = attributes.read_text("utf-8") if attributes.is_file() else ""
    after = with_attributes(before, patterns)
    if after != before:
        atomic_write_text(attributes, after, output=True)
    for key, value in config(args.command):
        _git(str(top), "config", args.scope, key, value)
    where = "your global git config" if args.scope == "--global" else "this repository's config"
    print(f"{attributes}: {' '.join(patterns)} diff=tritonlock merge=tritonlock")
    print(f"{where}: diff.tritonlock.textconv and merge.tritonlock.driver run {args.command}")
    return EXIT_OK
