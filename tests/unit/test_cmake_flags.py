"""cmake_build's -D flags reach the CMake of the repo they configure."""

from __future__ import annotations

from tests.unit.test_git_resolve import ORG, FakeSource, cm, run, sha
from tritonlock.resolve.cmakeflags import configures
from tritonlock.resolve.git import GitRequest
from tritonlock.sources.gitclient import Tree

SCRIPT = f"""#!/usr/bin/env bash
mkdir -p /tmp/tritonbuild/tritonserver/build
cmake "-DTRT_VERSION=${{TRT_VERSION}}" "-DTRITON_ENABLE_GPU:BOOL=ON" @CORE@ /workspace
cmake --build . -j8
if [[ ! -e python ]]; then
  git clone --recursive --single-branch --depth=1 -b r25.04 {ORG}/python_backend.git python;
fi
cmake "-DTRITON_ENABLE_GPU:BOOL=OFF" "-DBUILD_TESTING:BOOL=OFF" ..
""".replace("@CORE@", '"-DTRITON_CORE_REPO_TAG:STRING=r25.04"')


def test_each_configure_belongs_to_the_repo_cloned_before_it() -> None:
    got = configures(SCRIPT)
    assert got == {
        "server": {
            "TRT_VERSION": None,
            "TRITON_ENABLE_GPU": "ON",
            "TRITON_CORE_REPO_TAG": "r25.04",
        },
        "python_backend": {"TRITON_ENABLE_GPU": "OFF", "BUILD_TESTING": "OFF"},
    }


GATED = """option(TRITON_ENABLE_GPU "gpu" ON)
if(TRITON_ENABLE_GPU)
  FetchContent_Declare(gpu-dep GIT_REPOSITORY https://h.example/gpu.git GIT_TAG v1)
endif()
"""


def test_a_flag_from_the_environment_is_defined_with_an_unknown_value() -> None:
    text = "if(DEFINED VCPKG_TARGET_TRIPLET)\n  FetchContent_Declare(t URL https://h.example/t.zip)\nendif()\n"
    src = FakeSource()
    tree = Tree(commit=sha(2), committed=2, cmake_files=(cm("CMakeLists.txt", text),))
    src.repo(f"{ORG}/server", {"refs/heads/r25.04": sha(2)}, {sha(2): tree})
    url = f"{ORG}/server"
    given = GitRequest(
        name="server", url=url, ref="r25.04", variables=(), unknown=("VCPKG_TARGET_TRIPLET",)
    )
    assert [u for u, _ in run(src, given).url_requests] == ["https://h.example/t.zip"]
    bare = GitRequest(name="server", url=url, ref="r25.04", variables=())
    assert run(src, bare).url_requests == ()


def test_the_recipes_flags_decide_what_a_repo_fetches() -> None:
    src = FakeSource()
    tree = Tree(commit=sha(2), committed=2, cmake_files=(cm("CMakeLists.txt", GATED),))
    src.repo(f"{ORG}/python_backend", {"refs/heads/r25.04": sha(2)}, {sha(2): tree})
    src.repo("https://h.example/gpu.git", {"refs/tags/v1": sha(3)})
    url = f"{ORG}/python_backend"
    off = GitRequest(
        name="python_backend", url=url, ref="r25.04", variables=(("TRITON_ENABLE_GPU", "OFF"),)
    )
    said: list[str] = []
    assert [p.name for p in run(src, off, progress=said.append).pins] == ["python_backend"]
    assert "skip python_backend:CMakeLists.txt:3 (not reached when CMake configures" in "\n".join(
        said
    )
    on = GitRequest(name="python_backend", url=url, ref="r25.04")
    assert sorted(p.name for p in run(src, on).pins) == ["gpu-dep", "python_backend"]


CORE = """option(HEADERS_ONLY "headers" ON)
if(NOT HEADERS_ONLY)
  FetchContent_Declare(tp GIT_REPOSITORY https://h.example/tp.git GIT_TAG v1)
endif()
"""


def test_a_repo_configured_two_ways_is_read_both_ways() -> None:
    """core is a top-level input, made available by the server with HEADERS_ONLY OFF and
    by a backend with its default ON: what either reaches is pinned, whichever of the
    trees arrives first."""
    src = FakeSource()
    server = (
        f"FetchContent_Declare(repo-core GIT_REPOSITORY {ORG}/core.git GIT_TAG r25.04)\n"
        "set(HEADERS_ONLY OFF)\nFetchContent_MakeAvailable(repo-core)\n"
    )
    backend = f"FetchContent_Declare(repo-core GIT_REPOSITORY {ORG}/core.git GIT_TAG r25.04)\n"
    for name, n, text in (("server", 1, server), ("backend", 2, backend), ("core", 3, CORE)):
        tree = Tree(commit=sha(n), committed=n, cmake_files=(cm("CMakeLists.txt", text),))
        src.repo(f"{ORG}/{name}", {"refs/heads/r25.04": sha(n)}, {sha(n): tree})
    src.repo("https://h.example/tp.git", {"refs/tags/v1": sha(4)})
    core = GitRequest(name="core", url=f"{ORG}/core", ref="r25.04")
    for order in ([core, req_of("server"), req_of("backend")], [req_of("backend"), core]):
        said: list[str] = []
        names = sorted(p.name for p in run(src, *order, progress=said.append).pins)
        full = len(order) == 3
        assert names == (["backend", "core", "server", "tp"] if full else ["backend", "core"])
        # Said only when no configuration reaches it.
        skipped = "skip core:CMakeLists.txt:3 (not reached" in "\n".join(said)
        assert skipped is not full, order


def req_of(name: str) -> GitRequest:
    return GitRequest(name=name, url=f"{ORG}/{name}", ref="r25.04")


def test_a_package_dir_passed_down_two_levels_keeps_the_fallback_download_out() -> None:
    """server → third_party (FetchContent, inheriting a binary-dir prefix) → otel
    (ExternalProject with -Djson_DIR under that prefix): otel's find_package finds json,
    so its download of json at a moving branch is not reached (issue 12's
    nlohmann_json_download at develop)."""
    src = FakeSource()
    server = (
        "set(PREFIX ${CMAKE_CURRENT_BINARY_DIR}/third-party)\n"
        f"FetchContent_Declare(repo-tp GIT_REPOSITORY {ORG}/tp.git GIT_TAG r25.04)\n"
        "FetchContent_MakeAvailable(repo-tp)\n"
    )
    tp = (
        "ExternalProject_Add(otel GIT_REPOSITORY https://h.example/otel.git GIT_TAG v1\n"
        "  CMAKE_CACHE_ARGS -Djson_DIR:PATH=${PREFIX}/json/lib/cmake)\n"
    )
    otel = (
        "find_package(json QUIET)\nif(NOT json_FOUND)\n"
        "  ExternalProject_Add(json_download GIT_REPOSITORY https://h.example/json.git\n"
        "    GIT_TAG develop)\nendif()\n"
    )
    for url, n, text in ((f"{ORG}/server", 1, server), (f"{ORG}/tp", 2, tp)):
        tree = Tree(commit=sha(n), committed=n, cmake_files=(cm("CMakeLists.txt", text),))
        src.repo(url, {"refs/heads/r25.04": sha(n)}, {sha(n): tree})
    tree = Tree(commit=sha(3), committed=3, cmake_files=(cm("CMakeLists.txt", otel),))
    src.repo("https://h.example/otel.git", {"refs/tags/v1": sha(3)}, {sha(3): tree})
    src.repo("https://h.example/json.git", {"refs/heads/develop": sha(4)})
    assert sorted(p.name for p in run(src, req_of("server")).pins) == ["otel", "server", "tp"]


def test_declared_sha256_is_fixed_output_and_other_hashes_are_downloaded() -> None:
    from tritonlock.resolve.gitplan import Ask, Node, cmake_asks

    digest = "27" * 32
    text = (
        f"ExternalProject_Add(boostorg URL https://h.example/boost.tgz URL_HASH SHA256={digest})\n"
        f"FetchContent_Declare(md URL https://h.example/md.tgz URL_MD5 {'a' * 32})\n"
        "FetchContent_Declare(plain URL https://h.example/plain.zip)\n"
        "FetchContent_Declare(local URL ${CMAKE_CURRENT_SOURCE_DIR}/vendored.tgz)\n"
    )
    node = Node(key=("k", sha(9)), asks=[Ask.top_level("python_backend", f"{ORG}/pb", "r1", ())])
    found = cmake_asks(node, {"CMakeLists.txt": text}, {})
    assert [(u, h) for u, h, _ in found.fixed] == [("https://h.example/boost.tgz", digest)]
    assert [u for u, _ in found.urls] == ["https://h.example/md.tgz", "https://h.example/plain.zip"]
    assert any("vendored.tgz is a file of the tree" in s for s in found.skipped)
    assert found.problems == []


def test_the_targets_processor_chooses_an_architecture_specific_download() -> None:
    from tritonlock.resolve.pipeline import cmake_platform

    text = """if(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64")
  FetchContent_Declare(tool URL https://h.example/tool-arm64.tgz)
else()
  FetchContent_Declare(tool URL https://h.example/tool-x64.tgz)
endif()
"""
    src = FakeSource()
    tree = Tree(commit=sha(2), committed=2, cmake_files=(cm("CMakeLists.txt", text),))
    src.repo(f"{ORG}/core", {"refs/heads/r25.04": sha(2)}, {sha(2): tree})
    for target, want in (("igpu", ["arm64"]), ("x86_64", ["x64"]), (None, ["arm64", "x64"])):
        platform = cmake_platform(target) if target else {}
        res = run(src, req_of("core"), platform=platform)
        assert [u.rsplit("-", 1)[1][:-4] for u, _ in res.url_requests] == want, target
