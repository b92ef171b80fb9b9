"""The ``tritonlock`` command's entry point: Ctrl-C is handled from the first moment.

Kept apart from :mod:`tritonlock.cli` so that importing the CLI as a library (tests do)
leaves the caller's SIGINT handling alone.
"""

import signal

from . import interrupt

signal.signal(signal.SIGINT, interrupt.handler)

from .cli import main  # noqa: E402

__all__ = ["main"]
