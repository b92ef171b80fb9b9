"""Using a bundle for a build: the images it holds and lacks, and a local git mirror of one
of its repositories (the server's, from which the recipe is generated again offline)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ResolveError
from ..model import Lock
from ..sources.gitclient import GitFailed, run_git
from . import layout
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
