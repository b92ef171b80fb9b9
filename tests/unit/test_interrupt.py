"""What Ctrl-C says and leaves, from :mod:`tritonlock.util.interrupt` (in a child interpreter,
since the handler ends the process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

WROTE_OUT = "tritonlock: interrupted after writing out.txt\n"
NOTHING = "tritonlock: interrupted; nothing was written\n"


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = "from pathlib import Path\nfrom tritonlock.util import interrupt, atomic\n"
    script += textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_an_output_already_in_place_is_named(tmp_path: Path) -> None:
    done = _run(
        """
        atomic.atomic_write_text(Path("out.txt"), "new", output=True)
        atomic.atomic_write_text(Path("cache.json"), "{}")  # not an output: not named
        interrupt.interrupted()
        """,
        tmp_path,
    )
    assert done.returncode == 130
    assert done.stderr == WROTE_OUT


def test_a_rename_just_done_counts_as_written_and_temporaries_go(tmp_path: Path) -> None:
    done = _run(
        """
        import os
        Path("tmp.part").write_text("x")
        interrupt.temporary("tmp.part", replaces="out.txt")
        os.replace("tmp.part", "out.txt")  # interrupted before it could say so
        Path("scratch").mkdir(); Path("scratch/f").write_text("y")
        interrupt.temporary("scratch")
        interrupt.interrupted()
        """,
        tmp_path,
    )
    assert (done.returncode, done.stderr) == (
        130,
        "tritonlock: interrupted after writing out.txt\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_nothing_written_says_so_and_removes_the_temporary(tmp_path: Path) -> None:
    done = _run(
        """
        Path("tmp.part").write_text("x")
        interrupt.temporary("tmp.part", replaces="out.txt")
        interrupt.interrupted()
        """,
        tmp_path,
    )
    assert (done.returncode, done.stderr) == (130, NOTHING)
    assert list(tmp_path.iterdir()) == []


def test_a_deferred_step_finishes_before_the_interruption(tmp_path: Path) -> None:
    done = _run(
        """
        import os, signal
        with interrupt.installed():
            with interrupt.deferred():
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):
                    pass  # the handler runs here, and must wait for the block's end
                Path("done").write_text("1")
                interrupt.written("done")
            Path("after").write_text("never")
        """,
        tmp_path,
    )
    assert (done.returncode, done.stderr) == (130, "tritonlock: interrupted after writing done\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["done"]
