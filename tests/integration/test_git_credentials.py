"""Credentials of a git mirror reach git through its credential helper only: never argv (of
git or its remote helpers, as /proc shows them), a repository's config, a cache file, the
user's credential store or a message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fixtures.gitserver import PROBE_USERS, GitServers
from tests.fixtures.probe import Probe, probe
from tritonlock.errors import ResolveError
from tritonlock.resolve.git import GitRequest, resolve_git
from tritonlock.resolve.trees import checkout
from tritonlock.sources.gitclient import GitFailed, commit_candidates, fetch_tree, ls_remote

pytestmark = pytest.mark.integration

SECRETS = ("S3C", "R@ET", "Pl4inPassw0rd")
ORG = "https://github.com/secret-org"


@pytest.fixture(scope="module", name="repo")
def repo_fixture(git_servers: GitServers) -> str:
    w = git_servers.world
    w.commit("secret-org/lib", {"CMakeLists.txt": "project(lib)\n", "README": "lib\n"})
    sha = w.commit("secret-org/lib", {"README": "lib 2\n"})
    w.set_ref("secret-org/lib", "refs/heads/r1", sha)
    return sha


def _mirror(servers: GitServers, user: str = "probe", password: str | None = None) -> str:
    """The auth area as a mirror: the password's / percent-encoded, its @ and : as they are."""
    secret = quote(PROBE_USERS[user] if password is None else password, safe="@:")
    return f"{servers.auth.replace('http://', f'http://{user}:{secret}@')}/secret-org"


@pytest.fixture(name="spy")
def spy_fixture(tmp_path: Path, isolated_env: Path) -> Iterator[Probe]:
    # A user whose git stores every credential it is given: it must be given none.
    (isolated_env / ".gitconfig").write_text("[credential]\n\thelper = store\n")
    with probe(tmp_path / "probe", SECRETS) as p:
        yield p
    assert not (isolated_env / ".git-credentials").exists()


@pytest.mark.parametrize("user", sorted(PROBE_USERS))
def test_every_git_operation_authenticates_without_the_secret_on_display(
    git_servers: GitServers,
    repo: str,
    spy: Probe,
    tmp_path: Path,
    user: str,
) -> None:
    url = f"{_mirror(git_servers, user)}/lib.git"
    listing = dict(ls_remote(url, ["refs/heads/r1"], timeout=30))
    assert listing["refs/heads/r1"] == repo
    tree = fetch_tree(url, repo, "refs/heads/r1", scratch=tmp_path / "s", timeout=30)
    assert [p for p, _ in tree.cmake_files] == ["CMakeLists.txt"]
    assert commit_candidates(url, repo[:9], scratch=tmp_path / "s", timeout=30) == (repo,)
    checkout(f"{ORG}/lib.git", repo, tmp_path / "co", [(ORG, _mirror(git_servers, user))])
    assert (tmp_path / "co" / "README").read_text() == "lib 2\n"
    req = [GitRequest(name="lib", url=f"{ORG}/lib.git", ref="r1")]
    got = resolve_git(req, mirrors=[(ORG, _mirror(git_servers, user))], cache_dir=tmp_path / "c")
    assert got.pins[0].commit == repo
    assert spy.git_calls() > 10
    assert spy.leaks(folders=[tmp_path / "c", tmp_path / "s", tmp_path / "co"]) == []


def test_a_wrong_password_fails_in_words_without_it(
    git_servers: GitServers,
    repo: str,
    spy: Probe,
    tmp_path: Path,
) -> None:
    mirror = _mirror(git_servers, password="S3C/R@ET:wrong")
    url = f"{mirror}/lib.git"
    with pytest.raises(GitFailed, match="authentication required"):
        ls_remote(url, ["refs/heads/r1"], timeout=30)
    req = [GitRequest(name="lib", url=f"{ORG}/lib.git", ref="r1")]
    with pytest.raises(ResolveError) as err:
        resolve_git(req, mirrors=[(ORG, mirror)], cache_dir=tmp_path / "c")
    assert "authentication required" in str(err.value) and "via mirror http://***@" in str(
        err.value
    )
    assert spy.leaks(texts=[str(err.value)]) == []
