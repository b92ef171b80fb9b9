"""`tritonlock build --vendor DIR`: the options it allows, the bundle checked byte by byte
before anything is written, and what the build takes from it."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..emit.buildplan import Vendored
    from ..model import Lock

HELP = (
    "take every input from the bundle that `tritonlock vendor` wrote in DIR, checked byte by "
    "byte against its manifest and the lock before anything is written: git from its "
    "bundles, wheels from its wheelhouse, downloads and images from it, apt packages from "
    "its flat repository; the recipe is generated again from the server's bundle, and "
    "every RUN of the build has no network (buildah, in a new network namespace)"
)


def add_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vendor", metavar="DIR", help=HELP)


def check_options(args: argparse.Namespace, locks: list[str]) -> None:
    """What a vendored build refuses, before any work."""
    if args.vendor is None:
        return
    if len(locks) != 1:
        raise UsageError("--vendor builds one lock (a bundle holds one lock's inputs)")
    if args.builder not in (None, "buildah"):
        raise UsageError("--vendor builds with buildah (--builder buildah)")
    if args.network != "default":
        raise UsageError("--vendor: the build has no network at all; drop --network")
    if args.secret:
        raise UsageError("--vendor: nothing is fetched, so no secret is needed; drop --secret")
    if not Path(args.vendor).is_dir():
        raise UsageError(f"--vendor {args.vendor}: no such folder")


def check_bundle(folder: str, lock: Lock) -> list[str]:
    """Every problem of the bundle: a file missing or changed, another lock's bundle."""
    from ..vendor.check import check_folder
    from ..vendor.use import apt_problems

    checked = check_folder(Path(folder), content_hash=lock.content_hash)
    if checked.manifest is None or checked.problems:
        return list(checked.problems)
    return apt_problems(lock, Path(folder), checked.manifest)


def server_mirror(folder: str, lock: Lock) -> tuple[tuple[str, str], ...]:
    """A git mirror of the server repository from its bundle, to generate the recipe again
    with no network (in the command's scratch folder, removed when it ends)."""
    from ..vendor.use import git_mirror

    server = lock.server_pin()
    dest = Path(tempfile.mkdtemp(prefix="server-")) / "server.git"
    return ((server.url, git_mirror(Path(folder), server.url, dest)),)


def vendored(folder: str, lock: Lock) -> Vendored:
    from ..emit.buildplan import Vendored
    from ..vendor import manifest
    from ..vendor.use import images

    found = images(lock, manifest.read(Path(folder)))
    return Vendored(path=str(Path(folder).resolve()), images=found.loaded, pulled=found.pulled)
