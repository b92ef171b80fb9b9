"""The ``tritonlock`` command's entry point: Ctrl-C is handled from the first moment to
the last.

The first statements install a SIGINT handler that needs nothing imported, so an
interruption while the rest loads exits 130 without a traceback; :mod:`tritonlock.cli`
then takes over with :func:`tritonlock.util.interrupt.handler`, and gives this one back when
the command is done. From then on it names what the command wrote (it asks
:mod:`tritonlock.util.interrupt`, once loaded), and :func:`run` ends the process at once
instead of going through the interpreter's finalization, which restores the default
SIGINT action (a Ctrl-C there killed the process silently after its output was replaced).
Kept apart from the CLI so that importing it as a library (tests do) leaves the caller's
SIGINT handling alone.
"""

import _signal  # the builtin: `signal` would import enum first
import os
import sys


def _starting(signum: int, frame: object) -> None:
    interrupted = getattr(sys.modules.get("tritonlock.util.interrupt"), "interrupted", None)
    if interrupted is not None:  # the command has run (or started): say what it wrote
        interrupted()
    os.write(2, b"tritonlock: interrupted; nothing was written\n")
    os._exit(130)


_signal.signal(2, _starting)  # SIGINT

import contextlib  # noqa: E402

from .cli import main  # noqa: E402


def run() -> None:
    """Run the command and exit with its code, without the interpreter's finalization."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: the output is gone
            stream.flush()
    os._exit(code)


__all__ = ["main", "run"]
