"""Runs the builder on an emitted folder: the only place tritonlock starts a builder.

:func:`detect` picks buildx or buildah; :func:`execute` runs the steps of
:func:`tritonlock.emit.buildplan.commands` in order.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..emit.buildplan import OFFLINE, Builder, Step
from ..errors import NegativeResult, UsageError
from ..util import procs


class BuildFailed(NegativeResult):
    """The builder failed (exit 1); its own output says why."""


def detect(run: Callable[[list[str]], int] | None = None) -> Builder:
    """buildx when ``docker buildx version`` works, else buildah (daemonless)."""
    probe = run or _probe
    return "buildx" if probe(["docker", "buildx", "version"]) == 0 else "buildah"


def _probe(argv: list[str]) -> int:
    try:
        return procs.run(argv, timeout=30).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 127


def execute(steps: Sequence[Step], cwd: Path) -> None:
    """Run each builder invocation in ``cwd`` (the emitted folder), in order; stop at the first
    failure. The builder's output goes to the user's terminal."""
    for env, argv in steps:
        print("+ " + shlex.join(argv), file=sys.stderr, flush=True)
        try:
            code = procs.run_attached(argv, cwd=cwd, env={**os.environ, **env})
        except OSError as err:
            raise UsageError(f"cannot run {argv[0]}: {err.strerror}; is it installed?") from None
        if code != 0:
            raise BuildFailed(f"{_shown(argv)} … exited with status {code}")


def _shown(argv: Sequence[str]) -> str:
    """The builder invocation in a message: its first words, after the offline wrapper."""
    n = len(OFFLINE)
    if tuple(argv[:n]) == OFFLINE:
        return shlex.join(argv[n : n + 2]) + " (offline compile)"
    return shlex.join(argv[:3])
