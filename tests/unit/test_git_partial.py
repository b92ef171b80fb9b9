"""resolve_git against an in-memory source: third-party CMake policy, repeatable failure
order, partial results (``strict=False``) and mirror prefixes on path boundaries."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_git_resolve import ORG, FakeSource, cm, req, run, sha
from tritonlock.errors import ResolveError, SourceError
from tritonlock.resolve import git, gitplan
from tritonlock.sources.gitclient import GitFailed, Tree
from tritonlock.verify import live as deeplive

PYBIND = "https://github.com/pybind/pybind11.git"
EIGEN = "https://gitlab.com/libeigen/eigen.git"

CORE_CMAKE = f"FetchContent_Declare(pybind11 GIT_REPOSITORY {PYBIND} GIT_TAG v2.13.1)\n"

# Modeled on how a third-party project pins a test-only dependency: "VERSION;HASH".
DEP_TESTS = f"""set(DEP_EIGEN_VERSION_AND_HASH "3.4.0;{sha(31)}")
list(GET DEP_EIGEN_VERSION_AND_HASH 1 DEP_EIGEN_VERSION_HASH)
FetchContent_Declare(
  eigen
  GIT_REPOSITORY {EIGEN}
  GIT_TAG ${{DEP_EIGEN_VERSION_HASH}}
)
"""


def core_world(*dep_files: tuple[str, str]) -> FakeSource:
    src = FakeSource()
    core = Tree(commit=sha(2), committed=2, cmake_files=(cm("CMakeLists.txt", CORE_CMAKE),))
    src.repo(f"{ORG}/core", {"refs/heads/r25.04": sha(2)}, {sha(2): core})
    dep = Tree(commit=sha(30), committed=3, cmake_files=dep_files)
    src.repo(PYBIND, {"refs/tags/v2.13.1": sha(30)}, {sha(30): dep})
    src.repo(EIGEN, {"refs/heads/master": sha(31)})
    return src


def test_third_party_tests_dir_is_skipped_and_said() -> None:
    src = core_world(cm("tests/CMakeLists.txt", DEP_TESTS))
    said: list[str] = []
    res = run(src, req("core"), progress=said.append)
    assert sorted(p.name for p in res.pins) == ["core", "pybind11"]
    assert any(m.startswith("skip pybind11:tests/CMakeLists.txt:3 (") for m in said), said


def test_third_party_list_get_tag_outside_tests_is_followed() -> None:
    top = cm("CMakeLists.txt", "include(cmake/deps.cmake)\n")
    src = core_world(top, cm("cmake/deps.cmake", DEP_TESTS))
    res = run(src, req("core"))
    assert {p.name: p.commit for p in res.pins}["eigen"] == sha(31)


def test_third_party_unknown_variable_where_reached_is_unresolved_with_file_and_line() -> None:
    # Reached, but its URL cannot be known: not skipped any more (issue 12, defect 2).
    text = "\nFetchContent_Declare(x GIT_REPOSITORY https://h.example/${NOT_SET}.git)\n"
    src = core_world(cm("CMakeLists.txt", text))
    with pytest.raises(ResolveError, match=r"pybind11:CMakeLists.txt:2: x uses \$\{NOT_SET\}"):
        run(src, req("core"))
    res = run(src, req("core"), strict=False)
    assert sorted(p.name for p in res.pins) == ["core", "pybind11"]
    ((what, why),) = res.failures
    assert what == "pybind11: what its CMake files fetch" and "NOT_SET" in why


@pytest.mark.parametrize("url", [f"{ORG}/core", "https://example.org/fork/core"])
def test_unknown_variable_in_a_triton_or_top_level_repo_is_an_error(url: str) -> None:
    src = FakeSource()
    text = "FetchContent_Declare(d GIT_REPOSITORY https://h.example/${NOT_SET}.git)\n"
    files = (cm("CMakeLists.txt", "add_subdirectory(tests)\n"), cm("tests/CMakeLists.txt", text))
    tree = Tree(commit=sha(2), committed=2, cmake_files=files)
    src.repo(url, {"refs/heads/r25.04": sha(2)}, {sha(2): tree})
    with pytest.raises(ResolveError, match=r"core:tests/CMakeLists.txt:1: d uses \$\{NOT_SET\}"):
        run(src, req("core", url=url))


def test_first_party_is_the_triton_organization() -> None:
    assert gitplan.first_party(f"{ORG}/core.git")
    assert gitplan.first_party("http://127.0.0.1:9/triton-inference-server/core")
    assert not gitplan.first_party("https://github.com/pybind/pybind11.git")
    assert not gitplan.first_party("https://github.com/triton-inference-server-fork/core")


# -- repeatable failure order ------------------------------------------------


DEPS = ("zeta", "alpha", "mid", "omega")


@dataclass
class OrderedFailures(FakeSource):
    """Every dep remote fails, finishing in ``order`` (each waits for the ones before)."""

    order: tuple[str, ...] = ()
    done: dict[str, threading.Event] = field(default_factory=dict)

    def ls_remote(self, fetch_url: str, patterns: list[str]) -> list[tuple[str, str]]:
        name = fetch_url.rsplit("/", 1)[-1].removesuffix(".git")
        if name not in self.order:
            return super().ls_remote(fetch_url, patterns)
        for before in self.order[: self.order.index(name)]:
            assert self.done[before].wait(10)
        self.done[name].set()
        raise GitFailed("unreachable")


def failing_world(order: tuple[str, ...]) -> OrderedFailures:
    src = OrderedFailures(order=order, done={n: threading.Event() for n in order})
    text = "".join(
        f"FetchContent_Declare({n} GIT_REPOSITORY https://elsewhere.example/{n}.git GIT_TAG v1)\n"
        for n in DEPS
    )
    server = Tree(commit=sha(1), committed=1, cmake_files=(cm("CMakeLists.txt", text),))
    src.repo(f"{ORG}/server", {"refs/heads/r25.04": sha(1)}, {sha(1): server})
    return src


@settings(max_examples=12, deadline=None)
@given(st.permutations(DEPS))
def test_first_failure_is_in_cmake_order_whatever_finishes_first(order: list[str]) -> None:
    with pytest.raises(ResolveError) as info:
        run(failing_world(tuple(order)), req("server"), jobs=8)
    assert str(info.value).startswith("zeta: cannot list 'v1'")
    res = run(failing_world(tuple(order)), req("server"), jobs=8, strict=False)
    ((what, why),) = res.failures
    assert what == "server: what its CMake files fetch"
    assert why.startswith("zeta: cannot list 'v1'") and why.endswith("(and 3 more)")


# -- partial results ------------------------------------------------------------


def test_reachable_deps_are_pinned_beside_an_unreachable_one() -> None:
    src = core_world()
    text = CORE_CMAKE + "FetchContent_Declare(gone GIT_REPOSITORY https://gone.example/g.git)\n"
    core = Tree(commit=sha(2), committed=2, cmake_files=(cm("CMakeLists.txt", text),))
    src.repo(f"{ORG}/core", {}, {sha(2): core})
    with pytest.raises(ResolveError, match="gone: cannot list 'HEAD'"):
        run(src, req("core"))
    res = run(src, req("core"), req("absent"), strict=False)
    assert sorted(p.name for p in res.pins) == ["core", "pybind11"]
    assert [w for w, _ in res.failures] == ["core: what its CMake files fetch", "absent"]
    assert "gone.example/g.git" in res.failures[0][1]
    assert all("\n" not in why for _, why in res.failures)


def test_dep_whose_submodule_cannot_be_read_is_left_out() -> None:
    dep = Tree(
        commit=sha(30),
        committed=3,
        gitlinks=(("ext/sub", sha(40)),),
        gitmodules=(("ext/sub", "path", "ext/sub"), ("ext/sub", "url", "../missing.git")),
    )
    src = core_world()
    src.repo(PYBIND, {}, {sha(30): dep})
    res = run(src, req("core"), strict=False)
    assert [p.name for p in res.pins] == ["core"]
    ((what, why),) = res.failures
    assert what == "core: what its CMake files fetch" and "submodule ext/sub" in why


def test_strict_by_default_and_complete_runs_have_no_failures() -> None:
    res = run(core_world(), req("core"), strict=False)
    assert res.failures == ()
    assert sorted(p.name for p in res.pins) == ["core", "pybind11"]


# -- mirror prefixes ---------------------------------------------------------------


def test_mirror_prefix_matches_on_path_boundaries() -> None:
    mirrors = (("https://github.com/google", "http://m/google"),)
    assert git.fetch_url("https://github.com/google/re2", mirrors) == "http://m/google/re2"
    assert git.fetch_url("https://github.com/google", mirrors) == "http://m/google"
    other = "https://github.com/googleapis/googleapis"
    assert git.fetch_url(other, mirrors) == other
    slash = (("https://github.com/", "http://m/gh/"),)
    assert git.fetch_url("https://github.com/googleapis/x", slash) == "http://m/gh/googleapis/x"


def test_deep_check_uses_the_same_matcher() -> None:
    assert vars(deeplive)["fetch_url"] is git.fetch_url


segment = st.from_regex(r"[a-z0-9-]{1,6}", fullmatch=True)


@given(st.lists(segment, min_size=1, max_size=4), st.lists(segment, min_size=1, max_size=4))
def test_a_prefix_never_cuts_a_path_segment(prefix: list[str], path: list[str]) -> None:
    base = "https://h/" + "/".join(prefix)
    url = "https://h/" + "/".join(path)
    got = git.fetch_url(url, ((base, "http://m"),))
    covered = url == base or url.startswith(base + "/")
    assert got == ("http://m" + url[len(base) :] if covered else url)


# -- files named *.cmake that are not CMake -----------------------------------------


def test_third_party_file_that_is_not_cmake_is_skipped_and_said() -> None:
    """curl ships docs/INSTALL.cmake (prose): never reached, so never read; a dependency's
    unreadable file that is reached is skipped and said."""
    prose = "_ how to install\n  run cmake\n"
    follow = f"FetchContent_Declare(eigen GIT_REPOSITORY {EIGEN} GIT_TAG master)\n"
    src = core_world(cm("docs/INSTALL.cmake", prose), cm("CMakeLists.txt", follow))
    said: list[str] = []
    res = run(src, req("core"), progress=said.append)
    assert {p.name for p in res.pins} == {"core", "pybind11", "eigen"}
    assert not any("INSTALL.cmake" in m for m in said), said
    reached = cm("CMakeLists.txt", follow + "include(docs/INSTALL.cmake)\n")
    src = core_world(cm("docs/INSTALL.cmake", prose), reached)
    res = run(src, req("core"), progress=said.append)
    assert {p.name for p in res.pins} == {"core", "pybind11", "eigen"}
    assert any(m.startswith("skip pybind11:docs/INSTALL.cmake: cannot read") for m in said), said


def test_a_triton_repo_file_that_is_not_cmake_is_an_error() -> None:
    src = FakeSource()
    files = (cm("CMakeLists.txt", "include(x.cmake)\n"), cm("x.cmake", "_ prose\n"))
    tree = Tree(commit=sha(2), committed=2, cmake_files=files)
    src.repo(f"{ORG}/core", {"refs/heads/r25.04": sha(2)}, {sha(2): tree})
    with pytest.raises(SourceError, match=r"x.cmake: cannot read CMake"):
        run(src, req("core"))


@pytest.mark.parametrize(
    ("path", "is_cmake"),
    [
        ("CMakeLists.txt", True),
        ("cmake/FindFoo.cmake", True),
        ("evconfig-private.h.cmake", False),
        ("include/config.hpp.cmake", False),
        ("h.cmake", True),
    ],
)
def test_configure_templates_are_not_cmake_files(path: str, is_cmake: bool) -> None:
    from tritonlock.upstream.cmake import is_cmake_file

    assert is_cmake_file(path) is is_cmake


@pytest.mark.parametrize("folder", ["samples/integration", "testing", "example", "doc"])
def test_third_party_samples_and_testing_folders_are_not_built(folder: str) -> None:
    """azure-sdk-for-cpp's samples/ FetchContent'd another release of itself."""
    follow = f"FetchContent_Declare(eigen GIT_REPOSITORY {EIGEN} GIT_TAG master)\n"
    src = core_world(cm(f"{folder}/CMakeLists.txt", follow))
    res = run(src, req("core"))
    assert {p.name for p in res.pins} == {"core", "pybind11"}


def test_a_tag_set_differently_under_an_undecided_if_says_so() -> None:
    text = (
        "if(Eigen_FOUND)\n  set(T v1)\nelse()\n  set(T v2)\nendif()\n"
        f"FetchContent_Declare(eigen GIT_REPOSITORY {EIGEN} GIT_TAG ${{T}})\n"
    )
    src = core_world(cm("CMakeLists.txt", text))
    with pytest.raises(
        ResolveError,
        match=r"pybind11:CMakeLists.txt:6: eigen uses \$\{T\}, which is set differently under an "
        r"if\(\)",
    ):
        run(src, req("core"))
