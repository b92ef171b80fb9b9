"""Writing a build folder atomically: a temp sibling folder, then a rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .. import interrupt
from ..errors import UsageError

MARKER = ".tritonlock-build"
EXECUTABLE = frozenset({"build.sh", "cmake_build"})


def write(out: Path, files: Mapping[str, bytes]) -> None:
    """Replace ``out`` by exactly ``files``; readers never see a half-written folder."""
    check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
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


def _swap(tmp: Path, out: Path) -> None:
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
