"""`tritonlock build`: verify a lock, then emit its hermetic build folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .. import runner
from ..emit.buildplan import BUILDERS, NETWORKS, Builder, Network, commands
from ..emit.secrets import KNOWN, SecretSpec
from ..errors import EXIT_NEGATIVE, EXIT_OK, UsageError
from ..model import Lock
from ..util.programs import require
from ..verify.offline import verify
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers

EXAMPLES = (
    "tritonlock build triton.lock -o build/ && (cd build && ./build.sh)",
    "tritonlock build triton.lock --run --builder buildah",
    "tritonlock build x86_64.lock igpu.lock -o build/   # a bake matrix, one folder each",
    "tritonlock build triton.lock --secret id=pip-conf,src=$HOME/.config/pip/pip.conf",
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
    from ..resolve.git import parse_mirror

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
    if not args.recipe:
        require("git", "build (it generates the recipe at the pinned server commit)")
    builder: Builder = args.builder or (runner.detect() if args.run else "buildx")
    if args.run:  # buildx when `docker buildx` works (or was asked for), else buildah
        require("docker" if builder == "buildx" else "buildah", f"build --run --builder {builder}")
    checked = verified(locks)
    if checked is None:
        print(
            "FAILED: nothing was written; fix the lock (see `tritonlock verify`)", file=sys.stderr
        )
        return EXIT_NEGATIVE
    problems: list[str] = []
    folders = args.recipe or [None] * len(locks)
    recipes = [
        recipe_for(lock, folder, mirrors, problems)
        for lock, folder in zip(checked, folders, strict=True)
    ]
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("FAILED: nothing was written; the recipe does not match the lock", file=sys.stderr)
        return EXIT_NEGATIVE
    files = assemble(checked, recipes, secrets, builder, args.network)
    write(out, files)
    hashes = ", ".join(lock.content_hash or "" for lock in checked)
    print(f"wrote {args.output}/ ({len(files)} files) for {hashes}")
    if args.run:
        for lock in checked:
            folder = out if len(checked) == 1 else out / _subfolder(lock)
            steps = commands(builder, plan(lock, secrets, args.network))
            runner.execute(steps, folder.resolve())
        print(f"built {', '.join(plan(lock).tag for lock in checked)} with {builder}")
    return EXIT_OK


def recipe_for(
    lock: Lock, folder: str | None, mirrors: tuple[tuple[str, str], ...], problems: list[str]
) -> dict[str, str]:
    """The lock's recipe: from ``folder``, else generated from the pinned server commit;
    every difference from ``lock.recipe`` is added to ``problems``."""
    from ..resolve import recipe as recipe_mod

    if folder is None:
        files, found = recipe_mod.capture(lock, mirrors)
    else:
        files = recipe_mod.read_folder(Path(folder), lock)
        found = recipe_mod.stale(lock, files, folder.rstrip("/"), complete=False)
    problems += found
    return files


def verified(paths: list[str]) -> list[Lock] | None:
    """Each lock verified offline; every problem of every lock printed; None if any failed."""
    out: list[Lock] = []
    ok = True
    for path in paths:
        report = verify(path)
        for problem in report.problems:
            print(f"{report.path}: {problem}", file=sys.stderr)
        ok = ok and report.ok and report.lock is not None
        if report.lock is not None:
            out.append(report.lock)
    return out if ok else None


def assemble(
    locks: list[Lock],
    recipes: list[dict[str, str]],
    secrets: list[SecretSpec],
    builder: str,
    network: Network = "default",
) -> dict[str, bytes]:
    """One lock: its files at the top. Several: one subfolder each and a bake matrix on top."""
    from ..emit import bake as bake_mod
    from ..emit import emit, plan

    b: Builder = "buildah" if builder == "buildah" else "buildx"
    if len(locks) == 1:
        return emit(locks[0], recipes[0], secrets=secrets, builder=b, network=network)
    files: dict[str, bytes] = {}
    entries = []
    for lock, recipe in zip(locks, recipes, strict=True):
        sub = _subfolder(lock)
        if any(k.startswith(sub + "/") for k in files):
            raise UsageError(f"two locks for release {lock.inputs.release} target {sub}")
        for rel, data in emit(lock, recipe, secrets=secrets, builder=b, network=network).items():
            files[f"{sub}/{rel}"] = data
        name = bake_mod.target_name(lock.inputs.release, lock.inputs.target)
        entries.append(bake_mod.Entry(name=name, context=sub, plan=plan(lock, secrets, network)))
    files["docker-bake.hcl"] = bake_mod.render(entries)
    return dict(sorted(files.items()))


def _subfolder(lock: Lock) -> str:
    return f"{lock.inputs.release}-{lock.inputs.target}"
