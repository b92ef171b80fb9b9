"""fetch_tree lists a commit's gitlinks and files whatever the user's git configuration
says about diffs (the listing is one ``git log --raw --root``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tritonlock.sources.gitclient import fetch_tree

HOSTILE = """[diff]
\tignoreSubmodules = all
\trenames = copies
[log]
\tshowSignature = true
\tshowRoot = false
[core]
\tabbrev = 8
"""


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.org"]
    return subprocess.run(
        ["git", *ident, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def upstream(tmp: Path) -> tuple[Path, str]:
    """A repository with a CMake file, a copy of it, a .gitmodules and a gitlink."""
    src = tmp / "src"
    git("init", "-q", str(src), cwd=tmp)
    git("config", "uploadpack.allowFilter", "true", cwd=src)
    (src / "CMakeLists.txt").write_text("project(x)\n")
    (src / "sub").mkdir()
    (src / "sub" / "CMakeLists.txt").write_text("project(x)\n")
    (src / ".gitmodules").write_text('[submodule "dep"]\n\tpath = dep\n\turl = ../dep.git\n')
    git("add", ".", cwd=src)
    git("update-index", "--add", "--cacheinfo", f"160000,{'e' * 40},dep", cwd=src)
    git("commit", "-q", "-m", "one", cwd=src)
    return src, git("rev-parse", "HEAD", cwd=src).strip()


@pytest.mark.parametrize("config", ["", HOSTILE])
def test_the_listing_ignores_diff_and_log_settings(
    tmp_path: Path, config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, commit = upstream(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(config)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    tree = fetch_tree(f"file://{src}", commit, commit, scratch=tmp_path / "scratch", timeout=60)
    assert tree.commit == commit
    assert tree.gitlinks == (("dep", "e" * 40),)
    assert [p for p, _ in tree.cmake_files] == ["CMakeLists.txt", "sub/CMakeLists.txt"]
    assert ("dep", "url", "../dep.git") in tree.gitmodules
