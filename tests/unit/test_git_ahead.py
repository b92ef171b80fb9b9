"""resolve_git reads each tree the moment its commit is known, not when the run's
submission order reaches it; what the run records stays the same."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tests.unit.test_git_resolve import ORG, FakeSource, req, run, sha
from tritonlock.resolve import git
from tritonlock.sources.gitclient import Tree

SUB = "https://github.com/deps/sub.git"


@dataclass
class HeldFirst(FakeSource):
    """``slow``'s ls-remote answers only once the submodule tree of the repo asked after
    it is being read (or gives up after 10 s and fails the test)."""

    sub_read: threading.Event = field(default_factory=threading.Event)
    waited: list[bool] = field(default_factory=list)

    def ls_remote(self, fetch_url: str, patterns: list[str]) -> list[tuple[str, str]]:
        if fetch_url.endswith("/slow"):
            self.waited.append(self.sub_read.wait(10))
        return super().ls_remote(fetch_url, patterns)

    def read_tree(self, url: str, fetch_url: str, commit: str, want: str) -> Tree:
        if git.norm(url) == git.norm(SUB):
            self.sub_read.set()
        return super().read_tree(url, fetch_url, commit, want)


def held_world() -> HeldFirst:
    src = HeldFirst()
    src.repo(f"{ORG}/slow", {"refs/heads/r25.04": sha(1)})
    fast = Tree(
        commit=sha(2),
        committed=2,
        gitlinks=(("ext/sub", sha(3)),),
        gitmodules=(("ext/sub", "path", "ext/sub"), ("ext/sub", "url", SUB)),
    )
    src.repo(f"{ORG}/fast", {"refs/heads/r25.04": sha(2)}, {sha(2): fast})
    src.repo(SUB, {"refs/heads/main": sha(3)})
    return src


def test_a_submodule_tree_is_read_while_an_earlier_answer_is_awaited() -> None:
    src = held_world()
    res = run(src, req("slow"), req("fast"), jobs=4)
    assert src.waited == [True]
    assert [(p.name, [s.path for s in p.submodules]) for p in res.pins] == [
        ("fast", ["ext/sub"]),
        ("slow", []),
    ]
    # each tree read once: the run took the reads started ahead instead of asking again
    assert sorted(w for _u, _f, w in src.fetched) == sorted(
        ["refs/heads/r25.04", "refs/heads/r25.04", sha(3)]
    )


def test_the_same_resolution_with_one_job() -> None:
    # one worker: nothing runs ahead of the slow answer, and the result is the same
    src = held_world()
    src.sub_read.set()
    one = run(src, req("slow"), req("fast"), jobs=1)
    many = run(held_world(), req("slow"), req("fast"), jobs=4)
    assert one == many


@dataclass
class Cached(FakeSource):
    """A source whose cache already holds some trees (by canonical URL)."""

    cache: dict[tuple[str, str], Tree] = field(default_factory=dict)

    def cached_tree(self, url: str, commit: str) -> Tree | None:
        return self.cache.get((git.norm(url), commit))


PYB = "https://github.com/pyb/pyb.git"


def failing_deps(cached: bool) -> Cached:
    """core fetches pyb (reachable; its own CMake uses a variable nobody sets) and gone
    (unreachable); pyb's tree is in the cache or not."""
    src = Cached()
    text = (
        f"FetchContent_Declare(pyb GIT_REPOSITORY {PYB} GIT_TAG v2)\n"
        "FetchContent_Declare(gone GIT_REPOSITORY https://github.com/no/gone.git GIT_TAG v1)\n"
    )
    core = Tree(commit=sha(1), committed=1, cmake_files=(("CMakeLists.txt", text),))
    src.repo(f"{ORG}/core", {"refs/heads/r25.04": sha(1)}, {sha(1): core})
    unset = "FetchContent_Declare(x GIT_REPOSITORY ${PYB_UNSET}/x.git)\n"
    pyb = Tree(commit=sha(2), committed=2, cmake_files=(("CMakeLists.txt", unset),))
    src.repo(PYB, {"refs/heads/v2": sha(2)}, {sha(2): pyb})
    if cached:
        src.cache[(git.norm(PYB), sha(2))] = pyb
    return src


def test_failures_are_in_the_same_order_warm_or_cold() -> None:
    cold = run(failing_deps(cached=False), req("core"), jobs=4, strict=False)
    warm = run(failing_deps(cached=True), req("core"), jobs=4, strict=False)
    assert [what for what, _ in cold.failures] == [
        "core: what its CMake files fetch",
        "pyb: what its CMake files fetch",
    ]
    assert warm == cold
