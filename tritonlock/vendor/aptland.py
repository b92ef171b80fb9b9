"""Landing the apt closures in a bundle: each job run by apt (through the sources), every
downloaded package hashed and moved to ``apt/``, then the flat repository's files written
(:mod:`tritonlock.vendor.aptrepo`). A resumed run whose ``apt/`` was finished for the same
jobs re-hashes it instead of running apt again."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import ResolveError
from ..util.atomic import atomic_write_text
from ..util.store import Store, sha256_file
from . import aptrepo
from .aptrepo import CONF, PACKAGES, SOURCES, AptJob, Deb
from .layout import APT
from .manifest import Entry

_APT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+~%_-]*\.deb")  # a file name apt gives
# (job, work folder) -> what the job's script printed; the packages are in work/debs.
Closure = Callable[[AptJob, Path], str]


def land(
    out: Path,
    jobs: Sequence[AptJob],
    closure: Closure,
    *,
    journal: dict[str, str],
    record: Callable[[str, str], None],
    scratch: Path,
    progress: Callable[[str], None],
    store: Store | None = None,
) -> tuple[list[Entry], int, bool]:
    """The manifest entries of the flat repository, its size, and whether apt ran. With
    ``store``, every package landed is added to it (``deb``), for the next run's apt."""
    want = aptrepo.plan_hash(jobs)
    kept = _finished(out, journal.get(PACKAGES, ""), want)
    if kept is not None:
        progress(f"apt: {len(kept) - 3} packages, already here")
        return kept, sum(e.size for e in kept), False
    debs: dict[str, Deb] = {}
    for n, job in enumerate(jobs):
        work = scratch / f"apt-{n}"
        shutil.rmtree(work, ignore_errors=True)
        _seed(store, job, work / "seed")
        printed = closure(job, work)
        got, names = _move(out, work / "debs", printed, job)
        debs.update(got)
        size = sum(d.size for d in got.values())
        _keep(store, job, out, got, names)
        seeded = work / "seeded"
        cached = len(seeded.read_text().split()) if seeded.is_file() else 0
        said = f", {cached} of them from the cache" if cached else ""
        progress(f"apt step {job.step} ({job.image}): {len(got)} packages, {size} bytes{said}")
        shutil.rmtree(work, ignore_errors=True)
    files = {
        PACKAGES: aptrepo.index(list(debs.values())),
        SOURCES: aptrepo.sources_list(),
        CONF: aptrepo.apt_conf(),
    }
    for rel, text in files.items():
        atomic_write_text(out / rel, text)
    entries = _entries(out, debs)
    record(PACKAGES, f"{want} {_sha(entries, PACKAGES)}")
    return entries, sum(e.size for e in entries), True


def _move(
    out: Path, folder: Path, printed: str, job: AptJob
) -> tuple[dict[str, Deb], dict[str, str]]:
    """Each package the job downloaded, hashed and moved to ``out/apt/``; and the name apt
    gave each file → its sha256."""
    got: dict[str, Deb] = {}
    names: dict[str, str] = {}
    (out / APT).mkdir(parents=True, exist_ok=True)
    for stanza in aptrepo.stanzas(printed):
        fields = aptrepo.control_fields(stanza)
        source = fields.get(aptrepo.FILE_FIELD.lower(), "")
        path = folder / source
        if not source or "/" in source or not path.is_file():
            raise ResolveError(f"apt step {job.step}: apt printed a package it did not download")
        sha, size = sha256_file(path)
        control = "\n".join(
            line for line in stanza.splitlines() if not line.startswith(f"{aptrepo.FILE_FIELD}:")
        )
        deb = Deb(control=control, sha256=sha, size=size)
        name = deb.filename()
        os.replace(path, out / APT / name)
        got[name] = deb
        names[source] = sha
    return got, names


# What each apt job landed, by the name apt gave each file: the next run of the same job
# seeds apt's archive folder with them (the shared cache's copies, hashed again).
def _listing(job: AptJob) -> str:
    """The store's key of the job's listing (apt file name → sha256)."""
    return aptrepo.plan_hash([job]).split(":")[1]


def _seed(store: Store | None, job: AptJob, folder: Path) -> None:
    """Put what the store holds of the job's last landing in ``folder``, by apt's names."""
    if store is None:
        return
    names = store.note("aptjob", _listing(job))
    if not isinstance(names, dict):
        return
    for name, sha in names.items():
        ok = isinstance(name, str) and isinstance(sha, str) and _APT_NAME.fullmatch(name)
        if ok and re.fullmatch(r"sha256:[0-9a-f]{64}", sha):
            store.copy_out("deb", sha, folder / name)


def _keep(
    store: Store | None, job: AptJob, out: Path, debs: dict[str, Deb], names: dict[str, str]
) -> None:
    """Add ``debs`` (landed in ``out/apt/``) to the store, and the job's listing."""
    if store is None:
        return
    for name, deb in debs.items():
        store.put_file("deb", deb.sha256, out / APT / name)
    store.keep_note("aptjob", _listing(job), names)


def _entries(out: Path, debs: dict[str, Deb]) -> list[Entry]:
    entries = []
    for name, deb in sorted(debs.items()):
        f = deb.fields()
        what = f"{f['package']}={f['version']} ({f['architecture']})"
        entries.append(
            Entry(path=f"{APT}/{name}", sha256=deb.sha256, size=deb.size, kind="apt", what=what)
        )
    whats = {
        PACKAGES: "flat apt repository index",
        SOURCES: "apt source of the build",
        CONF: "apt configuration",
    }
    for rel, what in whats.items():
        sha, size = sha256_file(out / rel)
        entries.append(Entry(path=rel, sha256=sha, size=size, kind="apt", what=what))
    return entries


def _sha(entries: list[Entry], rel: str) -> str:
    return next(e.sha256 for e in entries if e.path == rel)


def _finished(out: Path, noted: str, want: str) -> list[Entry] | None:
    """The entries of an ``apt/`` finished for the same jobs, every file as its index
    says; None when apt must run."""
    plan, _, sha = noted.partition(" ")
    index = out / PACKAGES
    if plan != want or not index.is_file() or sha256_file(index)[0] != sha:
        return None
    text = index.read_text("utf-8")
    debs: dict[str, Deb] = {}
    try:
        for name, (want_sha, want_size) in aptrepo.listed(text).items():
            path = out / APT / name
            if not path.is_file() or sha256_file(path) != (want_sha, want_size):
                return None
        for stanza in aptrepo.stanzas(text):
            deb = _indexed(stanza)
            debs[deb.filename()] = deb
    except ResolveError:
        return None
    for rel, text in ((SOURCES, aptrepo.sources_list()), (CONF, aptrepo.apt_conf())):
        atomic_write_text(out / rel, text)
    return _entries(out, debs)


def _indexed(stanza: str) -> Deb:
    f = aptrepo.control_fields(stanza)
    return Deb(control=stanza, sha256="sha256:" + f["sha256"], size=int(f["size"]))
