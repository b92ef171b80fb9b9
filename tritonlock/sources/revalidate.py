"""What a download looked like the last time it was fetched (its sha256 and size, with the
server's ``ETag`` or ``Last-Modified``), so a warm `resolve` asks "changed since?" and
downloads only what did (a 140 MB tarball answered by a 304 instead of again in full).

One JSON file per URL fetched, ``CACHE/urls/<sha256 of the URL>.json``. Only a strong ETag
is trusted (a weak one promises equivalent, not identical, bytes); a file that cannot be
read is as if absent. `verify --deep` never uses it: it checks the bytes themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from ..util.atomic import atomic_write_bytes


@dataclass(frozen=True, slots=True)
class Seen:
    """A download as last fetched: its bytes' sha256 (hex) and size, and the validators."""

    sha256: str
    size: int
    etag: str | None = None
    last_modified: str | None = None

    def conditions(self) -> dict[str, str]:
        """The request headers that ask the server whether it changed."""
        if self.etag is not None:
            return {"If-None-Match": self.etag}
        if self.last_modified is not None:
            return {"If-Modified-Since": self.last_modified}
        return {}


class Validators:
    """The :class:`Seen` of each URL under ``folder`` (None: nothing kept or found)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _file(self, url: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{hashlib.sha256(url.encode()).hexdigest()}.json"

    def get(self, url: str) -> Seen | None:
        path = self._file(url)
        if path is None:
            return None
        try:
            seen = Seen(**json.loads(path.read_bytes()))
        except (OSError, ValueError, TypeError):
            return None
        fields = (seen.sha256, seen.size, seen.etag, seen.last_modified)
        ok = isinstance(seen.sha256, str) and isinstance(seen.size, int) and seen.conditions()
        return seen if ok and all(f is None or isinstance(f, str | int) for f in fields) else None

    def keep(self, url: str, sha256: str, size: int, headers: Mapping[str, str]) -> None:
        """Remember a full download when the server gave a validator to ask with later."""
        path = self._file(url)
        etag = headers.get("etag")
        if etag is not None and (etag.startswith("W/") or not etag.startswith('"')):
            etag = None
        seen = Seen(sha256, size, etag, headers.get("last-modified"))
        if path is None or not seen.conditions():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(asdict(seen), sort_keys=True).encode())
