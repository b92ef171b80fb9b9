"""The builder command for an emitted folder (pure: argv and environment, nothing is run).

``build.sh`` holds exactly these commands; ``tritonlock build --run`` runs them
(:func:`execute`, the only I/O here besides :func:`detect`).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import NegativeResult, UsageError

if TYPE_CHECKING:
    from .emit.secrets import SecretSpec

Builder = Literal["buildx", "buildah"]
BUILDERS: tuple[Builder, ...] = ("buildx", "buildah")
POLICY_FILE = "source-policy.json"
SOURCES_TARGET = "tritonlock-sources"
COMPILE_TARGET = "tritonlock-compile"
OFFLINE = ("unshare", "--net", "--")


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What a build of one emitted folder needs: all values come from the lock or the user."""

    platform: str
    source_date_epoch: int
    tag: str
    secrets: tuple[SecretSpec, ...] = ()
    dockerfile: str = "Dockerfile"
    context: str = "."


Step = tuple[dict[str, str], list[str]]


class BuildFailed(NegativeResult):
    """The builder failed (exit 1); its own output says why."""


def commands(builder: Builder, plan: Plan) -> list[Step]:
    """The builder invocations, in order, as ``(environment, argv)``.

    buildx runs once (the Dockerfile carries ``RUN --network=none``). buildah 1.28 has no
    per-RUN network flag, so it builds the sources stage, then the compile stage offline
    (reusing the cached sources layers), then the image (reusing the cached compile layers).
    The compile build runs in a new, empty network namespace (``unshare --net``) as well as
    with ``--network=none``: buildah's chroot isolation ignores ``--network``.
    """
    common = [
        "--file",
        plan.dockerfile,
        "--platform",
        plan.platform,
        "--build-arg",
        f"SOURCE_DATE_EPOCH={plan.source_date_epoch}",
        *_secrets(plan.secrets),
    ]
    if builder == "buildx":
        env = {"EXPERIMENTAL_BUILDKIT_SOURCE_POLICY": POLICY_FILE}
        argv = ["docker", "buildx", "build", *common, "--tag", plan.tag, "--load", plan.context]
        return [(env, argv)]
    if builder == "buildah":
        bud = ["buildah", "bud", *common, "--layers", "--timestamp", str(plan.source_date_epoch)]
        return [
            ({}, [*bud, "--target", SOURCES_TARGET, plan.context]),
            ({}, [*OFFLINE, *bud, "--network=none", "--target", COMPILE_TARGET, plan.context]),
            ({}, [*bud, "--tag", plan.tag, plan.context]),
        ]
    raise ValueError(f"unknown builder {builder!r}")


def _secrets(secrets: Sequence[SecretSpec]) -> list[str]:
    out = []
    for s in sorted(secrets, key=lambda s: s.id):
        out += ["--secret", s.flag()]
    return out


def detect(run: Callable[[list[str]], int] | None = None) -> Builder:
    """buildx when ``docker buildx version`` works, else buildah (daemonless)."""
    probe = run or _probe
    return "buildx" if probe(["docker", "buildx", "version"]) == 0 else "buildah"


def _probe(argv: list[str]) -> int:
    try:
        return subprocess.run(
            argv, capture_output=True, timeout=30, check=False, stdin=subprocess.DEVNULL
        ).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 127


def execute(steps: Sequence[Step], cwd: Path) -> None:
    """Run each builder invocation in ``cwd`` (the emitted folder), in order; stop at the first
    failure. The builder's output goes to the user's terminal."""
    for env, argv in steps:
        print("+ " + shlex.join(argv), file=sys.stderr, flush=True)
        try:
            code = subprocess.run(
                argv, cwd=cwd, env={**os.environ, **env}, check=False, stdin=subprocess.DEVNULL
            ).returncode
        except OSError as err:
            raise UsageError(f"cannot run {argv[0]}: {err.strerror}; is it installed?") from None
        if code != 0:
            raise BuildFailed(f"{shlex.join(argv[:3])} … exited with status {code}")
