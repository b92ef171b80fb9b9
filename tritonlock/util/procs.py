"""Child processes (git, uv, build.py, credential helpers, builders): one way to run them.

Each child is registered with :mod:`tritonlock.util.interrupt` while it runs, so Ctrl-C ends it
too, and a timeout ends the child's whole process group (git's remote helpers included).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import interrupt


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` in a session of its own, capture stdout and stderr (bytes).

    Raises :class:`subprocess.TimeoutExpired` after ending the child's process group, and
    :class:`OSError` (e.g. FileNotFoundError) when the program cannot be started.
    """
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    with interrupt.tracked_child(proc, own_session=True):
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def run_attached(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> int:
    """Run ``argv`` with the user's terminal as its stdout and stderr (a builder); its exit
    status. It stays in tritonlock's process group, so a Ctrl-C at the terminal reaches it
    as well; Ctrl-C sent to tritonlock alone ends it too."""
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL)
    with interrupt.tracked_child(proc, own_session=False):
        return proc.wait()
