"""`tritonlock build`: verify a lock, then emit its hermetic build folder."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import runner
from ..emit.buildplan import BUILDERS, NETWORKS, Builder, commands
from ..emit.secrets import KNOWN, SecretSpec
from ..errors import EXIT_NEGATIVE, EXIT_OK, UsageError
from ..util.programs import require
from ..verify.offline import verified
from . import _vendored
from ._help import add_command

if TYPE_CHECKING:
    from ..model import Lock
    from ._help import Subparsers

EXAMPLES = (
    "tritonlock build triton.lock -o build/ && (cd build && ./build.sh)",
    "tritonlock build triton.lock --run --builder buildah",
    "tritonlock build x86_64.lock igpu.lock -o build/   # a bake matrix, one folder each",
    "tritonlock build triton.lock --secret id=pip-conf,src=$HOME/.config/pip/pip.conf",
    "tritonlock build triton.lock --vendor bundle/ --run   # from `tritonlock vendor`, offline",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "build",
        help,
        help + ". Runs `verify` first and refuses (exit 1, every problem listed, "
        "nothing written) for a tampered, stale, partial or invalid lock. The output folder is "
        "replaced atomically. Without --recipe, the recipe is generated again from the "
        "pinned server commit (build.py --dryrun) and must match the lock's digests. "
        "Secret ids: " + ", ".join(sorted(KNOWN)) + ".",
        EXAMPLES,
    )
    p.add_argument(
        "locks",
        nargs="*",
        metavar="LOCK",
        help="lock file; several give one subfolder each and a bake matrix (default: triton.lock)",
    )
    p.add_argument("--lock", action="append", default=[], help="the same as LOCK (repeatable)")
    p.add_argument(
        "--recipe",
        action="append",
        metavar="DIR",
        help="use upstream's generated files (Dockerfile.buildbase, cmake_build, Dockerfile) "
        "from DIR instead of generating them from the pinned server commit; one per --lock, "
        "in the same order",
    )
    p.add_argument(
        "--git-mirror",
        action="append",
        default=[],
        metavar="PREFIX=MIRROR",
        help="fetch the pinned server commit for git URLs starting with PREFIX from MIRROR "
        "(repeatable; the emitted build uses the git-config secret instead)",
    )
    p.add_argument("-o", "--output", default="build", help="output folder (default: %(default)s)")
    p.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="id=ID,src=FILE|env=NAME",
        help="a build secret the emitted build.sh passes to the builder (repeatable)",
    )
    p.add_argument(
        "--builder",
        choices=BUILDERS,
        help="command in build.sh (default: buildx; with --run, buildx when "
        "`docker buildx` works, else buildah)",
    )
    p.add_argument(
        "--network",
        choices=NETWORKS,
        default="default",
        help="network of the builder's own RUNs (sources, wheels, final image): `host` when "
        "a git or pip mirror the build uses is on the build machine's loopback (127.0.0.1), "
        "or the docker daemon has no bridge network; the compile step stays offline either "
        "way (default: %(default)s)",
    )
    _vendored.add_option(p)
    p.add_argument(
        "--run",
        action="store_true",
        help="run the emitted build after writing it (buildah 1.28 builds the compile stage "
        "with --network=none on its command line)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..emit import plan
    from ..emit.folder import check_replaceable, write
    from ..emit.matrix import assemble, subfolder
    from ..resolve.git import parse_mirror
    from ..resolve.recipe import recipe_for

    locks = [*args.locks, *args.lock] or ["triton.lock"]
    if args.recipe and len(args.recipe) != len(locks):
        raise UsageError("give one --recipe folder for each lock, in the same order")
    secrets = [SecretSpec.parse(s) for s in args.secret]
    for secret in secrets:
        if secret.src is not None and not Path(secret.src).is_file():
            raise UsageError(f"--secret id={secret.id}: src {secret.src}: no such file")
    mirrors = tuple(parse_mirror(s) for s in args.git_mirror)
    out = Path(args.output)
    check_replaceable(out)
    _vendored.check_options(args, locks)
    if not args.recipe:
        require("git", "build (it generates the recipe at the pinned server commit)")
    detected = "buildah" if args.vendor else (runner.detect() if args.run else "buildx")
    builder: Builder = args.builder or detected
    if args.run:  # buildx when `docker buildx` works (or was asked for), else buildah
        require("docker" if builder == "buildx" else "buildah", f"build --run --builder {builder}")
    checked, problems = verified(locks)
    if not checked:
        return _refuse(problems, "fix the lock (see `tritonlock verify`)")
    if args.run:
        _runs_here(checked)
    vendor = None
    if args.vendor:
        problems = _vendored.check_bundle(args.vendor, checked[0])
        if problems:
            return _refuse(problems, "the bundle does not match the lock; vendor it again")
        vendor = _vendored.vendored(args.vendor, checked[0])
        if not args.recipe:
            mirrors = _vendored.server_mirror(args.vendor, checked[0])
    folders = args.recipe or [None] * len(locks)
    recipes = []
    for lock, folder in zip(checked, folders, strict=True):
        recipe, found = recipe_for(lock, folder, mirrors)
        recipes.append(recipe)
        problems += found
    if problems:
        return _refuse(problems, "the recipe does not match the lock")
    files = assemble(checked, recipes, secrets, builder, args.network, vendor)
    write(out, files)
    hashes = ", ".join(lock.content_hash or "" for lock in checked)
    print(f"wrote {args.output}/ ({len(files)} files) for {hashes}")
    if args.run:
        for lock in checked:
            folder = out if len(checked) == 1 else out / subfolder(lock)
            steps = commands(builder, replace(plan(lock, secrets, args.network), vendor=vendor))
            runner.execute(steps, folder.resolve())
            digest = runner.record_image(folder, builder, plan(lock).tag)
            print(f"built {plan(lock).tag} ({digest}) with {builder}")
    return EXIT_OK


def _runs_here(locks: list[Lock]) -> None:
    """Every RUN of the build runs in the lock's images: their platform must run on this
    machine, natively or emulated (checked before anything is written)."""
    from ..upstream.targets import TARGETS
    from ..util.binfmt import check_runs

    for lock in locks:
        target = TARGETS[lock.inputs.target]
        check_runs(
            target.oci_platform,
            needed_for=f"build --run: the build of target {target.name} runs its images' programs",
            fixes="or build without --run here and run build.sh on a machine of that platform",
        )


def _refuse(problems: list[str], why: str) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"FAILED: nothing was written; {why}", file=sys.stderr)
    return EXIT_NEGATIVE
