"""Fill a bundle folder with every pinned input of a lock, resumably and in parallel.

Every file lands through ``<name>.part`` and is renamed into place only when its bytes
hash to the pin (a wheel's or download's sha256, an image blob's digest), so a file in
place is a file that was checked. A second run after an interruption hashes what is there
and fetches only what is missing or wrong; git bundles, whose hash the lock cannot know,
are recognised by the hash recorded in the folder's journal when they were written. The
manifest is written last: a folder with one is complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from ..errors import ResolveError, TritonLockError, UsageError
from ..model import Lock, UrlPin
from ..sources.fetchfile import save_stream
from ..sources.registry import INDEX_TYPES, OCI_INDEX, OCI_MANIFEST, Manifest
from ..util import interrupt
from ..util.atomic import atomic_write_bytes, atomic_write_text
from ..util.store import Store, sha256_file
from . import aptland, gitbundle, layout
from .aptrepo import AptJob
from .layout import GitItem, ImageItem, WheelGroup
from .manifest import Entry, Image, is_upload_time
from .manifest import Manifest as BundleManifest

SCRATCH = ".tritonlock-tmp"
Progress = Callable[[str], None]


class Sources(Protocol):
    """Where a bundle's bytes come from; each method saves to ``dest`` only checked bytes."""

    def git_bundle(self, item: GitItem, dest: Path, scratch: Path) -> tuple[str, ...]:
        """Write the bundle of ``item``'s commits and refs to ``dest``; notes (a ref that
        does not travel)."""

    def save_wheel(self, index: str, project: str, filename: str, dest: Path, want: str) -> int:
        """Save a wheel file listed by the index; its size."""

    def wheel_uploaded(self, index: str, project: str, filename: str) -> str | None:
        """The PEP 700 upload time the index lists for a wheel file (None: none listed)."""

    def save_download(self, pin: UrlPin, dest: Path) -> int:
        """Save a pinned download; its size."""

    def image_manifest(self, item: ImageItem) -> Manifest:
        """The manifest of ``item.digest`` (its digest checked)."""

    def save_blob(self, item: ImageItem, digest: str, dest: Path) -> int:
        """Save a blob of ``item``'s repository; its size."""

    def apt_closure(self, job: AptJob, images: Path | None, work: Path) -> str:
        """Run apt for ``job`` in its image (from the bundle's OCI layout ``images``, else
        from its registry), the packages left in ``work/debs`` (taking those of
        ``work/seed/`` it asks for); what the job printed."""


@dataclass(frozen=True, slots=True)
class Result:
    manifest: BundleManifest
    fetched: int  # bytes fetched by this run
    reused: int  # bytes already in place or in the cache, checked by hash
    fetched_files: int
    reused_files: int
    cached: int = 0  # of ``reused``: bytes taken from the shared cache


@dataclass
class _Run:
    out: Path
    src: Sources
    progress: Progress
    journal: dict[str, str]
    uploaded: dict[str, str | None] = field(default_factory=dict)  # wheel file → its time
    store: Store | None = None
    fetched: int = 0
    reused: int = 0
    fetched_files: int = 0
    reused_files: int = 0
    cached: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _landing: dict[str, threading.Lock] = field(default_factory=dict)

    def have(self, rel: str, sha: str) -> bool:
        """``rel`` is in place and hashes to ``sha``; a file with other bytes is removed."""
        path = self.out / rel
        if path.is_symlink() or not path.is_file():
            return False
        if sha256_file(path)[0] == sha:
            return True
        path.unlink()
        return False

    @contextlib.contextmanager
    def landing(self, rel: str) -> Iterator[None]:
        """One thread at a time writes ``rel`` (a layer two images share)."""
        with self._lock:
            lock = self._landing.setdefault(rel, threading.Lock())
        with lock:
            yield

    def count(self, size: int, *, fetched: bool, cached: bool = False) -> None:
        with self._lock:
            self.cached += size if cached else 0
            if fetched:
                self.fetched += size
                self.fetched_files += 1
            else:
                self.reused += size
                self.reused_files += 1

    def file(self, rel: str, sha: str, fetch: Callable[[Path], int], kind: str) -> tuple[int, bool]:
        """(size, fetched) of ``rel``: checked in place, else from the shared cache (its
        entry hashed again), else fetched and added to the cache."""
        with self.landing(rel):
            if self.have(rel, sha):
                size = (self.out / rel).stat().st_size
                self.count(size, fetched=False)
                return size, False
            if self.store is not None:
                got = self.store.copy_out(kind, sha, self.out / rel)
                if got is not None:
                    self.count(got, fetched=False, cached=True)
                    return got, False
            size = fetch(self.out / rel)
            self.count(size, fetched=True)
            if self.store is not None:
                self.store.put_file(kind, sha, self.out / rel)
            return size, True

    def record_bundle(self, rel: str, sha: str) -> None:
        with self._lock:
            self.journal[rel] = sha
            _write_journal(self.out / layout.MARKER, self.journal, self.uploaded)

    def upload_time(self, group: WheelGroup, name: str) -> str | None:
        """The upload time of wheel file ``name``: the journal's (an earlier run read it),
        else the index's, then kept in the journal."""
        with self._lock:
            if name in self.uploaded:
                return self.uploaded[name]
        got = self.src.wheel_uploaded(group.index, group.project, name)
        with self._lock:
            self.uploaded[name] = got
            _write_journal(self.out / layout.MARKER, self.journal, self.uploaded)
        return got


def vendor(
    lock: Lock,
    lock_bytes: bytes,
    out: Path,
    src: Sources,
    *,
    images: bool = True,
    apt: Sequence[AptJob] | None = None,
    jobs: int = 4,
    progress: Progress | None = None,
    store: Store | None = None,
) -> Result:
    """Vendor every input ``lock`` pins into ``out`` (see the module docstring); ``apt``:
    the apt steps to vendor (:func:`tritonlock.vendor.aptrepo.jobs`), None to leave the
    lock's apt packages out; ``store``: the shared cache wheels, downloads and image
    blobs are taken from (hashed again) and added to, None for none."""
    plan = layout.plan(lock, images=images, apt=apt is not None)
    out = out.absolute()  # git runs in other folders
    journal, uploaded = prepare(out)
    run = _Run(
        out=out,
        src=src,
        progress=progress or (lambda _: None),
        journal=journal,
        uploaded=uploaded,
        store=store,
    )
    layouts: dict[str, tuple[str, int]] = {}
    tasks: list[Callable[[], list[Entry]]] = [
        *(partial(_git, run, g) for g in plan.git),
        *(partial(_wheels, run, w) for w in plan.wheels),
        *(partial(_download, run, u) for u in plan.urls),
        *(partial(_image, run, i, layouts) for i in plan.images),
    ]
    entries = _all(tasks, jobs, run.progress)
    if plan.images:
        entries += _layout_files(out, plan.images, layouts)
    if apt:
        entries += _apt(run, apt, out / layout.IMAGES if plan.images else None)
    entries.append(_lock_copy(out, lock_bytes))
    files = tuple({e.path: e for e in entries}.values())
    manifest = BundleManifest(
        content_hash=lock.content_hash or "",
        release=lock.inputs.release,
        target=lock.inputs.target,
        files=files,
        images=tuple(
            Image(role=i.role, ref=i.ref, digest=i.digest, platform=i.platform) for i in plan.images
        ),
        left_out=plan.left_out,
    )
    prune(out, {e.path for e in files})
    atomic_write_text(out / layout.MANIFEST, manifest.dumps(), output=True)
    return Result(
        manifest, run.fetched, run.reused, run.fetched_files, run.reused_files, run.cached
    )


def check_output(out: Path) -> None:
    """``out`` may be filled: new, empty, or a bundle (else a one-line error naming it)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"-o {out}: exists and is not a folder; choose another")
    if out.is_dir() and any(out.iterdir()) and not (out / layout.MARKER).is_file():
        raise UsageError(f"-o {out}: not empty and not a tritonlock bundle; choose another")
    above = next((p for p in out.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise UsageError(f"-o {out}: {above} is a file, not a folder")


def prepare(out: Path) -> tuple[dict[str, str], dict[str, str | None]]:
    """Make ``out`` a bundle folder (new, or one an earlier run left); its journal: the git
    bundles (path → sha256) and the wheels' upload times. The old manifest goes first:
    until this run ends, the folder is not a finished bundle."""
    check_output(out)
    marker = out / layout.MARKER
    out.mkdir(parents=True, exist_ok=True)
    journal, uploaded = _journal(marker), _uploaded(marker)
    _write_journal(marker, journal, uploaded)
    with contextlib.suppress(FileNotFoundError):
        (out / layout.MANIFEST).unlink()
    interrupt.written(f"{out}/ (unfinished: run the same `tritonlock vendor` again to resume)")
    interrupt.remove(out / SCRATCH)
    for folder in layout.FOLDERS:
        (out / folder).mkdir(exist_ok=True)
        for part in (out / folder).rglob("*.part"):
            part.unlink()
    return journal, uploaded


def _write_journal(marker: Path, bundles: dict[str, str], uploaded: dict[str, str | None]) -> None:
    atomic_write_text(marker, json.dumps({"bundles": bundles, "uploaded": uploaded}))


def _uploaded(marker: Path) -> dict[str, str | None]:
    """The wheels' upload times an earlier run read (file → time, None: listed without)."""
    try:
        data = json.loads(marker.read_text("utf-8"))
        times = data.get("uploaded", {}) if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(times, dict):
        return {}
    return {str(k): v for k, v in times.items() if v is None or is_upload_time(v)}


def _journal(marker: Path) -> dict[str, str]:
    try:
        data = json.loads(marker.read_text("utf-8"))
        bundles = data.get("bundles", {}) if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(bundles, dict):
        return {}
    return {str(k): str(v) for k, v in bundles.items()}


def _all(tasks: list[Callable[[], list[Entry]]], jobs: int, progress: Progress) -> list[Entry]:
    """Run every task; when some fail, the others still finish (a next run has less to do),
    then the first failure in plan order is raised; with several, each is said first."""
    entries: list[Entry] = []
    failures: list[TritonLockError] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures: list[Future[list[Entry]]] = [pool.submit(task) for task in tasks]
        for future in futures:
            try:
                entries += future.result()
            except TritonLockError as err:
                failures.append(err)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        for failure in failures:
            progress(f"failed: {failure}")
        raise ResolveError(
            f"{failures[0]} (and {len(failures) - 1} more failures); what was fetched is kept: "
            "run again to resume"
        )
    return entries


def human(n: int) -> str:
    """``1.2 GB``: bytes in powers of 1000, as disk tools print them."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def _said(fetched: bool) -> str:
    return "fetched" if fetched else "already here"


# -- each kind ---------------------------------------------------------------------------


def _git(run: _Run, item: GitItem) -> list[Entry]:
    dest = run.out / item.path
    what = f"{item.url} ({len(item.commits)} commit{'s' if len(item.commits) != 1 else ''})"
    known = run.journal.get(item.path)
    if known and dest.is_file() and not dest.is_symlink():
        sha, size = sha256_file(dest)
        if sha == known and gitbundle.holds(dest, item.commits, item.refs, timeout=120):
            run.count(size, fetched=False)
            run.progress(f"git {item.url}: {human(size)}, already here")
            return [Entry(path=item.path, sha256=sha, size=size, kind="git", what=what)]
    key = _bundle_key(item)
    cached = _cached_bundle(run, item, key, dest)
    if cached is not None:
        sha, size = cached
        run.record_bundle(item.path, sha)
        run.progress(f"git {item.url}: {human(size)}, from the cache")
        return [Entry(path=item.path, sha256=sha, size=size, kind="git", what=what)]
    scratch = run.out / SCRATCH
    scratch.mkdir(exist_ok=True)
    for note in run.src.git_bundle(item, dest, scratch):
        run.progress(f"git {item.url}: {note}")
    sha, size = sha256_file(dest)
    run.record_bundle(item.path, sha)
    run.count(size, fetched=True)
    if run.store is not None and run.store.put_file("bundle", sha, dest):
        run.store.name("bundle", key, sha)
    run.progress(f"git {item.url}: {human(size)}, bundled")
    return [Entry(path=item.path, sha256=sha, size=size, kind="git", what=what)]


def _bundle_key(item: GitItem) -> str:
    """What a repository's bundle is made of: its URL, commits and refs."""
    parts = [item.url, sorted(item.commits), sorted(item.refs)]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _cached_bundle(run: _Run, item: GitItem, key: str, dest: Path) -> tuple[str, int] | None:
    """(sha256, size) of the bundle the shared cache holds for ``item``, put at ``dest`` (its
    bytes hashed again, and checked to hold exactly the item's commits and refs), or None."""
    if run.store is None:
        return None
    sha = run.store.named("bundle", key)
    if sha is None or run.store.copy_out("bundle", sha, dest) is None:
        return None
    if not gitbundle.holds(dest, item.commits, item.refs, timeout=120):
        dest.unlink(missing_ok=True)
        return None
    size = dest.stat().st_size
    run.count(size, fetched=False, cached=True)
    return sha, size


def _wheels(run: _Run, group: WheelGroup) -> list[Entry]:
    out = []
    for name, sha, size in group.files:
        rel = layout.wheel_path(name)
        fetch = partial(_save_wheel, run, group, name, sha)
        got, fetched = run.file(rel, sha, fetch, "wheel")
        if got != size:
            raise ResolveError(f"wheel {name}: {got} bytes, the lock says {size}")
        run.progress(f"wheel {name}: {human(got)}, {_said(fetched)}")
        what = f"{group.index}/{group.project}"
        uploaded = run.upload_time(group, name)
        out.append(
            Entry(path=rel, sha256=sha, size=got, kind="wheel", what=what, uploaded=uploaded)
        )
    return out


def _save_wheel(run: _Run, group: WheelGroup, name: str, sha: str, dest: Path) -> int:
    run.upload_time(group, name)  # in the journal before the file lands (the same page)
    return run.src.save_wheel(group.index, group.project, name, dest, sha)


def _download(run: _Run, pin: UrlPin) -> list[Entry]:
    rel = layout.download_path(pin)
    size, fetched = run.file(rel, pin.sha256, partial(run.src.save_download, pin), "url")
    if pin.size is not None and size != pin.size:
        raise ResolveError(f"download {pin.url}: {size} bytes, the lock says {pin.size}")
    run.progress(f"download {pin.url}: {human(size)}, {_said(fetched)}")
    return [Entry(path=rel, sha256=pin.sha256, size=size, kind="url", what=pin.url)]


def _image(run: _Run, item: ImageItem, layouts: dict[str, tuple[str, int]]) -> list[Entry]:
    rel = layout.blob_path(item.digest)
    with run.landing(rel):
        here = run.have(rel, item.digest)
        if here or (run.store and run.store.copy_out("image", item.digest, run.out / rel)):
            body = (run.out / rel).read_bytes()
            run.count(len(body), fetched=False, cached=not here)
        else:
            got = run.src.image_manifest(item)
            body = got.body
            save_stream([body], run.out / rel, want=item.digest, what=f"image {item.ref}")
            run.count(len(body), fetched=True)
            if run.store is not None:
                run.store.put_file("image", item.digest, run.out / rel)
    data = _manifest_data(item, body)
    media = str(data.get("mediaType") or OCI_MANIFEST)
    layouts[item.digest] = (media, len(body))
    entries = [
        Entry(
            path=rel, sha256=item.digest, size=len(body), kind="image", what=f"{item.ref} manifest"
        )
    ]
    fetched_any = False
    for kind, desc in _blobs(item, data):
        digest = str(desc["digest"])
        brel = layout.blob_path(digest)
        size, fetched = run.file(brel, digest, partial(run.src.save_blob, item, digest), "image")
        fetched_any |= fetched
        if size != desc.get("size", size):
            raise ResolveError(
                f"image {item.ref}: {kind} {digest}: {size} bytes, manifest says {desc['size']}"
            )
        entries.append(
            Entry(path=brel, sha256=digest, size=size, kind="image", what=f"{item.ref} {kind}")
        )
    total = sum(e.size for e in entries)
    run.progress(f"image {item.ref}: {human(total)}, {_said(fetched_any)}")
    return entries


def _apt(run: _Run, jobs: Sequence[AptJob], images: Path | None) -> list[Entry]:
    scratch = run.out / SCRATCH
    scratch.mkdir(exist_ok=True)
    entries, size, fetched = aptland.land(
        run.out,
        jobs,
        partial(_closure, run.src, images),
        journal=run.journal,
        record=run.record_bundle,
        scratch=scratch,
        progress=run.progress,
        store=run.store,
    )
    for e in entries:
        run.count(e.size, fetched=fetched)
    run.progress(f"apt: {human(size)}, {_said(fetched)}")
    return entries


def _closure(src: Sources, images: Path | None, job: AptJob, work: Path) -> str:
    return src.apt_closure(job, images, work)


def _manifest_data(item: ImageItem, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ResolveError(f"image {item.ref}: manifest {item.digest} is not a JSON object")
    if data.get("mediaType") in INDEX_TYPES or "manifests" in data:
        raise ResolveError(
            f"image {item.ref}: {item.digest} is an index, not the {item.platform} manifest; "
            "re-resolve the lock"
        )
    if data.get("schemaVersion") != 2 or not isinstance(data.get("config"), dict):
        raise ResolveError(f"image {item.ref}: manifest {item.digest} is not a v2 image manifest")
    return data


def _blobs(item: ImageItem, data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    layers = data.get("layers", [])
    if not isinstance(layers, list):
        raise ResolveError(f"image {item.ref}: manifest {item.digest} has no list of layers")
    out = [("config", data["config"]), *((f"layer {n}", d) for n, d in enumerate(layers))]
    for kind, desc in out:
        digest = desc.get("digest") if isinstance(desc, dict) else None
        if not isinstance(digest, str) or not layout.is_sha256(digest):
            raise ResolveError(f"image {item.ref}: {kind} has no sha256 digest")
    return out


def _platform(spec: str) -> dict[str, str]:
    parts = spec.split("/")
    out = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2:
        out["variant"] = parts[2]
    return out


def _layout_files(
    out: Path, images: tuple[ImageItem, ...], found: dict[str, tuple[str, int]]
) -> list[Entry]:
    """``images/oci-layout`` and ``images/index.json``: each image by its pinned manifest
    (in the registry's own media type, so its digest is the pin), named by its role."""
    manifests = []
    for item in sorted(images, key=lambda i: (i.role, i.ref)):
        media, size = found[item.digest]
        manifests.append(
            {
                "mediaType": media,
                "digest": item.digest,
                "size": size,
                "platform": _platform(item.platform),
                "annotations": {
                    "org.opencontainers.image.ref.name": item.role,
                    "io.tritonlock.ref": item.ref,
                },
            }
        )
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    files = {
        f"{layout.IMAGES}/oci-layout": b'{"imageLayoutVersion":"1.0.0"}\n',
        f"{layout.IMAGES}/index.json": (json.dumps(index, indent=1) + "\n").encode(),
    }
    entries = []
    for rel, data in files.items():
        atomic_write_bytes(out / rel, data)
        sha, size = sha256_file(out / rel)
        entries.append(
            Entry(path=rel, sha256=sha, size=size, kind="layout", what="OCI image layout")
        )
    return entries


def _lock_copy(out: Path, data: bytes) -> Entry:
    atomic_write_bytes(out / layout.LOCK, data)
    sha, size = sha256_file(out / layout.LOCK)
    return Entry(path=layout.LOCK, sha256=sha, size=size, kind="lock", what="the lock vendored")


def prune(out: Path, keep: set[str]) -> None:
    """Remove what an earlier run for another lock left in the bundle's folders."""
    from .manifest import files_in

    for rel in sorted(set(files_in(out)) - keep):
        (out / rel).unlink()
    for folder in layout.FOLDERS:
        for d in sorted((out / folder).rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if d.is_dir() and not d.is_symlink() and not any(d.iterdir()):
                d.rmdir()
    interrupt.remove(out / SCRATCH)
