"""The ``tritonlock`` command's entry point: Ctrl-C is handled from the first moment.

The first statements install a SIGINT handler that needs nothing imported, so an
interruption while the rest loads exits 130 without a traceback; :mod:`tritonlock.cli`
then takes over with :func:`tritonlock.util.interrupt.handler`. Kept apart from the CLI so that
importing it as a library (tests do) leaves the caller's SIGINT handling alone.
"""

import _signal  # the builtin: `signal` would import enum first
import os


def _starting(signum: int, frame: object) -> None:
    os.write(2, b"tritonlock: interrupted; nothing was written\n")
    os._exit(130)


_signal.signal(2, _starting)  # SIGINT

from .cli import main  # noqa: E402

__all__ = ["main"]
