"""Writing a build folder atomically: a temp sibling folder, then one atomic exchange.

Where the kernel and filesystem have ``renameat2(RENAME_EXCHANGE)`` (Linux 3.15+, ext4,
xfs, btrfs, tmpfs, overlayfs), the new folder and the old one trade places in one step: a
SIGKILL at any moment leaves the old folder or the new one at ``out``. Elsewhere the old
folder is renamed aside first; a run killed between the two renames leaves it aside, and
the next run puts it back before anything else. Each run also removes the temporaries
(``.NAME.*.tmp``, ``.NAME.*.old``) that an interrupted one left.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..errors import UsageError
from ..util import interrupt

MARKER = ".tritonlock-build"
EXECUTABLE = frozenset({"build.sh", "cmake_build"})


def write(out: Path, files: Mapping[str, bytes]) -> None:
    """Replace ``out`` by exactly ``files``; readers never see a half-written folder."""
    check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    interrupt.temporary(tmp, replaces=out)
    try:
        for rel, data in sorted({**files, MARKER: b""}.items()):
            _write_one(tmp, rel, data)
        os.chmod(tmp, 0o755)
        with interrupt.deferred():
            _swap(tmp, out)
            interrupt.written(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        interrupt.settled(tmp)


def check_replaceable(out: Path) -> None:
    """``out`` may be replaced by a build folder (else a one-line error naming it)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"{out}: exists and is not a folder; choose another -o")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(f"{out}: not empty and not written by tritonlock build; choose another -o")
    above = next((p for p in out.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise UsageError(f"-o {out}: {above} is a file, not a folder")


def _write_one(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    if ".." in Path(rel).parts or Path(rel).is_absolute():
        raise ValueError(f"unsafe output path {rel!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, 0o755 if path.name in EXECUTABLE else 0o644)


def recover(out: Path) -> None:
    """Undo what an interrupted run left: the old folder put back where a kill between two
    renames left it aside, then every leftover temporary removed."""
    leftovers = sorted(out.parent.glob(f".{out.name}.*.old")) + sorted(
        out.parent.glob(f".{out.name}.*.tmp")
    )
    for path in leftovers:
        if not path.is_dir() or path.is_symlink():
            continue
        if path.suffix == ".old" and not out.exists() and (path / MARKER).is_file():
            os.rename(path, out)
            continue
        shutil.rmtree(path, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` atomically; False where the system cannot (then nothing moved)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap(tmp: Path, out: Path) -> None:
    if out.exists() and _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old folder
        return
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.rmdir(old)
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)
