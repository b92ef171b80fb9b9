"""A git daemon over its --max-connections drops the connection: the command is asked
again after a pause, and a refusal that persists is reported in full."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.gitserver import free_port
from tritonlock.sources import gitclient
from tritonlock.sources.gitclient import GitFailed, ls_remote

pytestmark = pytest.mark.integration


@pytest.fixture(name="busy_daemon")
def busy_daemon_fixture(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A daemon allowing one connection, and a client holding that one (not yet a request)."""
    repo = tmp_path / "srv" / "r.git"
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", *ident, "-C", str(work), "commit", "-q", "--allow-empty", "-m", "a"])
    subprocess.run(["git", "-C", str(work), "push", "-q", str(repo), "main"], check=True)
    port = free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={tmp_path / 'srv'}",
         "--listen=127.0.0.1", f"--port={port}", "--max-connections=1", str(tmp_path / "srv")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                held = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.2)  # the daemon has forked its one child for the held connection
        yield f"git://127.0.0.1:{port}/r.git", held
        held.close()
    finally:
        daemon.terminate()
        daemon.wait(5)


def test_a_dropped_connection_is_asked_again(
    busy_daemon: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, held = busy_daemon
    pauses: list[float] = []

    def pause(seconds: float) -> None:  # the held connection ends during the first pause
        pauses.append(seconds)
        held.close()
        time.sleep(0.5)

    monkeypatch.setattr(gitclient, "_pause", pause)
    refs = ls_remote(url, ["refs/heads/main"], timeout=30)
    assert [name for name, _ in refs] == ["refs/heads/main"]
    assert len(pauses) >= 1


def test_a_refusal_that_persists_is_said_in_full(
    busy_daemon: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = busy_daemon
    pauses: list[float] = []
    monkeypatch.setattr(gitclient, "_pause", pauses.append)
    with pytest.raises(GitFailed) as info:
        ls_remote(url, ["refs/heads/main"], timeout=30)
    assert len(pauses) == len(gitclient.RETRY_DELAYS)
    assert str(info.value).startswith("the server dropped the connection 5 times")
    assert str(info.value).endswith("read error: Connection reset by peer")
