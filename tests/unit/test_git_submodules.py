"""Submodule URL resolution and path checks (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.resolve.git import fetch_url, norm
from tritonlock.resolve.submodules import (
    SubmoduleProblem,
    lock_url,
    resolve_url,
    unsafe_path,
    unsafe_url,
)


@pytest.mark.parametrize(
    ("base", "rel", "want"),
    [
        (
            "https://github.com/grpc/grpc",
            "../abseil-cpp.git",
            "https://github.com/grpc/abseil-cpp.git",
        ),
        ("https://github.com/grpc/grpc.git", "../x", "https://github.com/grpc/x"),
        ("https://github.com/grpc/grpc/", "../../a/b", "https://github.com/a/b"),
        ("https://github.com/grpc/grpc", "./sub", "https://github.com/grpc/grpc/sub"),
        ("git://127.0.0.1:9418/org/r.git", ".././../x.git", "git://127.0.0.1:9418/x.git"),
        ("https://h/x", "https://other/y", "https://other/y"),
    ],
)
def test_relative_urls_resolve_as_git_does(base: str, rel: str, want: str) -> None:
    assert resolve_url(base, rel) == want


def test_relative_url_cannot_climb_above_the_host() -> None:
    with pytest.raises(SubmoduleProblem):
        resolve_url("https://github.com/grpc", "../../../x")


_seg = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,8}", fullmatch=True).filter(lambda s: s != "..")


@given(org=_seg, repo=_seg, other=_seg)
def test_sibling_urls_stay_on_the_host(org: str, repo: str, other: str) -> None:
    base = f"https://git.example/{org}/{repo}"
    got = resolve_url(base, f"../{other}")
    assert got == f"https://git.example/{org}/{other}"
    assert lock_url(got)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("third_party/abseil-cpp", False),
        ("a/b.c/d_e", False),
        ("../x", True),
        ("a/../../x", True),
        ("/abs", True),
        ("a//b", True),
        ("a/./b", True),
        (".git/hooks", True),
        ("a/.GIT", True),
        ("a b", True),
        ("", True),
    ],
)
def test_unsafe_paths(path: str, bad: bool) -> None:
    assert (unsafe_path(path) is not None) == bad


@pytest.mark.parametrize(
    "url",
    ["ext::sh -c x", "fd::3", "-u", "--upload-pack=x", "https://h/a\nb", "scp:host", "x"],
)
def test_unsafe_urls(url: str) -> None:
    assert unsafe_url(url) is not None


@pytest.mark.parametrize(
    "url", ["https://h/x", "http://127.0.0.1:8/x.git", "git://h/x", "ssh://git@h/x", "/srv/m"]
)
def test_safe_urls(url: str) -> None:
    assert unsafe_url(url) is None


def test_norm_and_mirror_prefix() -> None:
    assert norm("HTTPS://GitHub.com/Org/Repo.git/") == "https://github.com/Org/Repo"
    assert norm("https://github.com/org/repo") == norm("https://github.com/org/repo.git")
    mirrors = [("https://github.com/", "/srv/gh/")]
    assert fetch_url("https://github.com/a/b", mirrors) == "/srv/gh/a/b"
