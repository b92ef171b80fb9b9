"""Ctrl-C, as a user sends it: SIGINT to a real `tritonlock` process.

Every command exits 130 within a second, at any point: during start-up, and while git and
HTTP requests to a server that accepts connections and never answers are in flight. The
previous lock is left as it was, no temporary file stays behind, and no child process
(git) outlives the command.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

VALID = Path(__file__).parent / "data" / "valid" / "complete.lock"
# The command installed beside this interpreter (a venv's bin/, not a shim that runs it).
_BESIDE = Path(sys.executable).parent / "tritonlock"
SCRIPT = str(_BESIDE) if _BESIDE.is_file() else shutil.which("tritonlock") or "tritonlock"
# Python's own start-up, before the command's first statement runs, may still turn SIGINT
# into a traceback: while it imports site, at "line 0" of the script, or (a bare
# "KeyboardInterrupt", exit 1) while it sets up the script's loader, before any frame. All
# are the interpreter's, and say nothing of tritonlock.
PYTHON_STARTUP = re.compile(
    r"Fatal Python error: init_[a-z_]+: |"
    r'\ATraceback \(most recent call last\):\n  File "[^"]+", line 0, in <module>\n'
    r"KeyboardInterrupt\n*\Z|\AKeyboardInterrupt\n\Z"
)


@pytest.fixture(scope="module")
def hung() -> Iterator[str]:
    """127.0.0.1:PORT that accepts every connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (git runs in sessions of its own, still our children)."""
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        parent = frontier.pop()
        kids: list[str] = []
        for task in Path(f"/proc/{parent}/task").glob("*"):  # children of every thread
            try:
                kids += (task / "children").read_text().split()
            except OSError:
                continue
        for kid in map(int, kids):
            if kid not in out:
                out.add(kid)
                frontier.add(kid)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _interrupt_when_git_runs(proc: subprocess.Popen[str]) -> tuple[float, str, set[int]]:
    """Wait until the command has a child (git against the hung server), then a moment for
    its HTTP requests to be in flight too, and send SIGINT; (seconds to exit, stderr, the
    children that were running)."""
    deadline = time.monotonic() + 30
    while not _children(proc.pid) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    kids = _children(proc.pid)
    assert kids, "git should be running against the hung server"
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return time.monotonic() - start, err, kids


def _start(args: list[str], cwd: Path, scratch: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SCRIPT, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )


@pytest.mark.integration
def test_ctrl_c_while_every_request_hangs_ends_in_a_second(hung: str, tmp_path: Path) -> None:
    """verify --deep: git (a child process) and HTTP (index, registry, download) all hang."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    args = [
        "verify",
        str(VALID),
        "--deep",
        "--quiet",
        "--git-mirror",
        f"http://127.0.0.1:9418/=http://{hung}/",
        "--index-url",
        f"local=http://{hung}/simple/",
        "--registry-mirror",
        f"127.0.0.1:5000={hung}",
        "--insecure-registry",
        hung,
        "--url-mirror",
        f"http://127.0.0.1:8081/=http://{hung}/",
        "--allow-http",
    ]
    proc = _start(args, tmp_path, scratch)
    took, err, kids = _interrupt_when_git_runs(proc)
    assert proc.returncode == 130, err
    assert took < 1.0, f"exited {took:.2f} s after SIGINT"
    assert "Traceback" not in err and "interrupted; nothing was written" in err
    time.sleep(0.2)
    assert not [k for k in kids if _alive(k)], "a child process outlived the command"
    assert not list(scratch.iterdir()), "a temporary file was left behind"


@pytest.mark.integration
def test_ctrl_c_while_resolve_hangs_on_git_keeps_the_lock(hung: str, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "triton.lock"
    shutil.copy(VALID, out)
    before = out.read_bytes()
    args = [
        "resolve",
        "25.04",
        "--target",
        "x86_64",
        "--backend",
        "python",
        "--github-organization",
        f"git://{hung}/triton-inference-server",
        "--quiet",
        "-o",
        str(out),
    ]
    proc = _start(args, tmp_path, scratch)
    took, err, kids = _interrupt_when_git_runs(proc)
    assert proc.returncode == 130, err
    assert took < 1.0, f"exited {took:.2f} s after SIGINT"
    assert "Traceback" not in err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp", "triton.lock"]
    time.sleep(0.2)
    assert not [k for k in kids if _alive(k)]
    assert not list(scratch.iterdir())


def _interrupt_after(delay: float, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [SCRIPT, "verify", str(VALID)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _bare_start() -> float:
    """How long this machine's interpreter takes to start and stop (site included)."""
    times = []
    for _ in range(3):
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.monotonic() - start)
    return sorted(times)[1]


def test_ctrl_c_in_the_first_100_ms_never_prints_a_tritonlock_traceback(tmp_path: Path) -> None:
    """40 tries, SIGINT 0–100 ms after the process starts: exit 130 (or death by SIGINT
    before Python runs any code), and never a traceback from tritonlock's code."""
    for i in range(40):
        done = _interrupt_after(i * 0.0025, tmp_path)
        if done.returncode == 0:
            continue  # finished before the signal came
        python_own = PYTHON_STARTUP.search(done.stderr) is not None
        assert done.returncode in (130, -signal.SIGINT) or python_own, done.stderr
        assert "Traceback" not in done.stderr or python_own, done.stderr


def test_ctrl_c_once_python_has_started_is_always_tritonlocks(tmp_path: Path) -> None:
    """40 tries in the 100 ms after the interpreter's own start-up: all exit 130 quietly."""
    bare = _bare_start()
    answered = 0
    for i in range(40):
        done = _interrupt_after(bare + i * 0.0025, tmp_path)
        if done.returncode == 0:
            continue
        if PYTHON_STARTUP.search(done.stderr):
            continue  # this run's start-up was slower than the measured one
        # -SIGINT: before Python installs any handler
        assert done.returncode in (130, -signal.SIGINT), done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        answered += done.returncode == 130
    assert answered >= 20, f"only {answered} of 40 interrupts reached tritonlock's handler"


def test_the_command_is_a_script_that_handles_sigint_first() -> None:
    """The installed command sets its SIGINT handler before any import but the builtin's."""
    text = Path(SCRIPT).read_text()
    body = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    handler_at = next(i for i, ln in enumerate(body) if "_signal.signal(" in ln)
    imports_before = [ln for ln in body[:handler_at] if ln.startswith(("import", "from"))]
    assert [ln.split("#")[0].strip() for ln in imports_before] == ["import os", "import _signal"]
