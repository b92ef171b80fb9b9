"""Abbreviated commit ids as refs (CMake ``GIT_TAG 3e9dfa2``) against real git servers on
127.0.0.1: git daemon and lighttpd + git-http-backend."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.fixtures.gitserver import GitWorld, Repos, free_port, repos_fixture
from tritonlock.errors import ResolveError
from tritonlock.lockfile import seal
from tritonlock.lockfile.schema import problems
from tritonlock.model import Inputs, Lock
from tritonlock.resolve.git import GitRequest, resolve_git
from tritonlock.sources.gitclient import SubprocessGit

pytestmark = pytest.mark.integration

GH = "https://github.com"
CORE = f"{GH}/triton-inference-server/core"


def declare(name: str, repo: str, tag: str) -> str:
    return f"ExternalProject_Add({name}\n  GIT_REPOSITORY {GH}/{repo}.git\n  GIT_TAG {tag}\n)\n"


def colliding_commits(w: GitWorld, name: str) -> tuple[str, str]:
    """Two root commits of ``name`` whose ids share their first 7 hex digits, not 8."""
    w.commit(name, {"a": "1\n"})
    tree = w.git(name, "rev-parse", "main^{tree}")
    head = f"tree {tree}\nauthor t <t@example.invalid> 1700000000 +0000\n"
    head += "committer t <t@example.invalid> 1700000000 +0000\n\n"
    seen: dict[str, tuple[str, str]] = {}
    n = 0
    while True:
        body = f"{head}twin {n}\n"
        oid = hashlib.sha1(f"commit {len(body)}\0{body}".encode()).hexdigest()
        if oid[:7] in seen and seen[oid[:7]][0][7] != oid[7]:
            break
        seen[oid[:7]] = (oid, body)
        n += 1
    shas = []
    for i, text in enumerate((seen[oid[:7]][1], body)):
        sha = w.git(name, "hash-object", "-w", "-t", "commit", "--stdin", stdin=text)
        w.set_ref(name, f"refs/heads/twin{i}", sha)
        shas.append(sha)
    assert shas[0][:7] == shas[1][:7] and shas[0] != shas[1]
    return shas[0], shas[1]


def build(w: GitWorld) -> dict[str, str]:
    rev = {"leaf": w.commit("acme/leaf", {"CMakeLists.txt": "project(leaf)\n"})}
    w.tag("acme/leaf", "v1", rev["leaf"])
    w.commit("acme/dep", {"CMakeLists.txt": "project(dep0)\n"})
    rev["dep"] = w.commit(
        "acme/dep",
        {
            # reached the way CMake reaches it: included from the top-level CMakeLists.txt
            "CMakeLists.txt": "project(dep)\ninclude(cmake/deps.cmake)\n",
            "cmake/deps.cmake": declare("leaf", "acme/leaf", "v1"),
        },
        branch="release",
    )
    w.commit("acme/dep", {"later": "1\n"}, branch="release")  # the pinned commit is no tip
    rev["tagged"] = w.commit("acme/dep", {"x": "tagged\n"}, branch="scratch")
    w.tag("acme/dep", "only-a-tag", rev["tagged"])
    w.set_ref("acme/dep", "refs/heads/scratch", rev["dep"])  # reachable from the tag only
    rev["hexbranch"] = w.commit("acme/dep", {"y": "1\n"}, branch=rev["dep"][:9])
    rev["twin0"], rev["twin1"] = colliding_commits(w, "acme/twins")
    rev["core"] = w.commit(
        "triton-inference-server/core",
        {"CMakeLists.txt": declare("dep", "acme/dep", rev["dep"][:7])},
        branch="r25.04",
    )
    return rev


world = repos_fixture(build)


@pytest.mark.parametrize("proto", ["git", "http"])
def test_cmake_abbreviation_is_pinned_at_the_full_commit(
    world: Repos, proto: str, tmp_path: Path
) -> None:
    base = world.servers.git if proto == "git" else world.servers.http
    said: list[str] = []
    kw = {"mirrors": [(GH, base)], "cache_dir": tmp_path, "progress": said.append}
    res = resolve_git([GitRequest(name="core", url=CORE, ref="r25.04")], **kw)  # type: ignore[arg-type]
    pins = {p.name: p for p in res.pins}
    dep = pins["dep"]
    assert (dep.url, dep.ref, dep.commit) == (
        f"{GH}/acme/dep.git",
        world.rev["dep"][:7],
        world.rev["dep"],
    )
    assert dep.found_in == ("core:CMakeLists.txt:1",)
    assert (pins["leaf"].commit, pins["leaf"].found_in) == (
        world.rev["leaf"],
        ("dep:cmake/deps.cmake:1",),
    )
    assert [m for m in said if "history" in m] == [f"fetch history dep to expand {dep.ref}"]
    lock = Lock(inputs=Inputs(release="25.04", target="x86_64"), git=res.pins)
    assert problems(seal(lock).to_dict()) == []
    said.clear()
    again = resolve_git([GitRequest(name="core", url=CORE, ref="r25.04")], **kw)  # type: ignore[arg-type]
    assert again.pins == res.pins
    assert not [m for m in said if m.startswith("fetch")], said  # expansion and trees cached


@pytest.mark.parametrize("proto", ["git", "http"])
def test_abbreviations_of_tag_only_commits_and_hex_named_branches(
    world: Repos, proto: str, tmp_path: Path
) -> None:
    base = f"{world.servers.git if proto == 'git' else world.servers.http}/acme/dep.git"
    tagged, hexname = world.rev["tagged"][:10], world.rev["dep"][:9]
    reqs = [
        GitRequest(name="tagged", url=base, ref=tagged),
        GitRequest(name="hexbranch", url=base, ref=hexname),
    ]
    res = resolve_git(reqs, cache_dir=tmp_path, follow_cmake=False)
    assert {p.name: (p.ref, p.commit) for p in res.pins} == {
        "tagged": (tagged, world.rev["tagged"]),
        "hexbranch": (hexname, world.rev["hexbranch"]),  # the branch wins over the commit
    }


@pytest.mark.parametrize("proto", ["git", "http"])
def test_ambiguous_abbreviation(world: Repos, proto: str, tmp_path: Path) -> None:
    base = world.servers.git if proto == "git" else world.servers.http
    abbrev = world.rev["twin0"][:7]
    req = [GitRequest(name="twins", url=f"{GH}/acme/twins", ref=abbrev, found_in=("x.toml:3",))]
    with pytest.raises(ResolveError) as err:
        resolve_git(req, mirrors=[(GH, base)], cache_dir=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg
    assert f"twins: the abbreviated commit {abbrev!r} of {GH}/acme/twins is ambiguous" in msg
    assert world.rev["twin0"][:12] in msg and world.rev["twin1"][:12] in msg
    assert msg.endswith("(asked in x.toml:3); use the full 40-hex commit in x.toml:3")
    eight = world.rev["twin1"][:8]  # tells them apart
    req = [GitRequest(name="twins", url=f"{GH}/acme/twins", ref=eight)]
    pin = resolve_git(req, mirrors=[(GH, base)], cache_dir=tmp_path).pins[0]
    assert (pin.ref, pin.commit) == (eight, world.rev["twin1"])


def test_unknown_abbreviation(world: Repos, tmp_path: Path) -> None:
    url = f"{world.servers.http}/acme/dep.git"
    req = [GitRequest(name="dep", url=url, ref="0badc0de", found_in=("cmake:CMakeLists.txt:9",))]
    with pytest.raises(ResolveError) as err:
        resolve_git(req, cache_dir=tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"dep: {url} has no branch or tag '0badc0de', and no commit of")
    assert "use the full 40-hex commit in cmake:CMakeLists.txt:9" in msg and "\n" not in msg


def test_unreachable_server_gives_the_usual_error(tmp_path: Path) -> None:
    url = f"git://127.0.0.1:{free_port()}/x.git"
    with pytest.raises(ResolveError) as err:
        resolve_git([GitRequest(name="victim", url=url, ref="3e9dfa2")], cache_dir=tmp_path)
    assert str(err.value) == f"victim: cannot list '3e9dfa2' of {url}: unreachable"


class _ListsNothing(SubprocessGit):
    """A remote whose ls-remote answers (no such branch or tag) but whose fetch hangs."""

    def ls_remote(self, fetch_url: str, patterns: list[str]) -> list[tuple[str, str]]:
        return []


def test_history_fetch_honours_the_timeout(world: Repos, tmp_path: Path) -> None:
    url = f"http://{world.servers.blackhole}/acme/dep.git"
    req = [GitRequest(name="dep", url=url, ref="3e9dfa2")]
    src = _ListsNothing(tmp_path, timeout=1.5)
    with pytest.raises(ResolveError) as err:
        resolve_git(req, cache_dir=tmp_path, source=src)
    assert str(err.value) == (
        f"dep: cannot fetch the history of {url} to expand the abbreviated commit '3e9dfa2' "
        "(asked in inputs): timed out after 1.5s"
    )
    assert not list((tmp_path / "tmp").iterdir())  # the scratch repository is gone
