"""No lock can redirect a pinned repository (issue 14's integrity hole).

A second `[[git]]` entry spelled `https://evil.example/../github.com/…/core` used to pass
verify and land in core's local mirror folder in the build, pointing its branch at another
commit. Dot segments are refused now; spellings of one repository share one mirror, whose
every ref is pinned to one commit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tritonlock import lockfile
from tritonlock.diff import diff_locks, render_text
from tritonlock.emit.sources import mirror_key
from tritonlock.lockfile import schema
from tritonlock.model import Commit, repo_key
from tritonlock.resolve.repos import one_commit_per_ref

VALID = Path(__file__).parent.parent / "data" / "valid" / "complete.lock"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/../github.com/triton-inference-server/core",
        "https://evil.example/./core",
        "https://evil.example/%2e%2e/core",
        "https://evil.example/a/%2E%2E",
        "https://../core",
        "https://h//core",
    ],
)
def test_dot_and_empty_segments_are_refused_by_the_schema(url: str) -> None:
    data = lockfile.load(VALID).to_dict()
    data["git"][0]["url"] = url
    data["git"][1]["submodules"][0]["url"] = url
    found = schema.problems(data)
    assert any(p.startswith("git[0].url: not an allowed URL") for p in found), found
    assert any(p.startswith("git[1].submodules[0].url: not an allowed URL") for p in found)


def test_ordinary_urls_still_pass() -> None:
    data = lockfile.load(VALID).to_dict()
    for url in ("https://github.com/a/b.git", "https://h/a..b/c", "https://h/.hidden/x"):
        data["git"][0]["url"] = url
        assert not [p for p in schema.problems(data) if p.startswith("git[0].url")], url


def test_one_ref_of_one_repository_at_two_commits_is_a_verify_error() -> None:
    lock = lockfile.load(VALID)
    i, server = next((i, g) for i, g in enumerate(lock.git) if g.name == "server")
    respelled = server.url.removesuffix(".git") + "/"
    twin = replace(server, name="zz-extra", url=respelled, commit=Commit("f" * 40))
    problems = one_commit_per_ref(replace(lock, git=(*lock.git, twin)))
    assert problems == [
        f"git[{len(lock.git)}].commit: {respelled} {server.ref!r} is ffffffffffff here but "
        f"{server.commit[:12]} in git[{i}] (the same repository); one ref, one commit"
    ]
    # upstream spells one repository two ways (pybind11, pybind11.git) at different refs
    other_ref = replace(twin, ref="v9.9", commit=Commit("e" * 40))
    assert one_commit_per_ref(replace(lock, git=(*lock.git, other_ref))) == []
    same = replace(server, name="zz-again", url=respelled)  # same ref, same commit
    assert one_commit_per_ref(replace(lock, git=(*lock.git, same))) == []


def test_repo_keys_are_the_mirror_folders_and_tell_repositories_apart() -> None:
    assert repo_key("https://GitHub.com/o/r.git") == repo_key("http://github.com/o/r/")
    assert repo_key("https://h:1/x") != repo_key("https://h/1/x")
    assert repo_key("https://h/a/b") != repo_key("https://h/a_b")
    assert mirror_key("https://github.com/o/r.git") == "github.com/o/r"


def test_diff_shows_where_every_added_or_changed_git_pin_comes_from() -> None:
    lock = lockfile.load(VALID)
    server = next(g for g in lock.git if g.name == "server")
    extra = replace(server, name="zz-extra")
    moved = replace(server, commit=Commit("f" * 40))
    others = tuple(g for g in lock.git if g.name != "server")
    text = render_text(diff_locks(lock, replace(lock, git=(*others, moved, extra))), "a", "b")
    assert f"+ zz-extra: {server.commit[:12]} ({server.ref}) from {server.url}" in text
    assert f"~ server: {server.ref}: {server.commit[:12]} → ffffffffffff from {server.url}" in text
