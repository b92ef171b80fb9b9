"""resolve_git's logic against an in-memory source: refs, dedupe, names, faults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tritonlock.errors import ResolveError, SourceError, UsageError
from tritonlock.lockfile import seal
from tritonlock.lockfile.schema import problems
from tritonlock.model import Commit, GitPin, Inputs, Lock
from tritonlock.resolve import git
from tritonlock.resolve.git import GitRequest, resolve_git
from tritonlock.sources.gitclient import GitFailed, Tree

ORG = "https://github.com/triton-inference-server"


def sha(n: int) -> Commit:
    return Commit(f"{n:040x}")


@dataclass
class FakeSource:
    """Remotes in memory: url -> refs and commit -> Tree; counts what was asked."""

    refs: dict[str, dict[str, str]] = field(default_factory=dict)
    trees: dict[str, dict[str, Tree]] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    listed: list[str] = field(default_factory=list)
    fetched: list[tuple[str, str, str]] = field(default_factory=list)
    histories: list[tuple[str, str, str]] = field(default_factory=list)
    expansions: dict[tuple[str, str], str] = field(default_factory=dict)

    def repo(self, url: str, refs: Mapping[str, str], trees: Mapping[str, Tree] = {}) -> None:
        url = git.norm(url)
        self.refs.setdefault(url, {}).update(refs)
        known = self.trees.setdefault(url, {})
        known.update({c: Tree(commit=c, committed=1) for c in refs.values()})
        known.update(trees)

    def ls_remote(self, fetch_url: str, patterns: list[str]) -> list[tuple[str, str]]:
        self.listed.append(fetch_url)
        if git.norm(fetch_url) not in self.refs:
            raise GitFailed("unreachable")
        return sorted(self.refs[git.norm(fetch_url)].items())

    def cached_tree(self, url: str, commit: str) -> Tree | None:
        return None

    def read_tree(self, url: str, fetch_url: str, commit: str, want: str) -> Tree:
        self.fetched.append((url, fetch_url, want))
        if want in self.moved:
            raise GitFailed(f"moved to {self.moved[want]}")
        try:
            return self.trees[git.norm(fetch_url)][commit]
        except KeyError:
            raise GitFailed("commit not available") from None

    def cached_commit(self, url: str, abbrev: str) -> str | None:
        return self.expansions.get((url, abbrev))

    def expand(self, url: str, fetch_url: str, abbrev: str) -> tuple[str, ...]:
        self.histories.append((url, fetch_url, abbrev))
        if git.norm(fetch_url) not in self.refs:
            raise GitFailed("unreachable")
        found = tuple(sorted(c for c in self.trees[git.norm(fetch_url)] if c.startswith(abbrev)))
        if len(found) == 1:
            self.expansions[(url, abbrev)] = found[0]
        return found


def run(src: FakeSource, *reqs: GitRequest, **kw: object) -> git.GitResolution:
    return resolve_git(list(reqs), cache_dir=Path("/nonexistent"), source=src, **kw)  # type: ignore[arg-type]


def req(name: str, ref: str = "r25.04", url: str | None = None) -> GitRequest:
    return GitRequest(name=name, url=url or f"{ORG}/{name}", ref=ref)


def cm(path: str, text: str) -> tuple[str, str]:
    return (path, text)


SERVER_CMAKE = """set(TRITON_REPO_ORGANIZATION "@ORG@" CACHE STRING "")
set(TRITON_CORE_REPO_TAG "main" CACHE STRING "")
FetchContent_Declare(repo-core
  GIT_REPOSITORY ${TRITON_REPO_ORGANIZATION}/core.git
  GIT_TAG ${TRITON_CORE_REPO_TAG})
ExternalProject_Add(grpc-repo GIT_REPOSITORY "https://github.com/grpc/grpc.git" GIT_TAG "v1.54.3")
FetchContent_Declare(googletest URL https://h.example/gtest.zip)
""".replace("@ORG@", ORG)


def world() -> FakeSource:
    src = FakeSource()
    server = Tree(commit=sha(1), committed=100, cmake_files=(cm("CMakeLists.txt", SERVER_CMAKE),))
    src.repo(f"{ORG}/server", {"refs/heads/r25.04": sha(1)}, {sha(1): server})
    src.repo(f"{ORG}/core", {"refs/heads/r25.04": sha(2), "refs/heads/main": sha(3)})
    grpc = Tree(
        commit=sha(5),
        committed=50,
        gitlinks=(("third_party/abseil-cpp", sha(6)),),
        gitmodules=(
            ("third_party/abseil-cpp", "path", "third_party/abseil-cpp"),
            ("third_party/abseil-cpp", "url", "../abseil-cpp.git"),
        ),
    )
    src.repo(
        "https://github.com/grpc/grpc.git",
        {"refs/tags/v1.54.3": sha(4), "refs/tags/v1.54.3^{}": sha(5)},
        {sha(5): grpc},
    )
    src.repo(
        "https://github.com/grpc/abseil-cpp.git", {}, {sha(6): Tree(commit=sha(6), committed=1)}
    )
    return src


def test_pick_ref_prefers_branches_and_peels_tags() -> None:
    listing = [
        ("refs/heads/v1", sha(1)),
        ("refs/tags/v1", sha(2)),
        ("refs/tags/v2", sha(3)),
        ("refs/tags/v2^{}", sha(4)),
        ("refs/pull/7/head", sha(5)),
        ("refs/heads/x/v3", sha(6)),
    ]
    assert git.pick_ref("v1", listing) == ("refs/heads/v1", sha(1))
    assert git.pick_ref("v2", listing) == ("refs/tags/v2", sha(4))
    assert git.pick_ref("pull/7/head", listing) == ("refs/pull/7/head", sha(5))
    assert git.pick_ref("refs/tags/v1", listing) == ("refs/tags/v1", sha(2))
    assert git.pick_ref("v3", listing) is None


def test_parse_mirror_and_longest_prefix() -> None:
    assert git.parse_mirror("https://github.com/=git://m/gh/") == (
        "https://github.com/",
        "git://m/gh/",
    )
    mirrors = [("https://github.com/", "git://m/gh/"), (f"{ORG}/", "http://m/triton/")]
    assert git.fetch_url(f"{ORG}/core", mirrors) == "http://m/triton/core"
    assert git.fetch_url("https://github.com/grpc/grpc", mirrors) == "git://m/gh/grpc/grpc"
    assert git.fetch_url("https://gitlab.com/x", mirrors) == "https://gitlab.com/x"


@pytest.mark.parametrize(
    "spec", ["nomirror", "=x", "https://a=", "https://a=ext::sh -c x", "https://a=--upload-pack=x"]
)
def test_parse_mirror_rejects(spec: str) -> None:
    with pytest.raises(UsageError, match="--git-mirror"):
        git.parse_mirror(spec)


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch% /tmp/pwned",
        "--upload-pack=touch /tmp/pwned",
        "-oProxyCommand=touch /tmp/pwned",
        "fd::17",
        "https://github.com/a b",
        "ssh://git@github.com/x",
        "https://user:token@github.com/x",
    ],
)
def test_injection_urls_are_usage_errors_before_any_git(url: str) -> None:
    src = FakeSource()
    with pytest.raises(UsageError) as err:
        run(src, req("server", url=url))
    assert src.listed == []
    assert "token" not in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("ref", ["-b", "a..b", "x.lock", "--upload-pack=x", ""])
def test_bad_refs_are_usage_errors(ref: str) -> None:
    with pytest.raises(UsageError, match="ref"):
        run(FakeSource(), req("server", ref=ref))


def test_triton_repo_fetched_by_cmake_dedupes_into_one_pin() -> None:
    src = world()
    res = run(src, req("server"), req("core"), variables={"TRITON_CORE_REPO_TAG": "r25.04"})
    pins = {p.name: p for p in res.pins}
    assert sorted(pins) == ["core", "grpc", "server"]
    assert pins["core"].commit == sha(2)
    assert pins["core"].found_in == ("inputs", "server:CMakeLists.txt:3")
    assert pins["grpc"].ref == "v1.54.3" and pins["grpc"].commit == sha(5)
    assert pins["grpc"].found_in == ("server:CMakeLists.txt:6",)
    assert pins["grpc"].submodules[0].url == "https://github.com/grpc/abseil-cpp.git"
    assert pins["grpc"].submodules[0].path == "third_party/abseil-cpp"
    assert pins["server"].committed == 100
    assert res.url_requests == (("https://h.example/gtest.zip", "server:CMakeLists.txt:7"),)
    lock = Lock(inputs=Inputs(release="25.04", target="x86_64"), git=res.pins)
    assert problems(seal(lock).to_dict()) == []


def test_same_triton_repo_at_two_commits_is_an_error() -> None:
    with pytest.raises(ResolveError, match=r"core: .*inputs.*server:CMakeLists.txt:3 \(main\)"):
        run(world(), req("server"), req("core"))


def test_follow_cmake_off_pins_only_the_requests() -> None:
    res = run(world(), req("server"), follow_cmake=False)
    assert [p.name for p in res.pins] == ["server"]


def test_missing_branch_names_repo_and_ref() -> None:
    src = world()
    with pytest.raises(ResolveError) as err:
        run(src, req("core", ref="r25.08"))
    assert "core" in str(err.value) and "r25.08" in str(err.value)


def test_unreachable_names_repo_ref_and_mirror() -> None:
    src = world()
    mirrors = [(ORG, "http://127.0.0.1:9/org")]
    with pytest.raises(
        ResolveError, match=r"server: cannot list 'r25.04'.*via mirror http://127.0.0.1:9/org"
    ):
        run(src, req("server"), mirrors=mirrors)


def test_mirror_changes_bytes_not_identity() -> None:
    src = world()
    for url in list(src.refs):
        mirrored = url.replace("https://github.com", "git://m")
        src.refs[mirrored] = src.refs.pop(url)
        src.trees[mirrored] = src.trees.pop(url)
    res = run(
        src,
        req("server"),
        req("core"),
        variables={"TRITON_CORE_REPO_TAG": "r25.04"},
        mirrors=[("https://github.com", "git://m")],
    )
    assert all(p.url.startswith("https://github.com/") for p in res.pins)
    assert all(fetch.startswith("git://m/") for _, fetch, _ in src.fetched)


def test_mirror_lacking_a_submodule_commit_is_an_error_without_fallback() -> None:
    src = world()
    src.trees["https://github.com/grpc/abseil-cpp"] = {}
    with pytest.raises(ResolveError, match=r"submodule third_party/abseil-cpp: cannot fetch"):
        run(src, req("server"), variables={"TRITON_CORE_REPO_TAG": "r25.04"})


def test_tag_moved_since_previous_lock() -> None:
    old = GitPin(name="grpc", url="https://github.com/grpc/grpc.git", ref="v1.54.3", commit=sha(9))
    with pytest.raises(ResolveError, match=r"tag v1.54.3 .* moved: the previous lock pinned"):
        run(world(), req("server"), variables={"TRITON_CORE_REPO_TAG": "r25.04"}, previous=[old])


def test_branch_moved_since_previous_lock_is_an_update() -> None:
    old = GitPin(name="server", url=f"{ORG}/server", ref="r25.04", commit=sha(9))
    res = run(world(), req("server"), follow_cmake=False, previous=[old])
    assert res.pins[0].commit == sha(1)


def test_ref_moved_between_ls_remote_and_fetch() -> None:
    src = world()
    src.moved["refs/heads/r25.04"] = sha(8)
    with pytest.raises(ResolveError, match=r"server r25.04: refs/heads/r25.04 .* moved during"):
        run(src, req("server"), follow_cmake=False)


def test_missing_cmake_variable_names_file_and_line() -> None:
    src = world()
    src.trees[f"{ORG}/server"][sha(1)] = Tree(
        commit=sha(1),
        committed=1,
        cmake_files=(
            cm("CMakeLists.txt", "add_subdirectory(src)"),
            cm(
                "src/CMakeLists.txt",
                "\nFetchContent_Declare(repo-common GIT_REPOSITORY ${ORG}/common.git)",
            ),
        ),
    )
    with pytest.raises(
        ResolveError, match=r"server:src/CMakeLists.txt:2: repo-common uses \$\{ORG\}"
    ):
        run(src, req("server"))


def test_subdirectory_inherits_parent_scope() -> None:
    src = world()
    files = (
        cm(
            "CMakeLists.txt",
            'set(TRITON_REPO_ORGANIZATION "https://github.com/triton-inference-server")\n'
            "add_subdirectory(src)",
        ),
        cm(
            "src/CMakeLists.txt",
            "FetchContent_Declare(repo-core\n"
            "  GIT_REPOSITORY ${TRITON_REPO_ORGANIZATION}/core GIT_TAG r25.04)",
        ),
    )
    src.trees[f"{ORG}/server"][sha(1)] = Tree(commit=sha(1), committed=1, cmake_files=files)
    res = run(src, req("server"))
    assert {p.name: p.found_in for p in res.pins}["core"] == ("server:src/CMakeLists.txt:1",)


def test_same_dep_at_two_commits_gets_two_names() -> None:
    src = world()
    text = (
        "FetchContent_Declare(pybind11 GIT_REPOSITORY https://github.com/pybind/pybind11\n"
        f'  GIT_TAG "{sha(20)}")\n'
        "FetchContent_Declare(pybind11 GIT_REPOSITORY https://github.com/pybind/pybind11.git\n"
        "  GIT_TAG v2.13.1)\n"
    )
    src.trees[f"{ORG}/server"][sha(1)] = Tree(
        commit=sha(1), committed=1, cmake_files=(cm("CMakeLists.txt", text),)
    )
    src.repo("https://github.com/pybind/pybind11", {}, {sha(20): Tree(commit=sha(20), committed=1)})
    src.repo("https://github.com/pybind/pybind11.git", {"refs/tags/v2.13.1": sha(21)})
    res = run(src, req("server"))
    got = sorted((p.name, p.ref, p.commit) for p in res.pins if p.name.startswith("pybind11"))
    assert got == [("pybind11", "v2.13.1", sha(21)), (f"pybind11-{sha(20)}", sha(20), sha(20))]


def _with_submodules(
    src: FakeSource, modules: tuple[tuple[str, str, str], ...], links: tuple[tuple[str, str], ...]
) -> None:
    src.trees[f"{ORG}/server"][sha(1)] = Tree(
        commit=sha(1), committed=1, gitlinks=links, gitmodules=modules
    )


@pytest.mark.parametrize(
    ("path", "why"), [("../escape", "escapes"), ("/abs", "absolute"), ("a/.git/x", ".git")]
)
def test_escaping_submodule_paths_are_refused(path: str, why: str) -> None:
    src = world()
    _with_submodules(src, (("x", "path", path), ("x", "url", "../x.git")), (("x", sha(30)),))
    with pytest.raises(SourceError, match=why):
        run(src, req("server"))


def test_unsafe_submodule_url_is_refused() -> None:
    src = world()
    _with_submodules(
        src, (("x", "path", "x"), ("x", "url", "--upload-pack=touch /tmp/p")), (("x", sha(30)),)
    )
    with pytest.raises(SourceError, match="unsafe url"):
        run(src, req("server"))


def test_nested_relative_submodules_flatten_and_cycles_fail() -> None:
    src = world()
    _with_submodules(
        src, (("lib", "path", "deps/lib"), ("lib", "url", "./sub/lib")), (("deps/lib", sha(31)),)
    )
    lib = Tree(
        commit=sha(31),
        committed=1,
        gitlinks=(("inner", sha(32)),),
        gitmodules=(("inner", "path", "inner"), ("inner", "url", "../../inner.git")),
    )
    src.repo(f"{ORG}/server/sub/lib", {}, {sha(31): lib})
    src.repo(f"{ORG}/server/inner.git", {}, {sha(32): Tree(commit=sha(32), committed=1)})
    res = run(src, req("server"))
    subs = [(s.path, s.url, s.commit) for s in res.pins[0].submodules]
    assert subs == [
        ("deps/lib", f"{ORG}/server/sub/lib", sha(31)),
        ("deps/lib/inner", f"{ORG}/server/inner.git", sha(32)),
    ]
    cyc = Tree(
        commit=sha(32),
        committed=1,
        gitlinks=(("again", sha(1)),),
        gitmodules=(("again", "path", "again"), ("again", "url", f"{ORG}/server")),
    )
    src.trees[f"{ORG}/server/inner"][sha(32)] = cyc
    with pytest.raises(SourceError, match="submodule cycle"):
        run(src, req("server"))


def test_gitlink_without_url_is_an_error() -> None:
    src = world()
    _with_submodules(src, (), (("orphan", sha(30)),))
    with pytest.raises(SourceError, match="orphan has no url"):
        run(src, req("server"))


def test_commit_ref_is_checked_by_fetching_it() -> None:
    src = world()
    res = run(src, req("server", ref=sha(1)), follow_cmake=False)
    assert res.pins[0].commit == sha(1) and src.listed == []
    with pytest.raises(ResolveError, match="commit not available"):
        run(src, req("server", ref=sha(77)), follow_cmake=False)


def test_function_templates_with_unknown_arguments_are_skipped_and_said() -> None:
    src = world()
    text = "macro(dep n)\n  FetchContent_Declare(${n} GIT_REPOSITORY https://h/${n})\nendmacro()\n"
    src.trees[f"{ORG}/server"][sha(1)] = Tree(
        commit=sha(1), committed=1, cmake_files=(cm("cmake/deps.cmake", text),)
    )
    said: list[str] = []
    res = run(src, req("server"), progress=said.append)
    assert [p.name for p in res.pins] == ["server"]
    assert any(m.startswith("skip server:cmake/deps.cmake:2") for m in said), said
