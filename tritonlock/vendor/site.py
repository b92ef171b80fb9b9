"""`tritonlock mirror push`: a checked bundle loaded into what a site's own servers serve.

- git: one bare repository per bundle, ``<FOLDER>/<host>/<path>.git``, holding every pinned
  commit under ``refs/tritonlock/pin/<commit>`` and the branches and tags the bundle carries
  for the lock's refs, at their pins (what ``git daemon --base-path=FOLDER`` or any git
  server serves);
- wheels: every pinned file in one folder (what ``pypi-server run FOLDER`` serves);
- index: a static PEP 691 JSON index of every pinned file, with the upload times the source
  index gave (:mod:`tritonlock.vendor.simpleindex`; any static web server);
- downloads: each at ``<FOLDER>/<host>/<path>`` of its URL (any web server);
- images: each pinned image pushed to a registry with ``skopeo copy --preserve-digests``
  from a ``dir:`` view of the bundle's blobs, so its manifest bytes, and digest, are the pin.

Each target is idempotent: what is in place with the right bytes is kept.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .. import lockfile
from ..errors import LockReadError, ResolveError, UsageError
from ..model import Lock
from ..sources.gitclient import GitFailed, run_git
from ..sources.imageref import parse_image_ref
from ..util import procs
from ..util.programs import require
from ..util.store import sha256_file
from . import aptrun, gitbundle, layout, simpleindex
from .layout import GitItem
from .manifest import Entry, Manifest

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Targets:
    """Where each part of the bundle goes (None: left alone)."""

    git: Path | None = None
    wheels: Path | None = None
    index: Path | None = None
    files: Path | None = None
    registry: str | None = None
    insecure: bool = False


def push(bundle: Path, found: Manifest, to: Targets, progress: Progress) -> dict[str, int]:
    """Load ``bundle`` (checked against ``found`` by the caller) into ``to``; how many of
    each kind were loaded."""
    done: dict[str, int] = {}
    if to.git is not None:
        git = to.git
        items = {i.path: i for i in layout.git_items(_lock_copy(bundle))}
        done["git"] = _each(
            found, "git", lambda e: _git(bundle, e, items.get(e.path), git, progress), progress
        )
    if to.wheels is not None:
        wheels = to.wheels
        done["wheels"] = _each(
            found, "wheel", lambda e: _copy(bundle / e.path, wheels / _name(e), e),
            progress,
        )  # fmt: skip
    if to.index is not None:
        index = to.index
        done["index files"] = _each(
            found, "wheel", lambda e: _copy(bundle / e.path, index / "files" / _name(e), e),
            progress,
        )  # fmt: skip
        done["index projects"] = simpleindex.write_pages(found, index, progress)
    if to.files is not None:
        files = to.files
        done["downloads"] = _each(
            found, "url", lambda e: _copy(bundle / e.path, files / url_path(e.what), e), progress
        )
    if to.registry is not None:
        done["images"] = _images(bundle, found, to.registry, to.insecure, progress)
    return done


def _name(e: Entry) -> str:
    return e.path.rsplit("/", 1)[-1]


def _each(found: Manifest, kind: str, load: Callable[[Entry], str], progress: Progress) -> int:
    entries = [e for e in found.files if e.kind == kind]
    for e in entries:
        progress(f"{kind} {e.what}: {load(e)}")
    return len(entries)


def url_path(url: str) -> str:
    """``https://h.example:8443/a/b.tgz`` → ``h.example:8443/a/b.tgz`` (refused: a path that
    would leave the folder)."""
    parts = urlsplit(url)
    words = (parts.netloc + parts.path).split("/")
    if not parts.netloc or any(w in ("", ".", "..") for w in words):
        raise ResolveError(f"download {url}: its URL has no plain host and path to store it at")
    return "/".join(words)


def _lock_copy(bundle: Path) -> Lock:
    """The lock the bundle was vendored from (its copy, already checked by its hash)."""
    try:
        return lockfile.load(bundle / layout.LOCK)
    except LockReadError as err:
        raise ResolveError(str(err)) from None


def _git(bundle: Path, e: Entry, item: GitItem | None, folder: Path, progress: Progress) -> str:
    """Fetch the bundle's pin refs and the branches and tags it carries into a bare
    repository; a branch or tag the site had elsewhere is moved to the pin, as a mirror
    moves it, and said."""
    key = e.path.removeprefix(f"{layout.GIT}/").removesuffix(".bundle")
    dest = folder / f"{key}.git"
    src = bundle / e.path
    commits = item.commits if item is not None else ()
    refs = item.refs if item is not None else ()
    try:
        got = gitbundle.heads(src, timeout=600)
    except GitFailed as err:
        raise ResolveError(f"{src}: not a git bundle: {err.reason}") from None
    problem = gitbundle.ref_problem(got, commits, refs)
    if problem is not None:
        raise ResolveError(f"{src}: {problem}; vendor the lock again")
    named = sorted(n for n in got if not n.startswith(layout.PIN_REF))
    refspecs = [f"+{layout.PIN_REF}*:{layout.PIN_REF}*", *(f"+{n}:{n}" for n in named)]
    try:
        if not (dest / "HEAD").is_file():
            run_git(["init", "-q", "--bare", str(dest)], timeout=600)
        before = _refs(dest, named)
        run_git(
            ["fetch", "-q", "--no-tags", str(src.absolute()), *refspecs], cwd=dest, timeout=3600
        )
    except GitFailed as err:
        raise ResolveError(f"{src}: cannot load it into {dest}: {err.reason}") from None
    for name in named:
        old = before.get(name)
        if old is not None and old != got[name]:
            progress(f"git {e.what}: moved {name} of {dest} from {old} to the pin {got[name]}")
    lacking = gitbundle.missing_refs(got, refs)
    if lacking and not named:
        progress(
            f"git {e.what}: the bundle carries no branch or tag (vendored by an older "
            "tritonlock?): `resolve` inside the site will not find "
            f"{', '.join(lacking)}; vendor again into a new folder"
        )
    carried = f" and {', '.join(named)}" if named else ""
    return f"loaded into {dest} (pinned commits{carried})"


def _refs(repo: Path, names: list[str]) -> dict[str, str]:
    """name → commit (an annotated tag peeled) of those of ``names`` that ``repo`` has."""
    if not names:
        return {}
    form = "--format=%(refname) %(objectname) %(*objectname)"
    out = run_git(["for-each-ref", form, *names], cwd=repo, timeout=600)
    found = {}
    for line in out.splitlines():
        name, oid, peeled = [*line.split(" "), "", ""][:3]
        if name in names:
            found[name] = peeled or oid
    return found


def _copy(src: Path, dest: Path, e: Entry) -> str:
    if dest.is_file() and sha256_file(dest) == (e.sha256, e.size):
        return f"already at {dest}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, part)
    part.replace(dest)
    return f"copied to {dest}"


def _images(
    bundle: Path, found: Manifest, registry: str, insecure: bool, progress: Progress
) -> int:
    if not found.images:
        return 0
    require("skopeo", "mirror push --registry (it copies each image with its manifest's bytes)")
    pushed: set[tuple[str, str]] = set()
    for image in found.images:
        ref = parse_image_ref(image.ref)
        tag = ref.tag or layout.image_tag("x", image.digest).split(":", 1)[1]
        dest = f"docker://{registry}/{ref.repository}:{tag}"
        if (dest, image.digest) in pushed:
            continue
        pushed.add((dest, image.digest))
        with tempfile.TemporaryDirectory(prefix="tritonlock-push-") as tmp:
            view = aptrun.layout_view(bundle / layout.IMAGES, image.digest, Path(tmp) / "view")
            _skopeo(view, dest, insecure, image.ref)
        progress(f"image {image.ref}: pushed to {dest.removeprefix('docker://')}")
    return len(pushed)


def _skopeo(view: str, dest: str, insecure: bool, what: str) -> None:
    argv = ["skopeo", "copy", "-q", "--preserve-digests", view, dest]
    if insecure:
        argv.insert(2, "--dest-tls-verify=false")
    try:
        done = procs.run(argv, timeout=3600)
    except subprocess.TimeoutExpired:
        raise ResolveError(f"image {what}: skopeo copy took over an hour") from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise ResolveError(f"image {what}: skopeo copy failed: {(err or ['?'])[-1][:300]}")


def check_targets(to: Targets) -> None:
    """Something to do, and folders that are folders (one line naming the option)."""
    folders: list[tuple[str, Path | None]] = [("--git", to.git), ("--wheels", to.wheels)]
    folders += [("--index", to.index), ("--files", to.files)]
    if all(path is None for _, path in folders) and to.registry is None:
        raise UsageError("name at least one of --git, --wheels, --index, --files, --registry")
    for option, path in folders:
        if path is not None and path.exists() and not path.is_dir():
            raise UsageError(f"{option} {path}: exists and is not a folder")
