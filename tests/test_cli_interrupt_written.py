"""Ctrl-C just after a command replaced its output says so (issue 14).

It used to print "nothing was written" when it came after the command's own handler was
given back, and to kill the process silently (death by SIGINT, no word) when it came while
the interpreter was finalizing, with the output already replaced.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.test_cli_interrupt import PYTHON_STARTUP, SCRIPT

VALID = Path(__file__).parent / "data" / "valid" / "complete.lock"
OLD = "the previous file\n"
WROTE = "tritonlock: interrupted after writing out.txt\n"


def test_ctrl_c_as_the_process_ends_names_the_output(tmp_path: Path) -> None:
    """The SIGINT comes while the entry point flushes stdout, after the command returned."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from tritonlock import _entry

        class Out:
            def __init__(self, inner): self.inner, self.sent = inner, False
            def __getattr__(self, name): return getattr(self.inner, name)
            def write(self, text): return self.inner.write(text)
            def flush(self):
                if not self.sent:  # once: the handler flushes too
                    self.sent = True
                    os.kill(os.getpid(), signal.SIGINT)
                self.inner.flush()

        sys.argv = ["tritonlock", "export", "requirements", {str(VALID)!r}, "-o", "out.txt"]
        sys.stdout = Out(sys.stdout)
        _entry.run()
        """
    )
    (tmp_path / "out.txt").write_text(OLD)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (130, WROTE)
    assert (tmp_path / "out.txt").read_text() != OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def _export_interrupted_after(delay: float, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [SCRIPT, "export", "requirements", str(VALID), "-o", "out.txt"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_ctrl_c_around_the_rename_always_tells_the_truth(tmp_path: Path) -> None:
    """60 SIGINTs spread over the command's whole run (seeded): whenever the output was
    replaced, the command either finished (exit 0) or says it wrote it; otherwise it says
    nothing was written; no temporary file stays."""
    start = time.monotonic()
    export = [SCRIPT, "export", "requirements", str(VALID), "-o", "out.txt"]
    subprocess.run(export, cwd=tmp_path, check=True)
    took = time.monotonic() - start
    rng = random.Random(14)
    replaced = 0
    for _ in range(60):
        (tmp_path / "out.txt").write_text(OLD)
        done = _export_interrupted_after(rng.uniform(0.3, 1.4) * took, tmp_path)
        changed = (tmp_path / "out.txt").read_text() != OLD
        assert sorted(os.listdir(tmp_path)) == ["out.txt"], done.stderr
        if PYTHON_STARTUP.search(done.stderr) or done.returncode == -signal.SIGINT:
            assert not changed, done.stderr  # the interpreter's own start-up
            continue
        if changed:
            replaced += 1
            assert (done.returncode, done.stderr) in ((0, ""), (130, WROTE)), done.stderr
        else:
            assert done.returncode == 130, done.stderr
            assert done.stderr == "tritonlock: interrupted; nothing was written\n"
    assert replaced, "no trial reached the end of the command"
