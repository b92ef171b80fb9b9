"""Ctrl-C ends a command at once: exit 130, every file as it was, no temporary file and no
child process left behind.

The command line installs :func:`handler` for SIGINT before it imports anything else.
Python runs it in the main thread at the next bytecode, even while that thread waits on a
worker stuck on a hung server (lock waits, ``select`` and ``waitpid`` are interrupted), so
the process never joins such a worker. What must be undone is registered here as it is
made: temporary files and folders (removed), child processes (ended), and files already
replaced (named in the message, so it never says "nothing was written" after a write).

Registration is a dict operation, atomic under the GIL, so worker threads may register
while the handler runs.
"""

from __future__ import annotations

import _signal  # the builtin; `signal` and `typing` would cost start-up time (--help)
import contextlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType
    from typing import NoReturn, Protocol

EXIT_INTERRUPTED = 130
_SIGINT = 2
_GRACE = 0.4  # seconds children get to end after SIGTERM, before SIGKILL


if TYPE_CHECKING:

    class _Child(Protocol):
        pid: int

        def poll(self) -> int | None: ...


# temporary file or folder → the output it is renamed to, if any
_temporary: dict[str, str | None] = {}
# child → in a session of its own (end its whole group)
_children: dict[_Child, bool] = {}
_written: dict[str, None] = {}


def temporary(
    path: str | os.PathLike[str], *, replaces: str | os.PathLike[str] | None = None
) -> None:
    """``path`` (a file or folder) is removed if the command is interrupted. With
    ``replaces``, it is renamed to that output when done: if it is gone when an
    interruption comes, the output was written, and the message says so."""
    _temporary[os.fspath(path)] = os.fspath(replaces) if replaces is not None else None


def settled(path: str | os.PathLike[str]) -> None:
    """``path`` is no longer temporary (renamed into place, or removed)."""
    _temporary.pop(os.fspath(path), None)


def remove(path: str | os.PathLike[str]) -> None:
    """Remove the temporary folder ``path`` now, and forget it."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    settled(path)


def written(path: str | os.PathLike[str]) -> None:
    """``path`` was replaced by this command: an interruption must say so."""
    _written[os.fspath(path)] = None


def child(proc: _Child, *, own_session: bool) -> None:
    """``proc`` is ended if the command is interrupted (at once, when a worker thread
    starts it while the interruption is being handled)."""
    _children[proc] = own_session
    _closing["started"] += 1
    if _closing["on"]:
        import signal

        _send(proc, own_session, signal.SIGKILL)


def ended(proc: _Child) -> None:
    _children.pop(proc, None)


@contextlib.contextmanager
def tracked_child(proc: _Child, *, own_session: bool) -> Iterator[None]:
    child(proc, own_session=own_session)
    try:
        yield
    finally:
        ended(proc)


_deferred = {"depth": 0, "pending": 0}
# "on" once an interruption is being handled; "started" counts children ever registered
_closing = {"on": 0, "started": 0}


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A Ctrl-C during the block takes effect when it ends (steps that must not be split,
    such as the two renames that swap a build folder). Only the main thread defers: the
    handler runs there, and must not wait for a worker (which may hang on a server) nor
    leave the cleanup to one."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferred["depth"] += 1
    try:
        yield
    finally:
        _deferred["depth"] -= 1
    if _deferred["pending"] and not _deferred["depth"]:
        interrupted()


def handler(signum: int, frame: FrameType | None) -> None:
    if _deferred["depth"]:
        _deferred["pending"] = 1
        return
    interrupted()


def interrupted() -> NoReturn:
    """End children, remove temporaries, say what happened, and exit 130 now."""
    _closing["on"] = 1
    folders: list[str] = []
    for _ in range(3):  # again while worker threads started children meanwhile
        seen = _closing["started"]
        _end_children()
        _remove_temporaries(folders)
        if _closing["started"] == seen:
            break
    done = list(_written)
    if done:
        message = f"tritonlock: interrupted after writing {', '.join(done)}\n"
    else:
        message = "tritonlock: interrupted; nothing was written\n"
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError):
        os.write(2, message.encode("utf-8", "replace"))
    os._exit(EXIT_INTERRUPTED)


def _remove_temporaries(folders: list[str]) -> None:
    """Remove every registered temporary (each folder again, as a late child such as
    ``git init`` may have made it anew), noting outputs already renamed into place."""
    import shutil
    import time

    for path, output in list(_temporary.items()):
        _temporary.pop(path, None)
        if output is not None and not os.path.lexists(path):
            written(output)  # renamed into place just before the interruption
        elif os.path.isdir(path) and not os.path.islink(path):
            folders.append(path)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
    for path in folders:
        for _ in range(5):  # worker threads may still be writing into it
            shutil.rmtree(path, ignore_errors=True)
            if not os.path.lexists(path):
                break
            time.sleep(0.01)


def _end_children() -> None:
    import signal
    import time

    procs = list(_children.items())
    for proc, own_session in procs:
        _send(proc, own_session, signal.SIGTERM)
    deadline = time.monotonic() + _GRACE
    while time.monotonic() < deadline and any(p.poll() is None for p, _ in procs):
        time.sleep(0.02)
    for proc, own_session in procs:
        _send(proc, own_session, signal.SIGKILL)


def _send(proc: _Child, own_session: bool, sig: int) -> None:
    with contextlib.suppress(OSError):
        if own_session:
            os.killpg(proc.pid, sig)
        elif proc.poll() is None:
            os.kill(proc.pid, sig)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """:func:`handler` for SIGINT while the block runs (main thread only), then the old one."""
    try:
        before = _signal.signal(_SIGINT, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        _signal.signal(_SIGINT, before)
