"""The pure parts of `verify --deep`: planning, judging answers, order, option parsing."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.commands.verify import deep_options
from tritonlock.errors import UsageError
from tritonlock.model import (
    Commit,
    Digest,
    GitPin,
    ImagePin,
    Index,
    Inputs,
    Lock,
    Sha256,
    Submodule,
    UrlPin,
    WheelFile,
    WheelPin,
)
from tritonlock.util.store import default_root
from tritonlock.verify.apt import AptAnswer
from tritonlock.verify.deep import Check, DeepReport, Listed, Outcome, Unavailable, plan, run_checks

A, B, C = Commit("a" * 40), Commit("b" * 40), Commit("c" * 40)
D1, D2 = (Digest(f"sha256:{x * 64}") for x in "12")
D3 = Sha256("sha256:" + "3" * 64)
S1, S2 = "4" * 64, "5" * 64
WHEEL = "demo-1.0-py3-none-any.whl"


@dataclass
class Fake:
    """Sources answering from dictionaries; records what was asked."""

    gone: set[tuple[str, str]] = field(default_factory=set)
    refs: dict[tuple[str, str], str | None] = field(default_factory=dict)
    listings: dict[tuple[str, str], dict[str, Listed] | None] = field(default_factory=dict)
    manifests: dict[tuple[str, str], str] = field(default_factory=dict)
    files: dict[str, tuple[str, int]] = field(default_factory=dict)
    asked: list[tuple[str, ...]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _ask(self, *what: str) -> None:
        with self._lock:
            self.asked.append(what)

    def git_commit(self, url: str, commit: str) -> None:
        self._ask("git", url, commit)
        if (url, commit) in self.gone:
            raise Unavailable("commit not available")

    def git_ref(self, url: str, ref: str) -> str | None:
        self._ask("ref", url, ref)
        if (url, ref) not in self.refs:
            raise Unavailable("unreachable")
        return self.refs[(url, ref)]

    def index_files(
        self, index: str, project: str, wanted: frozenset[str]
    ) -> Mapping[str, Listed] | None:
        self._ask("index", index, project)
        return self.listings.get((index, project))

    def manifest(self, ref: str, reference: str) -> str:
        self._ask("manifest", ref, reference)
        if (ref, reference) not in self.manifests:
            raise Unavailable("not found (404)")
        return self.manifests[(ref, reference)]

    def download(self, url: str) -> tuple[str, int]:
        self._ask("download", url)
        if url not in self.files:
            raise Unavailable(f"URL {url}: server answered 404")
        return self.files[url]

    def apt(self, lock: Lock) -> AptAnswer:
        raise AssertionError("these locks pin no apt packages")


def make_lock(**kw: object) -> Lock:
    base: dict[str, object] = {
        "inputs": Inputs(release="25.04", target="x86_64"),
        "git": (
            GitPin(
                name="server",
                url="https://h/server.git",
                ref="r25.04",
                commit=A,
                submodules=(
                    Submodule(path="x", url="https://h/sub.git", commit=B),
                    Submodule(path="y/x", url="https://H/sub", commit=B),
                ),
            ),
            GitPin(name="sub", url="https://h/sub.git", ref=B, commit=B),
        ),
        "index": (Index(name="pypi", url="https://pypi.org/simple/"),),
        "wheel": (
            WheelPin(
                step="final",
                image="final",
                name="demo",
                version="1.0",
                index="pypi",
                files=(WheelFile(name=WHEEL, sha256=Sha256(f"sha256:{S1}"), size=10),),
            ),
        ),
        "image": (
            ImagePin(role="base", ref="nvcr.io/x/y:t", digest=D1, index_digest=D2, platform="p"),
        ),
        "url": (UrlPin(url="https://f/x.tgz", sha256=D3, size=7),),
    }
    base.update(kw)
    return Lock(**base)  # type: ignore[arg-type]


def healthy() -> Fake:
    return Fake(
        refs={("https://h/server.git", "r25.04"): A},
        listings={("pypi", "demo"): {WHEEL: Listed(S1, 10)}},
        manifests={
            ("nvcr.io/x/y:t", D1): D1,
            ("nvcr.io/x/y:t", D2): D2,
            ("nvcr.io/x/y:t", "t"): D2,
        },
        files={"https://f/x.tgz": (D3, 7)},
    )


def check(lock: Lock, src: Fake, jobs: int = 4) -> DeepReport:
    return run_checks(plan(lock), src, jobs=jobs)


def test_healthy_world_has_no_problem_and_no_note() -> None:
    report = check(make_lock(), healthy())
    assert report.ok and report.notes == ()
    assert report.to_json() == {"ok": True, "checked": 6, "problems": [], "notes": []}


def test_one_fetch_per_repository_and_commit() -> None:
    """Three places name sub.git at B (spelled differently): one fetch, all paths reported."""
    src = healthy()
    src.gone = {("https://h/sub.git", B)}
    report = check(make_lock(), src)
    assert sum(1 for a in src.asked if a[0] == "git") == 2
    assert report.problems == (
        "git[0].submodules[0].commit: bbbbbbbbbbbb… is not served by https://h/sub.git: "
        "commit not available",
        "git[0].submodules[1].commit: bbbbbbbbbbbb… is not served by https://h/sub.git: "
        "commit not available",
        "git[1].commit: bbbbbbbbbbbb… is not served by https://h/sub.git: commit not available",
    )


def test_refs_that_are_commits_are_not_listed() -> None:
    src = healthy()
    check(make_lock(), src)
    assert [a for a in src.asked if a[0] == "ref"] == [("ref", "https://h/server.git", "r25.04")]


@pytest.mark.parametrize(
    ("now", "note"),
    [
        (C, "git[0].ref: r25.04 has moved to cccccccccccc since the lock (pinned aaaaaaaaaaaa)"),
        (None, "git[0].ref: https://h/server.git no longer has a branch or tag 'r25.04'"),
    ],
)
def test_a_moved_or_deleted_ref_is_only_a_note(now: str | None, note: str) -> None:
    src = healthy()
    src.refs[("https://h/server.git", "r25.04")] = now
    report = check(make_lock(), src)
    assert report.ok
    assert report.notes == (note,)


def test_unlistable_ref_is_a_note_too() -> None:
    src = healthy()
    del src.refs[("https://h/server.git", "r25.04")]
    report = check(make_lock(), src)
    assert report.ok
    assert report.notes == (
        "git[0].ref: cannot list 'r25.04' of https://h/server.git: unreachable",
    )


@pytest.mark.parametrize(
    ("listing", "problem"),
    [
        (None, "wheel[0].name: index 'pypi' no longer has demo"),
        ({}, f"wheel[0].files[0].name: {WHEEL} is no longer listed by index 'pypi'"),
        (
            {WHEEL: Listed(S2, 10)},
            f"wheel[0].files[0].sha256: index 'pypi' lists {WHEEL} with sha256:{S2}; "
            f"the lock has sha256:{S1}",
        ),
        (
            {WHEEL: Listed(S1, 11)},
            f"wheel[0].files[0].size: index 'pypi' lists {WHEEL} with 11 bytes; the lock has 10",
        ),
    ],
)
def test_wheel_problems(listing: dict[str, Listed] | None, problem: str) -> None:
    src = healthy()
    src.listings[("pypi", "demo")] = listing
    assert check(make_lock(), src).problems == (problem,)


def test_unknown_size_and_yanked_file() -> None:
    src = healthy()
    src.listings[("pypi", "demo")] = {WHEEL: Listed(S1, None, yanked=True)}
    report = check(make_lock(), src)
    assert report.ok
    assert report.notes == (f"wheel[0].files[0].name: {WHEEL} is yanked on index 'pypi'",)


def test_index_url_from_options_and_missing_url() -> None:
    lock = make_lock(index=(Index(name="pypi"),))
    with pytest.raises(UsageError, match=r"wheel\[0\].index: .* pass --index-url pypi=URL"):
        plan(lock)
    assert len(plan(lock, index_urls={"pypi": "https://mirror/simple"})) == 6


def test_image_digest_gone_and_tag_rebuilt() -> None:
    src = healthy()
    del src.manifests[("nvcr.io/x/y:t", D2)]
    src.manifests[("nvcr.io/x/y:t", "t")] = D3
    report = check(make_lock(), src)
    assert report.problems == (
        f"image[0].index-digest: {D2} of nvcr.io/x/y:t is gone: not found (404)",
    )
    assert report.notes == (
        f"image[0].ref: nvcr.io/x/y:t was rebuilt under the same tag: it now points at {D3} "
        f"(the lock has {D2})",
    )


def test_image_by_digest_has_no_tag_to_follow() -> None:
    ref = f"nvcr.io/x/y@{D1}"
    src = Fake(manifests={(ref, D1): D1})
    lock = make_lock(
        git=(), wheel=(), url=(), image=(ImagePin(role="b", ref=ref, digest=D1, platform="p"),)
    )
    report = check(lock, src)
    assert report.ok and report.notes == ()
    assert src.asked == [("manifest", ref, D1)]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (
            (D1, 7),
            f"url[0].sha256: https://f/x.tgz now hashes to {D1} (7 bytes); "
            f"the lock has {D3} (7 bytes)",
        ),
        ((D3, 8), "url[0].size: https://f/x.tgz is now 8 bytes; the lock has 7"),
        (None, "url[0].url: URL https://f/x.tgz: server answered 404"),
    ],
)
def test_download_problems(answer: tuple[str, int] | None, problem: str) -> None:
    src = healthy()
    if answer is None:
        del src.files["https://f/x.tgz"]
    else:
        src.files["https://f/x.tgz"] = answer
    assert check(make_lock(), src).problems == (problem,)


def test_plain_http_download_needs_allow_http() -> None:
    lock = make_lock(url=(UrlPin(url="http://f/x.tgz", sha256=D3, size=7),))
    with pytest.raises(UsageError, match="plain http"):
        plan(lock)
    assert len(plan(lock, allow_http=True)) == 6


def _outcome(i: int, kind: int, _src: object) -> Outcome:
    return Outcome(problems=(f"p{i}",) * (kind % 2), notes=(f"n{i}",) * (kind // 2))


@given(st.lists(st.integers(0, 3), max_size=20), st.integers(1, 8))
def test_results_keep_the_order_of_checks(kinds: list[int], jobs: int) -> None:
    checks = [Check(str(i), partial(_outcome, i, k)) for i, k in enumerate(kinds)]
    report = run_checks(checks, Fake(), jobs=jobs)
    assert report.checked == len(kinds)
    assert report.problems == tuple(f"p{i}" for i, k in enumerate(kinds) if k % 2)
    assert report.notes == tuple(f"n{i}" for i, k in enumerate(kinds) if k // 2)


def _args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = dict(
        jobs=8, git_mirror=[], registry_mirror=[], url_mirror=[], index_url=[],
        insecure_registry=[], ca_file=None, allow_http=False,
        apt_archive="https://snapshot.ubuntu.com", cache_dir=None, no_cache=False,
    )  # fmt: skip
    base.update(kw)
    return argparse.Namespace(**base)


def test_deep_options_parse_mirrors_and_indexes() -> None:
    opts = deep_options(
        _args(
            git_mirror=["https://github.com/=https://git.example/"],
            registry_mirror=["nvcr.io=mirror.example:5000/nv"],
            url_mirror=["https://a.example/=https://b.example/"],
            index_url=["jetson=https://u:t@jetson.example/simple"],
            jobs=2,
        )
    )
    assert opts.git_mirrors == (("https://github.com/", "https://git.example/"),)
    assert opts.registry_mirrors == (("nvcr.io", "mirror.example:5000/nv"),)
    assert opts.index_urls == (("jetson", "https://u:t@jetson.example/simple"),)
    assert opts.jobs == 2
    assert opts.cache_dir == default_root()


def test_deep_options_name_the_cache_unless_no_cache(tmp_path: Path) -> None:
    assert deep_options(_args(cache_dir=tmp_path)).cache_dir == tmp_path
    assert deep_options(_args(cache_dir=tmp_path, no_cache=True)).cache_dir is None


@pytest.mark.parametrize(
    "kw",
    [
        {"jobs": 0},
        {"index_url": ["https://pypi.org/simple"]},
        {"index_url": ["Bad Name=https://x/simple"]},
        {"git_mirror": ["nonsense"]},
        {"registry_mirror": ["a@b=c"]},
        {"url_mirror": ["https://a/=http://b/"]},
    ],
)
def test_bad_deep_options_are_usage_errors(kw: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        deep_options(_args(**kw))


def test_credentials_never_echoed_in_index_url_errors() -> None:
    with pytest.raises(UsageError) as err:
        deep_options(_args(index_url=["https://user:s3cret@x/simple"]))
    assert "s3cret" not in str(err.value)


def test_an_abbreviated_commit_ref_is_not_a_missing_branch() -> None:
    """A CMake ``GIT_TAG 3e9dfa2`` pin has no branch or tag of that name; its commit is
    what matters, and that is checked on its own."""
    src = healthy()
    lock = make_lock()
    server = replace(lock.git[0], ref=A[:7])
    lock = replace(lock, git=(server, *lock.git[1:]))
    src.refs[("https://h/server.git", A[:7])] = None
    report = check(lock, src)
    assert report.ok and report.notes == ()
    assert ("git", "https://h/server.git", A) in src.asked
