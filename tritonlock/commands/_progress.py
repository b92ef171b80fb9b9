"""Progress of long work: a live line on a terminal, plain lines otherwise, nothing if quiet."""

from __future__ import annotations

import sys
import threading
from types import TracebackType

from rich.console import Console
from rich.status import Status

from ..util.redact import redact


class Progress:
    """Callable with one message per step; thread-safe (resolvers report from pools)."""

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.quiet = quiet
        self.done = 0
        self.failed: list[str] = []
        self._lock = threading.Lock()
        self._status: Status | None = None

    def __enter__(self) -> Progress:
        if not self.quiet and self.console.is_terminal:
            self._status = self.console.status("starting")
            self._status.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._status is not None:
            self._status.stop()

    def __call__(self, message: str) -> None:
        message = redact(message)
        with self._lock:
            self.done += 1
            if self.quiet:
                return
            if self._status is not None:
                self._status.update(f"[{self.done}] {message}")
            else:
                print(f"tritonlock: {message}", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        """A line that stays visible (defaults used, notes such as a rebuilt tag)."""
        if not self.quiet:
            # soft_wrap: a log line is not cut
            self.console.print(redact(message), markup=False, soft_wrap=True)
