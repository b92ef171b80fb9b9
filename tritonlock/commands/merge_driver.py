"""`tritonlock merge-driver BASE OURS THEIRS [PATH]`: git's merge driver for locks
(``merge.tritonlock.driver = tritonlock merge-driver %O %A %B %P``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .. import lockfile
from ..errors import EXIT_NEGATIVE, EXIT_OK, LockInvalid, LockReadError, TritonLockError
from ..model import Lock
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers

EXAMPLES = (
    "tritonlock git-setup   # configures git to run it as the lock's merge driver",
    "tritonlock merge-driver base.lock ours.lock theirs.lock triton.lock   # as git runs it",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "merge-driver",
        help,
        help + ". git runs it as `tritonlock merge-driver %O %A %B %P` (see "
        "`tritonlock git-setup`). Each entry of the lock (an input, a release fact, a git pin "
        "by name, a wheel by step/name, an image by role, a download by URL, an apt package by "
        "step/name …) is merged on its own: the side that changed it wins, and both sides "
        "changing it the same way is no conflict. A clean merge is written to OURS canonical, "
        "with a fresh content hash, and must verify (exit 0). Both sides changing an entry "
        "differently is a conflict on that entry only: OURS keeps this branch's value, lists "
        "the entry under [[unresolved]] and keeps a stale content hash, so verify and build "
        "refuse it until `tritonlock update` resolves it again; the entries are named and it "
        "exits 1, which git reports as a conflict. A side whose content hash is wrong is "
        "refused (exit 1, OURS unchanged): a merge must not seal an edited lock.",
        EXAMPLES,
    )
    p.add_argument("base", metavar="BASE", help="the common ancestor (%%O; empty: none)")
    p.add_argument("ours", metavar="OURS", help="this branch's lock, where the result goes (%%A)")
    p.add_argument("theirs", metavar="THEIRS", help="the other branch's lock (%%B)")
    p.add_argument("path", metavar="PATH", nargs="?", help="the lock's path, for messages (%%P)")
    p.set_defaults(func=run, needs_scratch=lambda _args: False)


_SIDES = {"base": "the common ancestor's", "ours": "this branch's", "theirs": "the other branch's"}


def _read(path: str, side: str, name: str) -> Lock | None:
    """A side of the merge, whose claimed content hash must hold (None: an empty base).
    An error names the lock (``%P``) and the side, not only git's temporary file."""
    if side == "base" and Path(path).is_file() and not Path(path).read_bytes().strip():
        return None
    try:
        return lockfile.to_model(lockfile.read_raw(path), sealed=True)
    except (LockReadError, LockInvalid) as err:
        text = str(err).removeprefix(f"{path}: ")
        where = f"{name}, {_SIDES[side]} version" + ("" if path == name else f" ({path})")
        failed = TritonLockError(f"{where}: {text}")
        failed.exit_code = err.exit_code
        raise failed from None


def run(args: argparse.Namespace) -> int:
    from ..lockfile.merge import conflicted_text, merge_locks
    from ..util.atomic import atomic_write_text
    from ..verify.offline import verify

    name = args.path or args.ours
    base = _read(args.base, "base", name)
    ours, theirs = _read(args.ours, "ours", name), _read(args.theirs, "theirs", name)
    assert ours is not None and theirs is not None
    merged = merge_locks(base, ours, theirs)
    if not merged.clean:
        atomic_write_text(Path(args.ours), conflicted_text(merged, name))
        n = len(merged.conflicts)
        print(
            f"tritonlock: {name}: {n} entr{'ies' if n != 1 else 'y'} changed differently on "
            "both branches (this branch's kept, listed as unresolved; run `tritonlock update "
            f"{name}` to resolve them again):",
            file=sys.stderr,
        )
        for c in merged.conflicts:
            print(f"  {c.label}: {c.text}", file=sys.stderr)
        return EXIT_NEGATIVE
    lockfile.write(merged.lock, args.ours)
    report = verify(args.ours)
    if not report.ok and not report.partial:
        print(
            f"tritonlock: {name}: merged entry by entry, but the result does not verify; "
            f"run `tritonlock update {name}`:",
            file=sys.stderr,
        )
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_NEGATIVE
    print(
        f"tritonlock: {name}: merged entry by entry ({merged.taken} from the other branch), "
        f"{report.content_hash}",
        file=sys.stderr,
    )
    return EXIT_OK
