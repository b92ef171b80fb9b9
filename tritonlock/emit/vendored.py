"""A build whose every input comes from a bundle of `tritonlock vendor` (pure: text out).

The bundle is a named build context, :data:`CONTEXT` (``--build-context
tritonlock-vendor=DIR``), mounted read-only where a RUN needs it; no RUN has a network:

- the sources stage fetches each repository's pinned commits from its `git bundle`;
- pip installs and downloads read the bundle's wheelhouse (``--no-index --find-links``),
  ``--require-hashes`` as ever;
- a download is copied from the bundle by the same script that checks its sha256;
- images are loaded into the builder's store before the build, by the runner
  (:func:`tritonlock.emit.buildplan.commands`), so ``FROM name@digest`` finds them there.

Apt packages are not vendored yet: a lock that pins some is refused.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from ..model import UrlPin
from ..vendor.layout import DOWNLOADS, GIT, PIN_REF, WHEELS, bundle_path, download_path
from .secrets import Use

CONTEXT = "tritonlock-vendor"
ROOT = "/tritonlock/vendor"
WHEELHOUSE = f"{ROOT}/{WHEELS}"
# Where each kind of RUN reads the bundle.
_FOLDERS = {Use.GIT: GIT, Use.PIP: WHEELS, Use.NETWORK: DOWNLOADS}
APT_REFUSED = (
    "apt packages are not vendored yet (tritonlock vendor leaves them out); "
    "build this lock without --vendor"
)


def mount(folder: str) -> str:
    return f"--mount=type=bind,from={CONTEXT},source={folder},target={ROOT}/{folder}"


def mounts(uses: Use | Iterable[Use]) -> tuple[str, ...]:
    """The bundle's folders a RUN of these kinds reads (in place of the network's secrets)."""
    wanted = {uses} if isinstance(uses, Use) else set(uses)
    return tuple(mount(folder) for use, folder in _FOLDERS.items() if use in wanted)


def prologue(uses: Use | Iterable[Use]) -> str:
    """Shell a RUN of these kinds starts with: pip reads the bundle's wheelhouse only."""
    wanted = {uses} if isinstance(uses, Use) else set(uses)
    if Use.PIP not in wanted:
        return ""
    return f"export PIP_NO_INDEX=1 PIP_FIND_LINKS={WHEELHOUSE}"


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
