"""Where each pinned input lives in a vendored bundle, and what a lock asks to vendor (pure).

A bundle (``tritonlock vendor -o DIR``) holds::

    DIR/manifest.json                  every file below, tied to the lock's content hash
    DIR/triton.lock                    the lock it was made from
    DIR/git/<host>/<path>.bundle       one `git bundle` per repository (all its pinned commits)
    DIR/wheels/<file name>             every pinned wheel (or sdist) file
    DIR/downloads/<sha256>/<file name> every pinned download
    DIR/images/                        an OCI image layout: oci-layout, index.json, blobs/sha256/…
    DIR/apt/                           a flat apt repository (:mod:`tritonlock.vendor.aptrepo`)

The emitted build (:mod:`tritonlock.emit.vendored`) reads the same paths, so both sides
take them from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..model import Lock, UrlPin, WheelPin, repo_key

MANIFEST = "manifest.json"
LOCK = "triton.lock"
GIT = "git"
WHEELS = "wheels"
DOWNLOADS = "downloads"
IMAGES = "images"
APT = "apt"
FOLDERS = (GIT, WHEELS, DOWNLOADS, IMAGES, APT)
# Where a vendored build's RUNs see the bundle (its folders are mounted below it).
MOUNT_ROOT = "/tritonlock/vendor"
# The ref of each pinned commit in a repository's bundle: the build fetches them all.
PIN_REF = "refs/tritonlock/pin/"
# Marks a folder as a bundle, so that `vendor` writes into and prunes only its own folders.
MARKER = ".tritonlock-vendor"
_BASE = re.compile(r"[A-Za-z0-9._+-]{1,200}")
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_FULL_ID = re.compile(r"[0-9a-f]{40}")


def bundle_path(url: str) -> str:
    """``git/github.com/o/r.bundle`` for every spelling of ``https://github.com/o/r.git``."""
    return f"{GIT}/{repo_key(url)}.bundle"


def wheel_path(filename: str) -> str:
    return f"{WHEELS}/{filename}"


def download_path(pin: UrlPin) -> str:
    """``downloads/<sha256 hex>/<the URL's file name>`` (the name keeps the extension that
    CMake and tar read an archive's type from)."""
    base = urlsplit(pin.url).path.rstrip("/").rsplit("/", 1)[-1]
    base = base if _BASE.fullmatch(base or "") and base not in (".", "..") else "download"
    return f"{DOWNLOADS}/{hex_of(pin.sha256)}/{base}"


def blob_path(digest: str) -> str:
    return f"{IMAGES}/blobs/sha256/{hex_of(digest)}"


def is_sha256(digest: str) -> bool:
    return _SHA256.fullmatch(digest) is not None


def hex_of(digest: str) -> str:
    """``sha256:abc…`` → ``abc…``."""
    return digest.split(":", 1)[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class GitItem:
    """One repository: its bundle holds every commit the lock pins in it (top-level pins
    and submodules, however the URL is spelled)."""

    path: str
    url: str  # the first spelling in the lock: fetched from (through --git-mirror)
    commits: tuple[str, ...]
    # (ref as the lock names it, its pinned commit) of each top-level pin whose ref is not a
    # full commit id: the bundle carries it as the branch or tag upstream has of that name.
    refs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelGroup:
    """The pinned files of one project on one index (one index page lists them all)."""

    index: str
    project: str
    files: tuple[tuple[str, str, int], ...]  # (file name, sha256, size)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageItem:
    role: str
    ref: str
    digest: str
    platform: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Everything a lock asks to vendor, in lock order."""

    git: tuple[GitItem, ...] = ()
    wheels: tuple[WheelGroup, ...] = ()
    urls: tuple[UrlPin, ...] = ()
    images: tuple[ImageItem, ...] = ()
    left_out: tuple[str, ...] = field(default=())

    def count(self) -> int:
        files = sum(len(g.files) for g in self.wheels)
        return len(self.git) + files + len(self.urls) + len(self.images)


def plan(lock: Lock, *, images: bool = True, apt: bool = True) -> Plan:
    """What ``lock`` pins, as bundle items; what is left out (and why) in ``left_out``.
    Apt packages are vendored apart (:mod:`tritonlock.vendor.aptrepo`); ``apt=False``
    notes them as left out."""
    left = []
    if not apt and lock.apt is not None and lock.apt.packages:
        n = len(lock.apt.packages)
        left.append(
            f"apt: {n} pinned package{'s' if n != 1 else ''} not vendored (--no-apt); "
            "`build --vendor` refuses this bundle"
        )
    if not images and lock.image:
        left.append("images: left to a registry (--no-images)")
    return Plan(
        git=git_items(lock),
        wheels=wheel_groups(lock.wheel),
        urls=tuple(lock.url),
        images=tuple(image_items(lock)) if images else (),
        left_out=tuple(left),
    )


def git_items(lock: Lock) -> tuple[GitItem, ...]:
    found: dict[str, tuple[str, list[str]]] = {}
    refs: dict[str, dict[str, str]] = {}
    for g in lock.git:
        pins = [(g.url, g.commit), *((s.url, s.commit) for s in g.submodules)]
        for url, commit in pins:
            _, commits = found.setdefault(repo_key(url), (url, []))
            if commit not in commits:
                commits.append(commit)
        if not _FULL_ID.fullmatch(g.ref):  # the first pin of a ref names its commit
            refs.setdefault(repo_key(g.url), {}).setdefault(g.ref, g.commit)
    return tuple(
        GitItem(
            path=f"{GIT}/{key}.bundle",
            url=url,
            commits=tuple(commits),
            refs=tuple(refs.get(key, {}).items()),
        )
        for key, (url, commits) in found.items()
    )


def wheel_groups(pins: Iterable[WheelPin]) -> tuple[WheelGroup, ...]:
    groups: dict[tuple[str, str], dict[str, tuple[str, str, int]]] = {}
    for w in pins:
        files = groups.setdefault((w.index, w.name), {})
        for f in w.files:
            files.setdefault(f.name, (f.name, f.sha256, f.size))
    return tuple(
        WheelGroup(index=index, project=name, files=tuple(files.values()))
        for (index, name), files in groups.items()
    )


def image_items(lock: Lock) -> Iterable[ImageItem]:
    """Every image a build starts from, by role (the Dockerfile frontend of buildx's
    ``# syntax=`` is the builder's own, not the build's). Two roles may pin one digest:
    its blobs are stored once."""
    for im in lock.image:
        if im.role != "dockerfile-frontend":
            yield ImageItem(role=im.role, ref=im.ref, digest=im.digest, platform=im.platform)


def image_tag(ref_name: str, digest: str) -> str:
    """The local name an image loaded from the bundle gets: its repository (from the lock)
    and a tag naming the digest, so that ``FROM name@digest`` finds it in the builder's store."""
    return f"{ref_name}:tritonlock-{hex_of(digest)[:16]}"
