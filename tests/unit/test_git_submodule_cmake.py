"""Submodules' CMake files are part of their superproject's build (issue 12, defect 5)."""

from __future__ import annotations

from tests.unit.test_git_resolve import ORG, FakeSource, cm, req, run, sha
from tritonlock.sources.gitclient import Tree

OTEL = "https://github.com/acme/otel.git"
JSON = "https://github.com/acme/json.git"
LEAF = "https://github.com/acme/leaf.git"


def world(top: str, sub_ok: bool = True) -> FakeSource:
    src = FakeSource()
    core = f"FetchContent_Declare(otel GIT_REPOSITORY {OTEL} GIT_TAG v1)\n"
    tree = Tree(commit=sha(1), committed=1, cmake_files=(cm("CMakeLists.txt", core),))
    src.repo(f"{ORG}/core", {"refs/heads/r25.04": sha(1)}, {sha(1): tree})
    otel = Tree(
        commit=sha(2),
        committed=2,
        cmake_files=(cm("CMakeLists.txt", top),),
        gitlinks=(("third_party/json", sha(3)),),
        gitmodules=(
            ("json", "path", "third_party/json"),
            ("json", "url", "../json.git" if sub_ok else "../absent.git"),
        ),
    )
    src.repo(OTEL, {"refs/tags/v1": sha(2)}, {sha(2): otel})
    leaf = f"FetchContent_Declare(leaf GIT_REPOSITORY {LEAF} GIT_TAG develop)\n"
    src.repo(
        JSON,
        {},
        {sha(3): Tree(commit=sha(3), committed=3, cmake_files=(cm("CMakeLists.txt", leaf),))},
    )
    src.repo(LEAF, {"refs/heads/develop": sha(4)})
    return src


def test_a_submodule_added_as_a_subdirectory_is_scanned() -> None:
    res = run(world("add_subdirectory(third_party/json)\n"), req("core"))
    pins = {p.name: p for p in res.pins}
    assert sorted(pins) == ["core", "leaf", "otel"]
    assert pins["leaf"].found_in == ("otel:third_party/json/CMakeLists.txt:1",)
    assert [s.path for s in pins["otel"].submodules] == ["third_party/json"]


def test_a_submodule_not_reached_is_pinned_but_its_cmake_is_not_followed() -> None:
    said: list[str] = []
    res = run(world("project(otel)\n"), req("core"), progress=said.append)
    assert sorted(p.name for p in res.pins) == ["core", "otel"]
    assert any(
        m.startswith("skip otel:third_party/json/CMakeLists.txt:1 (not reached") for m in said
    )


def test_a_dependency_dropped_for_its_submodule_takes_what_only_it_asked_for() -> None:
    # The leaf is asked by otel's own CMake; otel's submodule cannot be read.
    top = f"FetchContent_Declare(leaf GIT_REPOSITORY {LEAF} GIT_TAG develop)\n"
    res = run(world(top, sub_ok=False), req("core"), strict=False)
    assert [p.name for p in res.pins] == ["core"]
    ((what, why),) = res.failures
    assert what == "core: what its CMake files fetch" and "commit not available" in why
