"""A build whose every input comes from a bundle of `tritonlock vendor` (pure: text out).

The bundle is a named build context, :data:`CONTEXT` (``--build-context
tritonlock-vendor=DIR``), mounted read-only where a RUN needs it; no RUN has a network:

- the sources stage fetches each repository's pinned commits from its `git bundle`;
- pip installs and downloads read the bundle's wheelhouse (``--no-index --find-links``),
  ``--require-hashes`` as ever;
- a download is copied from the bundle by the same script that checks its sha256;
- images are loaded into the builder's store before the build, by the runner
  (:func:`tritonlock.emit.buildplan.commands`), so ``FROM name@digest`` finds them there;
- every apt command reads the bundle's flat repository and no other source
  (``APT_CONFIG``, :mod:`tritonlock.vendor.aptrepo`), its packages hash-checked with the
  rest of the bundle before the build.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from ..model import UrlPin
from ..vendor.aptrepo import APT_CONFIG
from ..vendor.layout import (
    APT,
    DOWNLOADS,
    GIT,
    MOUNT_ROOT,
    PIN_REF,
    WHEELS,
    bundle_path,
    download_path,
)
from .secrets import Use

CONTEXT = "tritonlock-vendor"
ROOT = MOUNT_ROOT
WHEELHOUSE = f"{ROOT}/{WHEELS}"
# Where each kind of RUN reads the bundle.
_FOLDERS = {Use.GIT: GIT, Use.PIP: WHEELS, Use.NETWORK: DOWNLOADS, Use.APT: APT}


def mount(folder: str) -> str:
    return f"--mount=type=bind,from={CONTEXT},source={folder},target={ROOT}/{folder}"


def mounts(uses: Use | Iterable[Use]) -> tuple[str, ...]:
    """The bundle's folders a RUN of these kinds reads (in place of the network's secrets)."""
    wanted = {uses} if isinstance(uses, Use) else set(uses)
    return tuple(mount(folder) for use, folder in _FOLDERS.items() if use in wanted)


def prologue(uses: Use | Iterable[Use]) -> str:
    """Shell a RUN of these kinds starts with: pip reads the bundle's wheelhouse only, apt
    the bundle's flat repository only."""
    wanted = {uses} if isinstance(uses, Use) else set(uses)
    out = []
    if Use.PIP in wanted:
        out.append(f"export PIP_NO_INDEX=1 PIP_FIND_LINKS={WHEELHOUSE}")
    if Use.APT in wanted:
        out.append(f"export APT_CONFIG={APT_CONFIG}")
    return "; ".join(out)


def bundle_file(url: str) -> str:
    """Where a repository's bundle is inside a RUN that mounts the git folder."""
    return f"{ROOT}/{bundle_path(url)}"


def fetch_bundle(path: str, url: str) -> str:
    """The git command that takes every pinned commit of ``url``'s bundle into the mirror
    at ``path`` (each under a temporary ref the mirror's script removes afterwards)."""
    q = shlex.quote
    refspec = f"+{PIN_REF}*:refs/tritonlock-fetch/pin/*"
    return f"git -C {path} fetch -q --no-tags {q(bundle_file(url))} {q(refspec)}"


def download_url(pin: UrlPin) -> str:
    """The ``file://`` URL of a download in a RUN that mounts the downloads folder: the
    fetch script copies it from there and checks its sha256 as it would a remote one."""
    return f"file://{ROOT}/{download_path(pin)}"
