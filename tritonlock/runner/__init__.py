"""Runs the builder on an emitted folder: the only place tritonlock starts a builder.

:func:`detect` picks buildx or buildah; :func:`execute` runs the steps of
:func:`tritonlock.emit.buildplan.commands` in order; :func:`record_image` then fills the
built image's ID into the folder's provenance statement.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..emit.buildplan import OFFLINE, Builder, Step
from ..errors import NegativeResult, UsageError
from ..export import provenance
from ..util import procs
from ..util.atomic import atomic_write_bytes


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


def image_id(builder: Builder, tag: str, run: Callable[[list[str]], str] | None = None) -> str:
    """The ID (``sha256:…``) the builder gives the image it just tagged ``tag``: for buildah
    and Docker's classic image store, the sha256 of the image config."""
    argv = (
        ["docker", "image", "inspect", "--format", "{{.Id}}", tag]
        if builder == "buildx"
        else ["buildah", "images", "--no-trunc", "--format", "{{.ID}}", tag]
    )
    out = (run or _output)(argv).strip()
    found = re.fullmatch(r"(?:sha256:)?([0-9a-f]{64})", out)
    if found is None:
        raise BuildFailed(f"{shlex.join(argv)} answered {out[:80]!r}, not an image ID")
    return f"sha256:{found.group(1)}"


def _output(argv: list[str]) -> str:
    try:
        done = procs.run(argv, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise BuildFailed(f"{shlex.join(argv)}: {err}") from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise BuildFailed(f"{shlex.join(argv)}: {why[0]}")
    return done.stdout.decode(errors="replace")


def record_image(
    folder: Path, builder: Builder, tag: str, run: Callable[[list[str]], str] | None = None
) -> str:
    """After a build: the image ID of ``tag`` filled into the folder's provenance statement
    as its subject's digest (:func:`tritonlock.export.provenance.with_subject_digest`)."""
    digest = image_id(builder, tag, run)
    path = folder / provenance.FILE
    atomic_write_bytes(path, provenance.with_subject_digest(path.read_bytes(), digest))
    return digest
