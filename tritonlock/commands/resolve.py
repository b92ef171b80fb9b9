"""`tritonlock resolve RELEASE --target T`: pin every input of a Triton build into a lock."""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING

from .. import lockfile
from ..errors import EXIT_NEGATIVE, EXIT_OK, UsageError
from ..lockfile import schema
from ..model import Inputs, Lock
from ..upstream import options as upstream_options
from ..upstream.backends import refusal, unbuildable
from ..upstream.options import ROLE
from ..upstream.targets import TARGETS
from ..util.programs import require
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers
from ._lockarg import check_output_file
from ._options import add_source_options
from ._sourceargs import resolve_options

FEATURES = tuple(sorted(upstream_options.FEATURES))
DEFAULT_FEATURES = ("logging", "stats", "metrics", "cpu-metrics", "tracing")
GPU_FEATURES = ("gpu-metrics",)
DEFAULT_ENDPOINTS = ("grpc", "http")
EXAMPLES = (
    "tritonlock resolve 25.04 --target x86_64 --backend python",
    "tritonlock resolve 25.04 --target igpu --backend python --backend vllm -o igpu.lock",
    "tritonlock resolve 25.04 --target sbsa --backend python --allow-partial --json",
    "tritonlock resolve 25.02 --target x86_64 --backend python --exclude-newer 2025-02-28",
    "tritonlock resolve 25.04 --target x86_64 --backend python \\",
    "    --git-mirror https://github.com/=https://git.example/github/ \\",
    "    --index-url https://pypi.example/simple --registry-mirror nvcr.io=registry.example",
    "# build.py --target-platform=linux --target-machine=aarch64 --enable-gpu --backend=python",
    "tritonlock resolve 25.04 --target sbsa --backend python",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(
        sub,
        "resolve",
        help,
        help + ". Options use build.py's vocabulary, so a build.py command carries over: "
        "--target-platform/--target-machine/--enable-gpu become --target, and --backend, "
        "--repoagent, --cache, --endpoint, --filesystem, --enable-FEATURE and --image are "
        "the same. Everything is checked before anything is fetched.",
        EXAMPLES,
    )
    add_input_options(p)
    add_source_options(p)
    p.add_argument(
        "-o", "--output", default="triton.lock", help="lock to write (default: %(default)s)"
    )
    p.set_defaults(func=run)


def add_input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "what to build (recorded in the lock's [inputs])",
        description=f"--enable-FEATURE switches build.py features: {', '.join(FEATURES)} "
        f"(default: {', '.join(DEFAULT_FEATURES)}, plus gpu-metrics on GPU targets; "
        "GPU support itself comes from --target).",
    )
    g.add_argument("release", help="Triton container release, e.g. 25.04")
    g.add_argument(
        "--target",
        choices=tuple(TARGETS),
        required=True,
        help=", ".join(f"{t.name} ({t.describe})" for t in TARGETS.values()),
    )
    g.add_argument(
        "--backend",
        action="append",
        default=[],
        metavar="NAME[:REF]",
        help="backend to build, optionally at a ref (repeatable)",
    )
    g.add_argument("--repoagent", action="append", default=[], metavar="NAME[:REF]")
    g.add_argument("--cache", action="append", default=[], metavar="NAME[:REF]")
    g.add_argument(
        "--endpoint",
        action="append",
        default=[],
        choices=upstream_options.ENDPOINTS,
        metavar="NAME",
        help=f"{', '.join(upstream_options.ENDPOINTS)} (default: {', '.join(DEFAULT_ENDPOINTS)})",
    )
    g.add_argument(
        "--filesystem",
        action="append",
        default=[],
        choices=upstream_options.FILESYSTEMS,
        metavar="NAME",
        help=f"{', '.join(upstream_options.FILESYSTEMS)} (repeatable)",
    )
    for feature in FEATURES:
        g.add_argument(
            f"--enable-{feature}",
            dest="features",
            action="append_const",
            const=feature,
            help=argparse.SUPPRESS,
        )
    g.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="ROLE,REF",
        help="override an image build.py takes from --image: base, gpu-base, pytorch, and "
        "what the release's build.py reads besides (inference from 26.03) (repeatable)",
    )


def inputs_from_args(args: argparse.Namespace) -> Inputs:
    if not re.fullmatch(r"[0-9]{2}\.[0-9]{2}", args.release):
        raise UsageError(f"release {args.release!r}: expected YY.MM, e.g. 25.04")
    features: list[str] = list(args.features or DEFAULT_FEATURES)
    if args.target != "cpu" and not args.features:
        features += GPU_FEATURES
    images = []
    for spec in args.image:
        role, sep, ref = spec.partition(",")
        if not sep or not ROLE.match(role) or not ref:
            raise UsageError(
                f"--image {spec!r}: expected ROLE,REF with ROLE an image role of build.py "
                "(base, gpu-base, pytorch, inference …)"
            )
        images.append((role, ref))
    return checked(
        Inputs(
            release=args.release,
            target=args.target,
            backends=tuple(dict.fromkeys(args.backend)),
            repoagents=tuple(dict.fromkeys(args.repoagent)),
            caches=tuple(dict.fromkeys(args.cache)),
            endpoints=tuple(dict.fromkeys(args.endpoint or DEFAULT_ENDPOINTS)),
            filesystems=tuple(dict.fromkeys(args.filesystem)),
            features=tuple(dict.fromkeys(features)),
            images=tuple(sorted(images)),
        )
    )


OPTIONS = {
    "backends": "--backend",
    "repoagents": "--repoagent",
    "caches": "--cache",
    "endpoints": "--endpoint",
    "filesystems": "--filesystem",
    "features": "--enable-FEATURE",
    "images": "--image",
}


def checked(inputs: Inputs) -> Inputs:
    """``inputs``, or a one-line error naming the option whose value the lock's schema
    would refuse (before anything is fetched)."""
    for problem in schema.problems(Lock(inputs=inputs).to_dict()):
        where, _, what = problem.partition(": ")
        field = re.match(r"inputs\.([a-z]+)", where)
        if field:
            option = OPTIONS.get(field[1], where)
            raise UsageError(f"{option}: {what}")
    return inputs


def describe_inputs(inputs: Inputs) -> str:
    parts = [
        f"release {inputs.release}",
        f"target {inputs.target}",
        "backends " + (", ".join(inputs.backends) or "(none)"),
        "endpoints " + ", ".join(inputs.endpoints),
        "features " + ", ".join(inputs.features),
    ]
    if inputs.filesystems:
        parts.append("filesystems " + ", ".join(inputs.filesystems))
    for role, ref in inputs.images:
        parts.append(f"image {role}={ref}")
    return "resolving " + "; ".join(parts)


def report(lock: Lock, path: str, as_json: bool) -> int:
    if as_json:
        print(
            json.dumps(
                {
                    "lock": path,
                    "content-hash": lock.content_hash,
                    "complete": not lock.partial,
                    "counts": {k: len(getattr(lock, k)) for k in ("git", "wheel", "image", "url")},
                    "unresolved": [u.to_dict() for u in lock.unresolved],
                },
                indent=2,
            )
        )
    return EXIT_NEGATIVE if lock.partial else EXIT_OK


def run(args: argparse.Namespace) -> int:
    inputs = inputs_from_args(args)
    opts = resolve_options(args)
    check_output_file(args.output, "-o")
    refused = refusals(inputs)
    if refused and not opts.allow_partial:
        raise UsageError(f"{refused[0]}; drop it, or pass --allow-partial to lock the rest")
    require("git", "resolve")
    from ..resolve.pipeline import resolve
    from ._progress import Progress

    with Progress(quiet=args.quiet or args.json) as progress:
        progress.note(describe_inputs(inputs))
        for line in refused:
            progress.note(f"warning: {line} (listed as unresolved: --allow-partial)")
        lock = resolve(inputs, opts, progress, progress.note)
        sealed = lockfile.write(lock, args.output)
        state = "PARTIAL" if sealed.partial else "wrote"
        progress.note(f"{state} {args.output} {sealed.content_hash}")
    return report(sealed, args.output, args.json)


def refusals(inputs: Inputs) -> list[str]:
    """Why `tritonlock build` cannot build what ``inputs`` asks for, said before any network:
    one line per backend, naming it, the release and the target."""
    return [
        refusal(name, why, inputs.release, inputs.target)
        for name, why in unbuildable(inputs.backends, inputs.release)
    ]
