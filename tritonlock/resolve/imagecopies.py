"""What upstream's CMake copies out of a pinned image, read at the pinned commit.

A repository that ``cmake_build`` configures with an image as a ``-D`` value
(pytorch_backend: ``-DTRITON_PYTORCH_DOCKER_IMAGE=…``) is read with those flags and the
target's processor (:func:`tritonlock.upstream.dockercp.image_copies`), from the CMake files
the git resolver cached for its pin; the paths land on that image's pin
(``[[image]] copies``), which the build copies from the image pinned by digest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import ResolveError
from ..model import GitPin, ImagePin
from ..sources.gitclient import GitFailed, SubprocessGit
from ..sources.mirrors import rewrite as fetch_url
from ..upstream.dockercp import ImageCopies, image_copies
from ..upstream.floating import IMAGE_DEFINES
from ..upstream.targets import TARGETS

Flags = Mapping[str, Mapping[str, str | None]]


def copying_repos(flags: Flags) -> list[str]:
    """The repositories ``cmake_build`` hands an image to copy from (``-D`` flags)."""
    return sorted(
        repo
        for repo, given in flags.items()
        if any(IMAGE_DEFINES.get(k) not in (None, "build") and v for k, v in given.items())
    )


def read_copies(
    pins: Sequence[GitPin],
    flags: Flags,
    target: str,
    *,
    cache_dir: Path,
    mirrors: Sequence[tuple[str, str]] = (),
) -> tuple[ImageCopies, ...]:
    """Per image, what the pinned repositories of :func:`copying_repos` copy out of it."""
    machine = TARGETS[target].machine
    platform = {"CMAKE_SYSTEM_PROCESSOR": machine, "CMAKE_HOST_SYSTEM_PROCESSOR": machine}
    out: list[ImageCopies] = []
    for repo in copying_repos(flags):
        pin = next((p for p in pins if p.name == repo), None)
        if pin is None:
            raise ResolveError(f"git {repo}: not pinned, so what its CMake copies is unknown")
        given = flags[repo]
        out += image_copies(
            repo,
            _cmake_files(pin, cache_dir, mirrors),
            {k: v for k, v in given.items() if v is not None},
            unknown=[k for k, v in given.items() if v is None],
            platform=platform,
        )
    return tuple(out)


def _cmake_files(
    pin: GitPin, cache_dir: Path, mirrors: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """The CMake files of ``pin``'s tree (the git resolver's cache, else one sparse fetch)."""
    source = SubprocessGit(cache_dir)
    tree = source.cached_tree(pin.url, pin.commit)
    if tree is None:
        try:
            tree = source.read_tree(pin.url, fetch_url(pin.url, mirrors), pin.commit, pin.commit)
        except GitFailed as err:
            raise ResolveError(
                f"git {pin.name} @ {pin.commit[:12]}: cannot read its CMake files: {err.reason}"
            ) from None
    return dict(tree.cmake_files)


def with_copies(images: Sequence[ImagePin], copies: Sequence[ImageCopies]) -> tuple[ImagePin, ...]:
    """``images`` with each one's copied paths, matched by the ref the recipe names."""
    by_ref = {c.image: c for c in copies}
    return tuple(
        replace(im, copies=by_ref[im.ref].paths, copies_found_in=by_ref[im.ref].found_in)
        if im.ref in by_ref
        else im
        for im in images
    )
