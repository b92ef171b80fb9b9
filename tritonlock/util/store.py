"""The content-addressed store shared by `resolve`, `vendor` and `verify --deep`: large
inputs (downloads, wheels, image blobs) are fetched once per machine.

Layout: ``CACHE/files/<kind>/<sha256 hex>`` (``kind``: ``url``, ``wheel``, ``image``,
``bundle``, ``deb``), so `tritonlock cache info` can say what the space holds. An entry
whose hash cannot be known before it is made (a git bundle) is also found by a key, a hash
of what made it, in ``CACHE/files/names/<kind>/<key>``. A file's name is the sha256 of its
bytes. Every entry is written as a temp file in ``CACHE/files/tmp/`` and renamed into place
once its bytes hashed to its name, so a reader sees a whole entry or none, and processes
writing the same entry at once write the same bytes. An entry is hashed again each time it
is used: a corrupted one (a bad disk, an edit through a hard link) is removed and fetched
again. Use refreshes an entry's mtime, which ``prune --older-than`` reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import interrupt
from .atomic import read_json, write_json

ENV = "TRITONLOCK_CACHE_DIR"
FILES = "files"
KINDS = ("url", "wheel", "image", "bundle", "deb")
_TMP = "tmp"
NAMES = "names"  # files/names/<kind>/<key>: a JSON note of what <key> made (Store.note)
_CHUNK = 1 << 20
_HEX = re.compile(r"[0-9a-f]{64}")
_SHA = re.compile(r"sha256:[0-9a-f]{64}")
# What else lives in the cache folder (resolve's caches); `prune --all` removes them too.
OTHER = ("git", "wheels", "urls", "apt", "recipes")
_STALE_TMP = 24 * 3600.0  # a temp file this old is a crashed writer's
# https://bford.info/cachedir/: backup tools skip a folder holding this file.
TAG = "CACHEDIR.TAG"
TAG_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by tritonlock.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def default_root() -> Path:
    """``$TRITONLOCK_CACHE_DIR``, else ``$XDG_CACHE_HOME/tritonlock``, else
    ``~/.cache/tritonlock``."""
    given = os.environ.get(ENV)
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "tritonlock"


def hex_of(sha: str) -> str:
    """``sha256:<hex>`` or ``<hex>`` → ``<hex>`` (ValueError for anything else)."""
    value = sha.removeprefix("sha256:").lower()
    if not _HEX.fullmatch(value):
        raise ValueError(f"not a sha256: {sha!r}")
    return value


def sha256_file(path: Path, chunk: int = _CHUNK) -> tuple[str, int]:
    """``(sha256:<hex>, size)`` of a file's bytes."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
            size += len(block)
    return "sha256:" + digest.hexdigest(), size


@dataclass(frozen=True, slots=True)
class KindInfo:
    kind: str
    entries: int
    size: int


@dataclass(frozen=True, slots=True)
class Pruned:
    entries: int
    size: int


class Store:
    """The store under ``root`` (the cache folder); see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = root / FILES

    def path(self, kind: str, sha: str) -> Path:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        return self.files / kind / hex_of(sha)

    # reading ----------------------------------------------------------------------------
    def get(self, kind: str, sha: str) -> Path | None:
        """The entry for ``sha``, hashed again now; None when absent or corrupted (a
        corrupted entry is removed, so the next fetch replaces it)."""
        path = self.path(kind, sha)
        try:
            ok = (
                path.is_file()
                and not path.is_symlink()
                and sha256_file(path)[0] == f"sha256:{hex_of(sha)}"
            )
        except OSError:
            return None
        if not ok:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return path

    def copy_out(self, kind: str, sha: str, dest: Path) -> int | None:
        """Put the entry for ``sha`` at ``dest`` (a hard link, else a copy; atomically),
        the bytes placed hashed first; their size, or None when the store does not hold
        them whole (a corrupted entry is removed)."""
        path = self.path(kind, sha)
        if not path.is_file() or path.is_symlink():
            return None
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.cache")
        interrupt.temporary(tmp)
        try:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            try:
                os.link(path, tmp)
            except FileNotFoundError:
                raise
            except OSError:  # another file system, or links not allowed
                shutil.copyfile(path, tmp)
            if sha256_file(tmp)[0] != f"sha256:{hex_of(sha)}":  # what is placed is what was hashed
                with contextlib.suppress(OSError):
                    path.unlink()
                return None
            os.replace(tmp, dest)
        except FileNotFoundError:  # pruned by another process meanwhile
            return None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            interrupt.settled(tmp)
        with contextlib.suppress(OSError):
            os.utime(path)
        return dest.stat().st_size

    def note(self, kind: str, key: str) -> object | None:
        """The JSON value last noted under ``key`` (a hash of what made some entries of
        ``kind``: a git bundle's repository, commits and refs; an apt step), or None."""
        return read_json(self._note(kind, key))

    def named(self, kind: str, key: str) -> str | None:
        """The sha256 of the entry of ``kind`` last :meth:`name`-d ``key``, or None."""
        value = self.note(kind, key)
        return value if isinstance(value, str) and _SHA.fullmatch(value) else None

    # writing ----------------------------------------------------------------------------
    def keep_note(self, kind: str, key: str, value: object) -> None:
        """Note ``value`` under ``key`` (a cache that cannot be written is only a slower
        run)."""
        write_json(self._note(kind, key), value)

    def name(self, kind: str, key: str, sha: str) -> None:
        """Remember ``key`` → ``sha`` for an entry whose hash cannot be known before it is
        made."""
        self.keep_note(kind, key, f"sha256:{hex_of(sha)}")

    def _note(self, kind: str, key: str) -> Path:
        if not _HEX.fullmatch(key) or not kind.isalpha():
            raise ValueError(f"not a note: {kind!r} {key!r}")
        return self.files / NAMES / kind / key

    def put_file(self, kind: str, sha: str, src: Path) -> bool:
        """Add ``src`` (whose bytes the caller checked against ``sha``) as an entry: a hard
        link when it can, else a copy hashed again; whether the store now holds it."""
        dest = self.path(kind, sha)
        if dest.is_file():
            return True
        try:
            tmp = self._tmp()
        except OSError:  # a cache that cannot be written is only a slower run
            return False
        interrupt.temporary(tmp)
        try:
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
                if sha256_file(tmp)[0] != f"sha256:{hex_of(sha)}":
                    return False
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
            return True
        except OSError:  # a cache that cannot be written is only a slower run
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            interrupt.settled(tmp)

    @contextlib.contextmanager
    def writer(self, kind: str) -> Iterator[Writer]:
        """A :class:`Writer` for bytes whose sha256 is known only once they are all read:
        they become the entry of their own hash when :meth:`Writer.commit` is called, and
        nothing is left behind otherwise."""
        try:
            tmp = self._tmp()
        except OSError:
            tmp = self.files / _TMP / "unwritable"
        w = Writer(self, kind, tmp)
        interrupt.temporary(w.tmp)
        try:
            yield w
        finally:
            w.close()
            with contextlib.suppress(OSError):
                w.tmp.unlink()
            interrupt.settled(w.tmp)

    def _tmp(self) -> Path:
        folder = self.files / _TMP
        folder.mkdir(parents=True, exist_ok=True)
        self._tag()
        fd, name = tempfile.mkstemp(prefix="entry.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(name)  # os.link wants a free name; mkstemp only reserved a unique one
        return Path(name)

    def _tag(self) -> None:
        """Mark the folder as a cache (backup tools skip it; `prune --all` trusts it)."""
        tag = self.root / TAG
        if not tag.exists():
            with contextlib.suppress(OSError):
                tag.write_text(TAG_TEXT)

    def is_cache(self) -> bool:
        """The folder is tritonlock's: tagged, or the default location."""
        return (self.root / TAG).is_file() or self.root.absolute() == default_root().absolute()

    # looking after ---------------------------------------------------------------------
    def entries(self) -> Iterable[tuple[str, Path]]:
        for kind in KINDS:
            folder = self.files / kind
            if folder.is_dir():
                for p in folder.iterdir():
                    if _HEX.fullmatch(p.name) and p.is_file():
                        yield kind, p

    def info(self) -> tuple[KindInfo, ...]:
        """Entries and bytes of each kind of the store, then of each of resolve's caches."""
        counts = {k: [0, 0] for k in KINDS}
        for kind, p in self.entries():
            counts[kind][0] += 1
            counts[kind][1] += _size(p)
        out = [KindInfo(k, n, s) for k, (n, s) in counts.items()]
        for name in OTHER:
            files = [p for p in (self.root / name).rglob("*") if p.is_file()]
            out.append(KindInfo(name, len(files), sum(_size(p) for p in files)))
        return tuple(out)

    def prune(self, *, older_than: float | None = None, everything: bool = False) -> Pruned:
        """Remove the entries not used for ``older_than`` seconds, or (``everything``) the
        whole store and resolve's caches; temp files of crashed writers always go."""
        now = time.time()
        n = size = 0
        tmp = self.files / _TMP
        if tmp.is_dir():
            for p in tmp.iterdir():
                with contextlib.suppress(OSError):
                    if everything or now - p.stat().st_mtime > _STALE_TMP:
                        p.unlink()
        for _, p in list(self.entries()):
            with contextlib.suppress(OSError):
                st = p.stat()
                if everything or (older_than is not None and now - st.st_mtime > older_than):
                    p.unlink()
                    n, size = n + 1, size + st.st_size
        if everything:
            shutil.rmtree(self.files / NAMES, ignore_errors=True)
            for name in OTHER:
                folder = self.root / name
                files = [p for p in folder.rglob("*") if p.is_file()]
                n, size = n + len(files), size + sum(_size(p) for p in files)
                shutil.rmtree(folder, ignore_errors=True)
        return Pruned(n, size)


class Writer:
    """Bytes on their way into the store (see :meth:`Store.writer`)."""

    def __init__(self, store: Store, kind: str, tmp: Path) -> None:
        self.store, self.kind, self.tmp = store, kind, tmp
        self._fh: BinaryIO | None = None
        with contextlib.suppress(OSError):  # a cache that cannot be written: no entry
            self._fh = open(tmp, "wb")  # noqa: SIM115 - closed by Store.writer
        self._digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        """Hash ``chunk`` and keep it (a failed write only means no entry)."""
        if self._fh is not None:
            try:
                self._fh.write(chunk)
            except OSError:
                self.close()
        self._digest.update(chunk)

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None

    def commit(self) -> str:
        """The sha256 (hex) of what was written, which becomes its entry (when every
        byte could be written)."""
        sha = self._digest.hexdigest()
        if self._fh is None:
            return sha
        with contextlib.suppress(OSError):
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self.close()
            dest = self.store.path(self.kind, sha)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.tmp, dest)
        self.close()
        return sha


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
