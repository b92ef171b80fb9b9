"""What an install step resolved to, kept by the hash of everything it depends on, so a
warm `resolve` does not compile an unchanged step again.

A step's result depends on its requirements and constraints, what earlier steps of its image
installed, the target, the indexes and the index state. The index state is fixed only with
a fixed ``exclude-newer`` (files uploaded before a past time): without one there is no
cache. A result is kept as JSON (the lock's own wheel-pin tables) in
``CACHE/wheels/steps/<sha256>.json``; one that cannot be read is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..util.atomic import read_json, write_json
from ..util.redact import url_without_credentials

if TYPE_CHECKING:
    from ..model import WheelPin


class StepCache:
    """Results of install steps under ``folder`` (None: nothing is kept or found)."""

    def __init__(self, folder: Path | None, *context: object) -> None:
        self.folder = folder
        self.context = [__version__, *context]

    @classmethod
    def for_cutoff(cls, cache_dir: Path, exclude_newer: str | None, *context: object) -> StepCache:
        """The cache of steps read as of ``exclude_newer``; none when the index state moves."""
        folder = None if exclude_newer is None else cache_dir / "steps"
        return cls(folder, exclude_newer, *context)

    def key(self, *parts: object) -> str:
        text = json.dumps([*self.context, *parts], sort_keys=True, default=_plain)
        return hashlib.sha256(text.encode()).hexdigest()

    def has(self, key: str) -> bool:
        """Whether something is kept under ``key`` (:meth:`pins` may still find it unreadable)."""
        return self.folder is not None and (self.folder / f"{key}.json").is_file()

    def pins(self, key: str) -> list[WheelPin] | None:
        """The pins kept under ``key``, or None."""
        from ..model import WheelPin  # the lock model loads only when a step was kept

        if self.folder is None:
            return None
        data = read_json(self.folder / f"{key}.json")
        if not isinstance(data, dict):
            return None
        try:
            return [WheelPin.from_dict(d) for d in data["pins"]]
        except (ValueError, KeyError, TypeError):
            return None

    def keep(self, key: str, pins: Sequence[WheelPin]) -> None:
        if self.folder is None:
            return
        write_json(self.folder / f"{key}.json", {"pins": [p.to_dict() for p in pins]})


def index_identity(name: str, url: str, extra: bool) -> list[object]:
    """An index as a cache key part, without the user and password of its URL (not part of
    what it serves; the key is a hash, and never holds them)."""
    return [name, url_without_credentials(url), extra]


def _plain(value: object) -> object:
    to_dict = getattr(value, "to_dict", None)  # a WheelPin
    if callable(to_dict):
        return to_dict()
    if isinstance(value, tuple | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a cache key part")
