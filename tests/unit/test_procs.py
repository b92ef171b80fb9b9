"""util.procs: a child started without waiting is waited for, timed out or cancelled, and
is registered for Ctrl-C only while it runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tritonlock.util import interrupt, procs


def _registered() -> bool:
    """Whether a child is registered to be ended on Ctrl-C."""
    return bool(interrupt._children)


def test_a_started_child_is_waited_for_with_its_output() -> None:
    started = procs.start(
        [sys.executable, "-c", "import sys; print(sys.stdin.read())"], input=b"hi"
    )
    done = started.wait(60)
    assert (done.returncode, done.stdout) == (0, b"hi\n")
    assert not _registered()


def test_a_cancelled_child_is_killed_with_its_group_and_forgotten() -> None:
    started = procs.start(["sh", "-c", "sleep 60 & wait"])
    assert _registered()
    started.cancel()
    assert started.returncode == -9
    assert not _registered()


def test_a_child_past_its_timeout_is_killed() -> None:
    started = procs.start(["sleep", "60"])
    with pytest.raises(subprocess.TimeoutExpired):
        started.wait(0.1)
    assert started.returncode == -9
    assert not _registered()
