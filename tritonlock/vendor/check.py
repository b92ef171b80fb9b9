"""`tritonlock vendor --check DIR`: every byte of a bundle re-hashed offline against its
manifest, and the manifest tied to a lock: the lock copy in the bundle, and the lock a
build is made from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import lockfile
from ..errors import LockReadError
from . import manifest
from .layout import LOCK
from .manifest import BadBundle, Manifest


@dataclass(frozen=True, slots=True)
class Checked:
    """A bundle read and checked: ``problems`` empty when every byte is as the manifest says."""

    folder: Path
    manifest: Manifest | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_folder(
    folder: Path,
    *,
    content_hash: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Checked:
    """Check the bundle in ``folder``; with ``content_hash``, it must be that lock's bundle."""
    try:
        found = manifest.read(folder)
    except BadBundle as err:
        return Checked(folder, None, (str(err),))
    problems = manifest.check(folder, found, progress=progress)
    problems += _lock_copy(folder, found)
    if content_hash is not None and content_hash != found.content_hash:
        problems.append(
            f"{folder / 'manifest.json'}: vendored from the lock {found.content_hash}, not from "
            f"{content_hash}; vendor this lock (`tritonlock vendor LOCK -o {folder}`)"
        )
    return Checked(folder, found, tuple(problems))


def _lock_copy(folder: Path, found: Manifest) -> list[str]:
    """The lock copy in the bundle hashes to the content hash the manifest names."""
    path = folder / LOCK
    if not path.is_file():
        return []  # listed in the manifest: reported missing there
    try:
        actual = lockfile.content_hash(lockfile.read_raw(path).data)
    except LockReadError as err:
        return [f"{path}: {err}"]
    if actual != found.content_hash:
        return [f"{path}: its content hash is {actual}, the manifest says {found.content_hash}"]
    return []
