"""Running one apt closure (:class:`tritonlock.vendor.aptrepo.AptJob`) with buildah: a
container of the pinned image, apt's download-only install in it with the job's sources,
the packages left in a folder of the host, the container (and an image it pulled) removed.

The container shares the host's network (apt reads the archives as the vendoring machine
can, 127.0.0.1 included); it changes nothing but the mounted folder. It runs the image's
platform: an arm64 image on an x86_64 machine runs under qemu's binfmt handler, which
`vendor` checks is there before any work (:mod:`tritonlock.util.binfmt`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..errors import ResolveError
from ..model import Lock
from ..resolve.recipe import capture
from ..upstream import AptInstall, floating_inputs
from ..util import procs
from ..util.programs import require
from .aptrepo import WORK, AptJob, script


def closure(
    job: AptJob,
    image: str,
    work: Path,
    *,
    tls_verify: bool,
    timeout: float,
) -> str:
    """Download ``job``'s closure into ``work/debs`` inside a container of ``image`` (a
    buildah transport reference: ``oci:DIR:NAME`` or ``docker://NAME@DIGEST``); what the
    job's script printed: each package's control fields and file name. Packages put in
    ``work/seed/`` beforehand are taken instead of downloaded where apt asks for them
    (:func:`tritonlock.vendor.aptrepo.script`)."""
    require("buildah", "vendor (apt computes each apt step's packages in its pinned image)")
    work.mkdir(parents=True, exist_ok=True)
    (work / "sources.list").write_text("".join(f"{line}\n" for line in job.sources))
    before = {_id(i) for i in _b(["images", "-q", "--no-trunc"], timeout=timeout).split()}
    pull = ["--pull"] + ([] if tls_verify else ["--tls-verify=false"])
    what = f"apt step {job.step} in {job.image}"
    # the platform named too: the container runs the image's architecture (emulated by a
    # binfmt handler where it is not this machine's, see util/binfmt.py), with no warning
    platform = ["--platform", job.platform]
    cid = _b(["from", "-q", *pull, *platform, image], timeout=timeout, what=what).strip()
    image_id = ""
    try:
        image_id = _id(_b(["inspect", "--format", "{{.FromImageID}}", cid], timeout=timeout))
        argv = ["run", "--network", "host", "-v", f"{work}:{WORK}", cid, "--"]
        text = script(job, seeded=(work / "seed").is_dir())
        return _b([*argv, "sh", "-c", text], timeout=timeout, what=what)
    finally:
        _b(["rm", cid], timeout=timeout, check=False)
        if image_id and image_id not in before:
            _b(["rmi", image_id], timeout=timeout, check=False)


def _id(text: str) -> str:
    return text.strip().removeprefix("sha256:")


def layout_view(images: Path, digest: str, dest: Path) -> str:
    """A ``dir:`` view of one image of the bundle's OCI layout (links to its blobs, its
    manifest's own bytes), as the vendored build loads it: the manifest keeps its media
    type, Docker's or OCI's, so the image apt runs in is the pinned one."""
    blobs = images.absolute() / "blobs" / "sha256"
    manifest = blobs / digest.split(":", 1)[1]
    if not manifest.is_file():
        raise ResolveError(f"{images}: no manifest {digest} (vendor the images again)")
    dest.mkdir(parents=True)
    for blob in blobs.iterdir():
        (dest / blob.name).symlink_to(blob)
    (dest / "manifest.json").symlink_to(manifest)
    (dest / "version").write_text("Directory Transport Version: 1.1\n")
    return f"dir:{dest}"


def _b(args: list[str], *, timeout: float, what: str = "buildah", check: bool = True) -> str:
    try:
        done = procs.run(["buildah", *args], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ResolveError(f"{what}: buildah {args[0]} took over {timeout:.0f}s") from None
    if check and done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        said = [line for line in err if line.startswith("E: ")] or err  # apt's own errors
        last = said[-1] if said else f"exit {done.returncode}"
        raise ResolveError(f"{what}: buildah {args[0]} failed: {last[:300]}")
    return done.stdout.decode(errors="replace")


def recipe_installs(
    lock: Lock, git_mirrors: Sequence[tuple[str, str]], *, timeout: float
) -> tuple[AptInstall, ...]:
    """The recipe's apt installs at the lock's server commit (``build.py --dryrun`` again,
    as `build` and `verify --deep` run it), each with its image role and the repositories
    its stage adds before it; a recipe that differs from the lock's is an error."""
    files, problems = capture(lock, git_mirrors, timeout=timeout)
    if problems:
        raise ResolveError(f"apt: {problems[0]}")
    return tuple(a for a in floating_inputs(files).apt if a.manager in ("apt-get", "apt"))
