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
    return start(argv, env=env, cwd=cwd, input=input).wait(timeout)


def start(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    input: bytes | None = None,
) -> Started:
    """Start ``argv`` as :func:`run` does, without waiting for it: the caller works on
    meanwhile, then waits for it (:meth:`Started.wait`) or ends it (:meth:`Started.cancel`).
    Raises :class:`OSError` when the program cannot be started."""
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    interrupt.child(proc, own_session=True)
    return Started(list(argv), proc, input)


class Started:
    """A child started by :func:`start`; Ctrl-C ends it until it is waited for or ended."""

    def __init__(self, argv: list[str], proc: subprocess.Popen[bytes], input: bytes | None):
        self.argv, self._proc, self._input = argv, proc, input

    def wait(self, timeout: float) -> subprocess.CompletedProcess[bytes]:
        """Its exit status and output; :class:`subprocess.TimeoutExpired` after ending its
        process group once ``timeout`` seconds have passed."""
        try:
            out, err = self._proc.communicate(self._input, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.cancel()
            raise
        finally:
            interrupt.ended(self._proc)
        return subprocess.CompletedProcess(self.argv, self._proc.returncode, out, err)

    @property
    def returncode(self) -> int | None:
        """Its exit status once ended (``-9`` when cancelled), else None."""
        return self._proc.poll()

    def cancel(self) -> None:
        """End its process group now (its result is not wanted)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.communicate()
        interrupt.ended(self._proc)


def run_attached(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> int:
    """Run ``argv`` with the user's terminal as its stdout and stderr (a builder); its exit
    status. It stays in tritonlock's process group, so a Ctrl-C at the terminal reaches it
    as well; Ctrl-C sent to tritonlock alone ends it too."""
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL)
    with interrupt.tracked_child(proc, own_session=False):
        return proc.wait()
