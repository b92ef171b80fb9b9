"""An ``EXCLUDE_FROM_ALL`` ExternalProject is pinned only when the build builds it: a
target in ALL, or one the recipe builds by name, depends on it, directly or through
others (issue 12, defect 2). Every snippet is written for these tests, after the shape of
a superbuild whose dependencies are declared excluded and pulled in by ``DEPENDS``."""

from __future__ import annotations

from tests.unit.test_git_resolve import ORG, FakeSource, cm, run, sha
from tritonlock.resolve.cmakeflags import named_targets
from tritonlock.resolve.git import GitRequest
from tritonlock.sources.gitclient import Tree
from tritonlock.upstream import cmake, shell
from tritonlock.upstream.commands import build_targets

ZLIB = "https://github.com/acme/zlib.git"
CLOUD = "https://github.com/acme/cloud.git"
TOOLS = "https://github.com/acme/tools.git"

TOP = f"""\
option(ENABLE_CLOUD "cloud storage" OFF)
include(FetchContent)
FetchContent_Declare(repo-deps GIT_REPOSITORY {ORG}/deps.git GIT_TAG main)
FetchContent_MakeAvailable(repo-deps)
set(APP_DEPENDS zlib)
if(ENABLE_CLOUD)
  list(APPEND APP_DEPENDS cloudsdk)
endif()
ExternalProject_Add(app SOURCE_DIR ${{CMAKE_CURRENT_SOURCE_DIR}}/src DEPENDS ${{APP_DEPENDS}})
"""

DEPS = f"""\
ExternalProject_Add(zlib GIT_REPOSITORY {ZLIB} GIT_TAG v1 EXCLUDE_FROM_ALL ON DEPENDS zsrc)
ExternalProject_Add(zsrc URL https://h.example/zsrc.tgz EXCLUDE_FROM_ALL ON)
ExternalProject_Add(cloudsdk
  GIT_REPOSITORY {CLOUD} GIT_TAG v2
  EXCLUDE_FROM_ALL ON
  DEPENDS cloudcurl)
ExternalProject_Add(cloudcurl URL https://h.example/curl.tgz EXCLUDE_FROM_ALL TRUE)
ExternalProject_Add(tools GIT_REPOSITORY {TOOLS} GIT_TAG v3 EXCLUDE_FROM_ALL ON)
ExternalProject_Add(broken GIT_REPOSITORY ${{NOT_SET}}/x.git EXCLUDE_FROM_ALL ON)
"""


def world(top: str = TOP) -> FakeSource:
    src = FakeSource()
    server = Tree(commit=sha(1), committed=1, cmake_files=(cm("CMakeLists.txt", top),))
    src.repo(f"{ORG}/server", {"refs/heads/r25.04": sha(1)}, {sha(1): server})
    deps = Tree(commit=sha(2), committed=2, cmake_files=(cm("CMakeLists.txt", DEPS),))
    src.repo(f"{ORG}/deps", {"refs/heads/main": sha(2)}, {sha(2): deps})
    src.repo(ZLIB, {"refs/tags/v1": sha(3)})
    src.repo(CLOUD, {"refs/tags/v2": sha(4)})
    src.repo(TOOLS, {"refs/tags/v3": sha(5)})
    return src


def server(**variables: str) -> GitRequest:
    return GitRequest(
        name="server",
        url=f"{ORG}/server",
        ref="r25.04",
        variables=tuple(sorted(variables.items())),
    )


def urls(res: object) -> list[str]:
    return sorted(u for u, _ in res.url_requests)  # type: ignore[attr-defined]


def test_an_excluded_project_no_built_target_needs_is_neither_pinned_nor_fatal() -> None:
    said: list[str] = []
    src = world()
    res = run(src, server(ENABLE_CLOUD="OFF"), progress=said.append)
    assert [p.name for p in res.pins] == ["deps", "server", "zlib"]
    assert urls(res) == ["https://h.example/zsrc.tgz"]  # zlib DEPENDS zsrc: transitively
    assert CLOUD not in src.listed and TOOLS not in src.listed  # never even asked
    assert (
        "skip deps:CMakeLists.txt:3 (ExternalProject_Add(cloudsdk) is EXCLUDE_FROM_ALL and "
        "no built target depends on it: it is never built, nor downloaded)"
    ) in said
    assert any(
        m.startswith("skip deps:CMakeLists.txt:9 (ExternalProject_Add(broken)") for m in said
    )


def test_a_list_an_option_extends_makes_the_excluded_project_built() -> None:
    res = run(world(), server(ENABLE_CLOUD="ON"))
    assert [p.name for p in res.pins] == ["cloudsdk", "deps", "server", "zlib"]
    assert urls(res) == ["https://h.example/curl.tgz", "https://h.example/zsrc.tgz"]
    (cloud,) = (p for p in res.pins if p.name == "cloudsdk")
    assert cloud.found_in == ("deps:CMakeLists.txt:3",)


def test_a_target_the_recipe_builds_by_name_is_built() -> None:
    res = run(world(), server(ENABLE_CLOUD="OFF"), roots=("tools",))
    assert [p.name for p in res.pins] == ["deps", "server", "tools", "zlib"]


def test_add_dependencies_of_a_built_target_builds_the_excluded_project() -> None:
    top = TOP + "add_library(mylib STATIC a.c)\nadd_dependencies(mylib tools)\n"
    res = run(world(top), server(ENABLE_CLOUD="OFF"))
    assert [p.name for p in res.pins] == ["deps", "server", "tools", "zlib"]


def test_a_dependency_that_cannot_be_decided_pins_every_excluded_project() -> None:
    top = TOP + "ExternalProject_Add(other SOURCE_DIR s DEPENDS ${FROM_ELSEWHERE})\n"
    res = run(world(top), server(ENABLE_CLOUD="OFF"), strict=False)
    assert [p.name for p in res.pins] == ["cloudsdk", "deps", "server", "tools", "zlib"]
    # ...and what it cannot pin is said, as for any reached download
    assert [w for w, _ in res.failures] == ["deps: what its CMake files fetch"]
    assert "${NOT_SET}" in res.failures[0][1]


def test_configure_records_the_build_graph_and_marks_excluded_downloads() -> None:
    project = cmake.configure({"CMakeLists.txt": TOP + DEPS}, {"ENABLE_CLOUD": "ON"})
    by_name = {f.name: f for f in project.fetches}
    assert by_name["zlib"].excluded and by_name["zlib"].target == "zlib"
    assert not by_name["repo-deps"].excluded and by_name["repo-deps"].target == ""
    graph = cmake.graph(project.calls)
    assert [n for n in ("zlib", "zsrc", "cloudsdk", "cloudcurl", "tools") if graph.is_built(n)] == [
        "zlib",
        "zsrc",
        "cloudsdk",
        "cloudcurl",
    ]
    assert cmake.graph(project.calls, roots=["tools"]).is_built("tools")


def test_an_exclude_from_all_whose_value_is_not_known_is_built() -> None:
    (f,) = cmake.fetches("ExternalProject_Add(x URL https://h/x.tgz EXCLUDE_FROM_ALL ${MAYBE})\n")
    assert not f.excluded


def test_targets_cmake_build_builds_by_name() -> None:
    def named(line: str) -> tuple[str, ...]:
        return tuple(t for cmd in shell.split(line) for t in build_targets(cmd))

    assert named("cmake --build . --config Release -j$(nproc) -v -t install") == ("install",)
    assert named("cmake --build /b -j 8 --target a b -- -k") == ("a", "b")
    assert named("cmake --build /b --target=x,y") == ("x", "y")
    assert named("make -j install server VERBOSE=1") == ("install", "server")
    assert named("make -j 4 -C build tools") == ("tools",)
    assert named("cmake -DX=1 ..") == ()
    script = "cd /tmp/b\ncmake --build . -t install\n# make docs\nmake tools install\n"
    assert named_targets(script) == ("install", "tools")


def test_a_project_configured_twice_and_never_built_is_said_once() -> None:
    # deps is made available twice, from scopes that differ: its CMake is read twice.
    top = (
        TOP + f"set(Y 1)\nFetchContent_Declare(deps2 GIT_REPOSITORY {ORG}/deps.git GIT_TAG main)\n"
    )
    top += "FetchContent_MakeAvailable(deps2)\n"
    said: list[str] = []
    run(world(top), server(ENABLE_CLOUD="OFF"), progress=said.append)
    assert [m for m in said if "ExternalProject_Add(tools)" in m] == [
        "skip deps:CMakeLists.txt:8 (ExternalProject_Add(tools) is EXCLUDE_FROM_ALL and no built "
        "target depends on it: it is never built, nor downloaded)"
    ]
