"""Ctrl-C while worker threads still start children (``verify --deep``'s git captures): a
child registered after the interruption began is ended at once, and what it made in a
temporary folder is removed with the folder. Before, such a child outlived the command and
left the scratch folder behind (``git init`` makes its leading folders)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import subprocess, threading, time
    from pathlib import Path
    from tritonlock.util import interrupt

    QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}

    Path("scratch").mkdir()
    interrupt.temporary("scratch")
    # a child that outlives SIGTERM: the handler waits its grace period for it
    argv = ["sh", "-c", "trap 'touch got-term' TERM; while :; do sleep 0.02; done"]
    slow = subprocess.Popen(argv, start_new_session=True, **QUIET)
    interrupt.child(slow, own_session=True)

    def late():  # a worker starting a child while the interruption is handled
        while not Path("got-term").exists():
            time.sleep(0.002)
        argv = ["sh", "-c", "mkdir -p scratch/late/.git && sleep 30"]
        proc = subprocess.Popen(argv, start_new_session=True, **QUIET)
        Path("late.pid").write_text(str(proc.pid))
        interrupt.child(proc, own_session=True)

    threading.Thread(target=late, daemon=True).start()
    time.sleep(0.2)  # the thread is waiting
    interrupt.interrupted()
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_child_started_during_the_interruption_is_ended_and_its_files_go(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (130, "tritonlock: interrupted; nothing was written\n")
    pid = int((tmp_path / "late.pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = _alive(pid)
    if alive:
        os.killpg(pid, 9)  # do not leave it behind, whatever the outcome
    assert not alive, "a child started during the interruption outlived the command"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["got-term", "late.pid"]
