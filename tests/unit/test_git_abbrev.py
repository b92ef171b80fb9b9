"""Abbreviated commit ids as refs (CMake ``GIT_TAG 3e9dfa2``), against an in-memory source."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_git_resolve import ORG, FakeSource, cm, req, run
from tritonlock.errors import ResolveError
from tritonlock.lockfile import seal
from tritonlock.lockfile.schema import problems
from tritonlock.model import Inputs, Lock
from tritonlock.resolve import git, gitplan
from tritonlock.sources.gitclient import GitFailed, Tree

DEP = "https://github.com/acme/dep.git"
LEAF = "https://github.com/acme/leaf.git"
FULL = "3e9dfa2" + "1" * 33
TWIN = "3e9dfa2" + "2" * 33  # shares 7 digits with FULL
LEAF_TIP = "c" * 40
HEX = st.text("0123456789abcdef", min_size=7, max_size=39)


@given(HEX)
def test_seven_to_39_lowercase_hex_digits_are_abbreviations(ref: str) -> None:
    assert git.is_abbreviation(ref)
    assert git.abbreviates(ref, ref + "0" * (40 - len(ref)))
    assert not git.abbreviates(ref, "f" * 40 if ref[0] != "f" else "0" * 40)


@pytest.mark.parametrize(
    "ref", ["3e9dfa", "3E9DFA2", "3e9dfa2g", "v3e9dfa2", "r25.04", "a" * 40, "pull/1/head"]
)
def test_other_refs_are_not_abbreviations(ref: str) -> None:
    assert not git.is_abbreviation(ref)


def _server(dep_tag: str) -> str:
    return f"ExternalProject_Add(dep GIT_REPOSITORY {DEP} GIT_TAG {dep_tag})\n"


def world(
    dep_tag: str = "3e9dfa2", *, twin: bool = False, refs: Mapping[str, str] = {}
) -> FakeSource:
    src = FakeSource()
    top = Tree(commit="a" * 40, committed=1, cmake_files=(cm("CMakeLists.txt", _server(dep_tag)),))
    src.repo(f"{ORG}/server", {"refs/heads/r25.04": "a" * 40}, {"a" * 40: top})
    leaf = f"FetchContent_Declare(leaf GIT_REPOSITORY {LEAF} GIT_TAG v1)\n"
    files = (cm("CMakeLists.txt", "include(cmake/deps.cmake)\n"), cm("cmake/deps.cmake", leaf))
    dep = Tree(commit=FULL, committed=1, cmake_files=files)
    trees = {FULL: dep} | ({TWIN: Tree(commit=TWIN, committed=1)} if twin else {})
    src.repo(DEP, {"refs/heads/main": "d" * 40, **refs}, trees)
    src.repo(LEAF, {"refs/tags/v1": LEAF_TIP})
    return src


def test_cmake_abbreviation_pins_the_full_commit_and_follows_its_cmake() -> None:
    src = world()
    res = run(src, req("server"))
    pins = {p.name: p for p in res.pins}
    assert (pins["dep"].ref, pins["dep"].commit) == ("3e9dfa2", FULL)
    assert pins["dep"].found_in == ("server:CMakeLists.txt:1",)
    assert pins["leaf"].commit == LEAF_TIP
    assert pins["leaf"].found_in == ("dep:cmake/deps.cmake:1",)
    assert src.histories == [(DEP, DEP, "3e9dfa2")]
    assert (DEP, DEP, FULL) in src.fetched  # the tree is read like a full-commit ref's
    lock = Lock(inputs=Inputs(release="25.04", target="x86_64"), git=res.pins)
    assert problems(seal(lock).to_dict()) == []


def test_ordinary_refs_never_fetch_history() -> None:
    src = world(dep_tag="main")
    assert {p.name: p.commit for p in run(src, req("server")).pins}["dep"] == "d" * 40
    assert src.histories == []


@pytest.mark.parametrize("kind", ["heads", "tags"])
def test_a_branch_or_tag_named_like_hex_wins(kind: str) -> None:
    src = world(refs={f"refs/{kind}/3e9dfa2": "e" * 40})
    src.trees[git.norm(DEP)]["e" * 40] = Tree(commit="e" * 40, committed=1)
    pins = {p.name: p for p in run(src, req("server")).pins}
    assert (pins["dep"].ref, pins["dep"].commit) == ("3e9dfa2", "e" * 40)
    assert src.histories == []


def test_ambiguous_abbreviation_names_repo_abbreviation_and_place() -> None:
    with pytest.raises(ResolveError) as err:
        run(world(twin=True), req("server"))
    msg = str(err.value)
    assert "\n" not in msg
    assert re.search(r"dep: the abbreviated commit '3e9dfa2' of https://github.com/acme/dep", msg)
    assert "ambiguous: 2 objects" in msg and FULL[:12] in msg and TWIN[:12] in msg
    assert msg.endswith(
        "(asked in server:CMakeLists.txt:1); use the full 40-hex commit in server:CMakeLists.txt:1"
    )


def test_unknown_abbreviation_is_an_error_with_advice() -> None:
    with pytest.raises(ResolveError) as err:
        run(world(dep_tag="0badc0de"), req("server"))
    msg = str(err.value)
    assert "\n" not in msg
    assert (
        "dep: https://github.com/acme/dep.git has no branch or tag '0badc0de', and no commit" in msg
    )
    assert "server:CMakeLists.txt:1" in msg and "use the full 40-hex commit" in msg


def test_unknown_abbreviation_is_a_failure_of_its_owner_when_not_strict() -> None:
    res = run(world(dep_tag="0badc0de"), req("server"), strict=False)
    assert [p.name for p in res.pins] == ["server"]
    ((what, why),) = res.failures
    assert what == "server: what its CMake files fetch" and "'0badc0de'" in why


def test_expansion_is_cached_and_asked_once_per_repo_and_abbreviation() -> None:
    src = world()
    twice = _server("3e9dfa2") + _server("3e9dfa2").replace("dep ", "dep2 ")
    top = Tree(commit="a" * 40, committed=1, cmake_files=(cm("CMakeLists.txt", twice),))
    src.trees[git.norm(f"{ORG}/server")]["a" * 40] = top
    first = run(src, req("server")).pins
    assert len(src.histories) == 1
    assert run(src, req("server")).pins == first
    assert len(src.histories) == 1  # the second run took the cached expansion


def test_mirror_gives_the_bytes_and_the_lock_keeps_the_canonical_url() -> None:
    src = world()
    mirrored = FakeSource()
    for url in list(src.refs):
        new = url.replace("https://github.com", "http://127.0.0.1:9/gh")
        mirrored.refs[new], mirrored.trees[new] = src.refs[url], src.trees[url]
    res = run(mirrored, req("server"), mirrors=[("https://github.com", "http://127.0.0.1:9/gh")])
    dep = next(p for p in res.pins if p.name == "dep")
    assert (dep.url, dep.ref, dep.commit) == (DEP, "3e9dfa2", FULL)
    assert mirrored.histories == [(DEP, "http://127.0.0.1:9/gh/acme/dep.git", "3e9dfa2")]


@dataclass
class SlowHistory(FakeSource):
    def expand(self, url: str, fetch_url: str, abbrev: str) -> tuple[str, ...]:
        raise GitFailed("timed out after 1s")


def test_history_fetch_failure_is_one_line_naming_repo_and_place() -> None:
    src = SlowHistory()
    src.refs, src.trees = world().refs, world().trees
    with pytest.raises(ResolveError) as err:
        run(src, req("server"))
    assert str(err.value) == (
        "dep: cannot fetch the history of https://github.com/acme/dep.git to expand the "
        "abbreviated commit '3e9dfa2' (asked in server:CMakeLists.txt:1): timed out after 1s"
    )


def test_expanded_refuses_a_commit_the_abbreviation_does_not_name() -> None:
    ask = gitplan.Ask.top_level("dep", DEP, "3e9dfa2", ["inputs"])
    assert git.expanded(ask, [FULL]) == FULL
    with pytest.raises(ResolveError, match="no commit of its branches and tags starts with it"):
        git.expanded(ask, ["f" * 40])
    with pytest.raises(
        ResolveError, match=r"ambiguous: 4 objects .*, \.\.\.\) \(asked in inputs\)"
    ):
        git.expanded(ask, [FULL, TWIN, "3e9dfa23" + "0" * 32, "3e9dfa24" + "0" * 32])
