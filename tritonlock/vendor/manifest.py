"""``DIR/manifest.json``: every file of a bundle with its sha256 and size, tied to the
content hash of the lock it was vendored from; read back strictly, checked offline.

The manifest is written last, once every file is in place, so a bundle with a manifest is
complete. Paths are relative, POSIX, inside the bundle's own folders; a manifest naming
anything else is refused, as one line naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import NegativeResult
from ..util.store import sha256_file
from .layout import FOLDERS, LOCK, MANIFEST

FORMAT = "tritonlock-vendor"
VERSION = 1
KINDS = ("git", "wheel", "url", "image", "layout", "apt", "lock")
_SHA = re.compile(r"^sha256:[0-9a-f]{64}$")
_UPLOADED = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class BadBundle(NegativeResult):
    """A bundle that cannot be used: no manifest, a manifest that is not one (exit 1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One file: where, its bytes' sha256 and size, and what it is (for messages)."""

    path: str
    sha256: str
    size: int
    kind: str
    what: str
    # A wheel's PEP 700 ``upload-time`` as its index listed it (None: the index gave none).
    uploaded: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "kind": self.kind,
            "what": self.what,
        }
        if self.uploaded is not None:
            d["upload-time"] = self.uploaded
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """An image of the bundle's OCI layout: the lock's ref and role, and the manifest
    digest pinned for the target platform (the layout's blob of that digest)."""

    role: str
    ref: str
    digest: str
    platform: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "ref": self.ref,
            "digest": self.digest,
            "platform": self.platform,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    content_hash: str
    release: str
    target: str
    files: tuple[Entry, ...] = ()
    images: tuple[Image, ...] = ()
    left_out: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "lock": {
                "content-hash": self.content_hash,
                "release": self.release,
                "target": self.target,
            },
            "files": [e.to_dict() for e in sorted(self.files, key=lambda e: e.path)],
            "images": [i.to_dict() for i in sorted(self.images, key=lambda i: (i.role, i.ref))],
            "left-out": list(self.left_out),
        }

    def dumps(self) -> str:
        """The file's text: the same manifest always gives the same bytes."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=False) + "\n"

    def size(self, kind: str | None = None) -> int:
        return sum(e.size for e in self.files if kind is None or e.kind == kind)


def read(folder: Path) -> Manifest:
    """The manifest of the bundle in ``folder``; :class:`BadBundle` (one line naming the file
    and field) when it is missing, not JSON or not a manifest of this version."""
    path = folder / MANIFEST
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise BadBundle(
            f"{path}: no manifest; {folder} is not a finished bundle (run `tritonlock vendor "
            f"-o {folder}` again to finish it)"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise BadBundle(f"{path}: cannot be read: {err}") from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise BadBundle(f"{path}: not JSON: {err}") from None
    return parse(data, str(path))


def parse(data: Any, name: str) -> Manifest:
    """A manifest from plain data, every field checked (:class:`BadBundle` on the first)."""
    r = _Reader(name)
    top = r.obj(data, "")
    if top.get("format") != FORMAT:
        raise BadBundle(f"{name}: format: expected {FORMAT!r}; not a tritonlock vendor manifest")
    if top.get("version") != VERSION:
        raise BadBundle(
            f"{name}: version: {top.get('version')!r} is not {VERSION}; this bundle was written "
            "by another tritonlock version"
        )
    lock = r.obj(top.get("lock"), "lock")
    content_hash = r.sha(lock.get("content-hash"), "lock.content-hash")
    files = tuple(_entry(r, f, f"files[{i}]") for i, f in enumerate(r.arr(top, "files")))
    seen: set[str] = set()
    for i, e in enumerate(files):
        if e.path in seen:
            raise BadBundle(f"{name}: files[{i}].path: {e.path!r} is listed twice")
        seen.add(e.path)
    images = tuple(_image(r, x, f"images[{i}]") for i, x in enumerate(r.arr(top, "images")))
    left = tuple(r.text(x, f"left-out[{i}]") for i, x in enumerate(r.arr(top, "left-out")))
    return Manifest(
        content_hash=content_hash,
        release=r.text(lock.get("release"), "lock.release"),
        target=r.text(lock.get("target"), "lock.target"),
        files=files,
        images=images,
        left_out=left,
    )


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, why: str) -> BadBundle:
        return BadBundle(f"{self.name}: {where or 'the top level'}: {why}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        return value

    def arr(self, top: dict[str, Any], key: str) -> list[Any]:
        value = top.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "expected a list")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value or any(ord(c) < 32 for c in value):
            raise self.fail(where, "expected a one-line string")
        return value

    def sha(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not _SHA.match(value):
            raise self.fail(where, "expected sha256:<64 lowercase hex>")
        return value

    def size(self, value: Any, where: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(where, "expected a size in bytes")
        return value


def _entry(r: _Reader, value: Any, where: str) -> Entry:
    d = r.obj(value, where)
    path = r.text(d.get("path"), f"{where}.path")
    if not safe_path(path):
        raise r.fail(f"{where}.path", f"{path!r} is not a path inside the bundle's folders")
    kind = r.text(d.get("kind"), f"{where}.kind")
    if kind not in KINDS:
        raise r.fail(f"{where}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    uploaded = d.get("upload-time")
    if uploaded is not None and (kind != "wheel" or not is_upload_time(uploaded)):
        raise r.fail(f"{where}.upload-time", "expected a wheel's RFC 3339 upload time")
    return Entry(
        path=path,
        sha256=r.sha(d.get("sha256"), f"{where}.sha256"),
        size=r.size(d.get("size"), f"{where}.size"),
        kind=kind,
        what=r.text(d.get("what"), f"{where}.what"),
        uploaded=uploaded,
    )


def is_upload_time(value: Any) -> bool:
    """An RFC 3339 time with a zone, as PEP 700 ``upload-time`` is (``…T18:02:11.123Z``)."""
    return isinstance(value, str) and _UPLOADED.fullmatch(value) is not None


def _image(r: _Reader, value: Any, where: str) -> Image:
    d = r.obj(value, where)
    return Image(
        role=r.text(d.get("role"), f"{where}.role"),
        ref=r.text(d.get("ref"), f"{where}.ref"),
        digest=r.sha(d.get("digest"), f"{where}.digest"),
        platform=r.text(d.get("platform"), f"{where}.platform"),
    )


def safe_path(path: str) -> bool:
    """A relative POSIX path inside one of the bundle's folders (or its lock copy)."""
    p = PurePosixPath(path)
    if path != str(p) or p.is_absolute() or any(part in ("", ".", "..") for part in p.parts):
        return False
    return path == LOCK or (len(p.parts) > 1 and p.parts[0] in FOLDERS)


# -- checking (offline, reads the files) ------------------------------------------------


def check(
    folder: Path,
    manifest: Manifest,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Every problem of the bundle in ``folder``, one line each: a file missing, changed
    (size or sha256), or not listed in the manifest."""
    problems = []
    for e in sorted(manifest.files, key=lambda e: e.path):
        if progress is not None:
            progress(f"check {e.path}")
        problems += _check_one(folder, e)
    listed = {e.path for e in manifest.files}
    problems += [
        f"{folder / rel}: not in the manifest (remove it, or vendor again)"
        for rel in sorted(set(files_in(folder)) - listed)
    ]
    return problems


def _check_one(folder: Path, e: Entry) -> list[str]:
    path = folder / e.path
    if path.is_symlink() or not path.is_file():
        return [f"{path}: missing ({e.kind} {e.what})"]
    sha, size = sha256_file(path)
    if size != e.size:
        return [f"{path}: {size} bytes, the manifest says {e.size} ({e.kind} {e.what})"]
    if sha != e.sha256:
        return [f"{path}: sha256 is {sha}, the manifest says {e.sha256} ({e.kind} {e.what})"]
    return []


def files_in(folder: Path, folders: Sequence[str] = FOLDERS) -> Iterable[str]:
    """Every file (and symlink) under the bundle's own folders, as manifest paths; partial
    downloads and scratch folders of an interrupted run are not counted."""
    for top in folders:
        root = folder / top
        if not root.is_dir():
            continue
        for p in root.rglob("*"):
            if p.is_dir() and not p.is_symlink():
                continue
            yield p.relative_to(folder).as_posix()
