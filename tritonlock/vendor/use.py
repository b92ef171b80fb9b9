"""Using a bundle for a build: the images it holds and lacks, and a local git mirror of one
of its repositories (the server's, from which the recipe is generated again offline)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ResolveError
from ..model import Lock
from ..sources.gitclient import GitFailed, run_git
from . import aptrepo, layout
from .manifest import Manifest


@dataclass(frozen=True, slots=True)
class BundleImages:
    """(local name:tag, digest) of each image the build starts from that the bundle holds,
    and ``name@digest`` of each it left out (``vendor --no-images``)."""

    loaded: tuple[tuple[str, str], ...]
    pulled: tuple[str, ...]


def images(lock: Lock, found: Manifest) -> BundleImages:
    held = {i.digest for i in found.images}
    wanted = dict.fromkeys(
        (pin.name(), pin.digest) for pin in lock.image if pin.role != "dockerfile-frontend"
    )
    return BundleImages(
        loaded=tuple(
            (layout.image_tag(name, digest), digest) for name, digest in wanted if digest in held
        ),
        pulled=tuple(f"{name}@{digest}" for name, digest in wanted if digest not in held),
    )


def git_mirror(folder: Path, url: str, dest: Path, *, timeout: float = 600) -> str:
    """A bare repository at ``dest`` holding every pinned commit of ``url`` from the
    bundle in ``folder``; its ``file://`` URL, to fetch from as from the remote."""
    bundle = (folder / layout.bundle_path(url)).absolute()
    refspec = f"+{layout.PIN_REF}*:{layout.PIN_REF}*"
    try:
        run_git(["init", "-q", "--bare", str(dest)], timeout=timeout)
        run_git(["config", "uploadpack.allowAnySHA1InWant", "true"], cwd=dest, timeout=timeout)
        run_git(["config", "uploadpack.allowFilter", "true"], cwd=dest, timeout=timeout)
        run_git(["fetch", "-q", "--no-tags", str(bundle), refspec], cwd=dest, timeout=timeout)
    except GitFailed as err:
        raise ResolveError(f"{bundle}: cannot read the bundle: {err.reason}") from None
    return dest.resolve().as_uri()


def apt_problems(lock: Lock, folder: Path, found: Manifest) -> list[str]:
    """Each apt package the lock pins that the bundle's flat repository lacks (all of them,
    said once, when it has none: vendored with --no-apt)."""
    apt = lock.apt
    if apt is None or not apt.packages:
        return []
    if not any(e.path == aptrepo.PACKAGES for e in found.files):
        return [
            f"{folder}: holds no apt packages, and the lock pins {len(apt.packages)}; vendor "
            "it again without --no-apt"
        ]
    text = (folder / aptrepo.PACKAGES).read_text("utf-8", errors="replace")
    have = set()
    for stanza in aptrepo.stanzas(text):
        f = aptrepo.control_fields(stanza)
        have.add((f.get("package"), f.get("version")))
    return [
        f"{folder / aptrepo.PACKAGES}: no {p.name}={p.version} (apt step {p.step}); vendor "
        "this lock again"
        for p in apt.packages
        if (p.name, p.version) not in have
    ]
