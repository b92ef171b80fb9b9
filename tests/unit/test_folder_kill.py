"""A build folder replaced under SIGKILL: at every moment `out` is the old folder or the new
one, and the next run cleans what the killed one left (issue 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tritonlock.emit import folder

# A child that writes a folder of many files (slow enough to be killed at any stage) in a
# loop, alternating two contents, so a kill lands before, inside and after the swap.
CHILD = """
import sys
from pathlib import Path
from tritonlock.emit import folder
out = Path(sys.argv[1])
for n in range(10_000):
    tag = b"new" if n % 2 else b"old"
    folder.write(out, {f"f{i:03}": tag for i in range(200)})
"""


def _state(out: Path) -> str:
    """'old' or 'new' when `out` is one whole folder of one content; else what is wrong."""
    if not out.is_dir():
        return "missing"
    names = sorted(p.name for p in out.iterdir())
    if names != sorted([folder.MARKER, *(f"f{i:03}" for i in range(200))]):
        return f"{len(names)} files"
    tags = {(out / f"f{i:03}").read_bytes() for i in range(200)}
    return tags.pop().decode() if len(tags) == 1 else "mixed"


def test_sigkill_at_any_moment_leaves_a_whole_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    folder.write(out, {f"f{i:03}": b"old" for i in range(200)})
    for trial in range(24):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(out)])
        time.sleep(0.05 + 0.013 * trial)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        folder.recover(out)  # what the next run does first
        state = _state(out)
        assert state in ("old", "new"), f"trial {trial}: {state}"
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
        assert leftovers == [], f"trial {trial}: {leftovers}"


def test_a_kill_between_two_renames_is_undone_by_the_next_run(tmp_path: Path) -> None:
    # where RENAME_EXCHANGE is missing, the old folder is renamed aside first: simulate a
    # kill right after that rename
    out = tmp_path / "out"
    folder.write(out, {"a": b"old"})
    aside = tmp_path / ".out.x1y2.old"
    os.rename(out, aside)
    (tmp_path / ".out.z9.tmp").mkdir()
    folder.recover(out)
    assert (out / "a").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_without_exchange_the_two_renames_still_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    folder.write(out, {"a": b"old"})
    folder.write(out, {"a": b"new"})
    assert (out / "a").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_exchange_is_used_where_the_system_has_it(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    assert folder._exchange(a, b)  # Linux tmp filesystems (tmpfs, ext4, overlayfs) have it
    assert (b / "x").read_text() == "a" and not (a / "x").exists()
