"""Atomic file writes: a temp file in the same folder, fsync, then rename."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from . import interrupt


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644, *, output: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    ``output``: a file the user asked for (a lock, an export), which an interruption names
    once it is in place; caches are not named."""
    import tempfile  # not at import: `verify` reads and never writes

    path.parent.mkdir(parents=True, exist_ok=True)
    with interrupt.deferred():  # a Ctrl-C between the two would leave the file behind
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        interrupt.temporary(tmp, replaces=path if output else None)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        if output:
            interrupt.written(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        interrupt.settled(tmp)


def atomic_write_text(path: Path, text: str, mode: int = 0o644, *, output: bool = False) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode, output=output)


def read_json(path: Path) -> object | None:
    """The JSON value in ``path``; None when it is missing or cannot be read (a cache's
    entry that is a miss, never an error)."""
    import json

    try:
        value: object = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value


def write_json(path: Path, value: object) -> None:
    """``value`` as JSON (keys sorted) at ``path``, atomically; a cache that cannot be
    written is only a slower next run, so a failure to write is not an error."""
    import json

    with contextlib.suppress(OSError):
        atomic_write_bytes(path, json.dumps(value, sort_keys=True).encode())
