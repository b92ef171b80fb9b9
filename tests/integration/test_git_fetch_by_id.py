"""A branch's tree is fetched by the commit id ls-remote gave (no second ref listing), even
once the branch has moved on; a commit the server does not have is asked for by its ref,
which says where the ref went. (A tag is fetched by name: test_git_resolve's
``test_tag_moved_between_ls_remote_and_fetch``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.gitserver import GitWorld, Repos, repos_fixture
from tritonlock.sources.gitclient import GitFailed, fetch_tree

pytestmark = pytest.mark.integration


def build(w: GitWorld) -> dict[str, str]:
    old = w.release("byid", {"CMakeLists.txt": "project(old)\n"}, branch="r1", message="old")
    new = w.commit("byid", {"CMakeLists.txt": "project(new)\n"}, branch="r1", message="new")
    return {"old": old, "new": new}


world = repos_fixture(build)


def url(world: Repos) -> str:
    return f"{world.servers.git}/byid.git"


def test_by_id_a_commit_that_is_no_tip_any_more_is_still_served(
    world: Repos, tmp_path: Path
) -> None:
    tree = fetch_tree(url(world), world.rev["old"], "refs/heads/r1", scratch=tmp_path, timeout=60)
    assert tree.commit == world.rev["old"]
    assert tree.cmake_files == (("CMakeLists.txt", "project(old)\n"),)


def test_a_commit_the_server_lacks_is_asked_for_by_its_ref_which_says_it_moved(
    world: Repos, tmp_path: Path
) -> None:
    """A branch force-pushed since ls-remote, its old commit gone from the server: the ref
    says where it went, which is what the resolve reports."""
    gone = "1" * 40
    with pytest.raises(GitFailed, match=f"moved to {world.rev['new']}"):
        fetch_tree(url(world), gone, "refs/heads/r1", scratch=tmp_path, timeout=60)
    with pytest.raises(GitFailed, match="commit not available"):
        fetch_tree(url(world), gone, gone, scratch=tmp_path, timeout=60)
