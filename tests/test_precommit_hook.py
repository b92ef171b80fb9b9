"""The `tritonlock-verify` hook of .pre-commit-hooks.yaml, run by the real `pre-commit` at
`git commit` in a temporary repository: a good lock commits, a tampered one is rejected.

pre-commit installs the hook from a git repository of this worktree as it is now, into a
virtualenv of its own, with `pip install .` — offline here: no index, no dependencies, no
build isolation; tritonlock's dependencies (and setuptools for the build) come from the
test environment through PYTHONPATH, tritonlock itself from the hook's own install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tritonlock import lockfile

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "tests" / "data" / "valid" / "complete.lock"


def git(repo: Path, *words: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *words], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def new_repo(path: Path) -> Path:
    git(path.parent, "init", "-q", "-b", "main", str(path))
    git(path, "config", "user.name", "T")
    git(path, "config", "user.email", "t@example.invalid")
    return path


def hook_repo(path: Path) -> tuple[Path, str]:
    """This worktree's files (committed or not, nothing git ignores) as a repository of one
    commit, as pre-commit clones it: its path and the commit."""
    files = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    new_repo(path)
    for name in filter(None, files.split("\0")):
        source = ROOT / name
        if source.is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, path / name)
    git(path, "add", "-A")
    git(path, "commit", "-qm", "tritonlock")
    return path, git(path, "rev-parse", "HEAD")


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), "commit", "-qam", message],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A repository with `pre-commit install`ed and the hook configured, the valid lock
    committed through it (the hook ran and passed); and the environment to commit with."""
    tmp = tmp_path_factory.mktemp("pre-commit")
    source, rev = hook_repo(tmp / "hooks")
    repo = new_repo(tmp / "repo")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n      - id: tritonlock-verify\n"
    )
    shutil.copy(VALID, repo / "triton.lock")
    env = dict(
        os.environ,
        PRE_COMMIT_HOME=str(tmp / "cache"),
        PIP_NO_INDEX="1",
        PIP_NO_DEPS="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip's spelling of --no-build-isolation
        PIP_CONFIG_FILE=os.devnull,
        VIRTUALENV_NO_PERIODIC_UPDATE="1",  # virtualenv's seed wheels as shipped, offline
        PIP_FIND_LINKS="",
        PYTHONPATH=sysconfig.get_paths()["purelib"],
    )
    installed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    git(repo, "add", "-A")
    first = commit(repo, env, "a lock that verifies")
    assert first.returncode == 0, first.stdout + first.stderr
    return repo, env


def test_a_lock_that_verifies_is_committed(hooked: tuple[Path, dict[str, str]]) -> None:
    repo, _ = hooked
    assert git(repo, "log", "--format=%s") == "a lock that verifies"
    assert git(repo, "ls-files") == ".pre-commit-config.yaml\ntriton.lock"


def test_a_tampered_lock_is_rejected_at_commit(hooked: tuple[Path, dict[str, str]]) -> None:
    repo, env = hooked
    lock = repo / "triton.lock"
    lock.write_text(VALID.read_text().replace('version = "1.26.4"', 'version = "1.26.3"'))
    assert lock.read_text() != VALID.read_text()
    done = commit(repo, env, "numpy by hand")
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "tritonlock verify" in out and "Failed" in out
    assert "triton.lock: content-hash: does not match the content" in out
    assert git(repo, "log", "--format=%s") == "a lock that verifies"  # nothing committed
    git(repo, "checkout", "--", "triton.lock")


def test_a_lock_written_by_tritonlock_after_a_change_is_committed(
    hooked: tuple[Path, dict[str, str]],
) -> None:
    from dataclasses import replace

    repo, env = hooked
    lock = lockfile.load(repo / "triton.lock")
    lockfile.write(replace(lock, url=()), repo / "triton.lock")  # changed, sealed again
    done = commit(repo, env, "no downloads")
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "log", "-1", "--format=%s") == "no downloads"
