"""Pure parts of URL pinning: mirror specs, URL checks, mirror rewriting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.errors import UsageError
from tritonlock.sources.mirrors import rewrite as mirrored
from tritonlock.sources.urls import check_url, parse_url_mirror, resolve_urls


def test_parse_url_mirror() -> None:
    assert parse_url_mirror("https://github.com/=http://127.0.0.1:8080/gh/") == (
        "https://github.com/",
        "http://127.0.0.1:8080/gh/",
    )


@pytest.mark.parametrize(
    "spec",
    [
        "https://github.com/",
        "github.com=mirror",
        "https://a/=ftp://b/",
        "https://a/=https://u:p@b/",
    ],
)
def test_parse_url_mirror_rejects(spec: str) -> None:
    with pytest.raises(UsageError, match="--url-mirror"):
        parse_url_mirror(spec)


@pytest.mark.parametrize(
    "url",
    [
        "https://archives.boost.io/release/1.80.0/source/boost_1_80_0.tar.gz",
        "https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/cuda-keyring_1.1-1_all.deb",
        "https://github.com/google/googletest/archive/refs/tags/v1.14.0.zip",
    ],
)
def test_check_url_accepts_real_recipe_urls(url: str) -> None:
    check_url(url, allow_http=False)


@pytest.mark.parametrize(
    "url",
    ["https://user:pw@host/x.tgz", "ftp://host/x", "file:///etc/passwd", "https://h/a b", "-x"],
)
def test_check_url_rejects(url: str) -> None:
    with pytest.raises(UsageError, match="cannot be pinned"):
        check_url(url, allow_http=True)


def test_plain_http_only_when_allowed() -> None:
    check_url("http://127.0.0.1:8000/x.tgz", allow_http=True)
    with pytest.raises(UsageError, match="plain http"):
        check_url("http://127.0.0.1:8000/x.tgz", allow_http=False)


def test_mirrored_uses_longest_prefix() -> None:
    mirrors = [
        ("https://github.com/", "http://m/gh/"),
        ("https://github.com/google/", "http://m/g/"),
    ]
    assert mirrored("https://github.com/google/x.zip", mirrors) == "http://m/g/x.zip"
    assert mirrored("https://github.com/other/x.zip", mirrors) == "http://m/gh/other/x.zip"
    assert mirrored("https://example.com/x", mirrors) == "https://example.com/x"


@given(path=st.from_regex(r"[a-z0-9._/-]{0,30}", fullmatch=True))
def test_mirrored_keeps_the_suffix(path: str) -> None:
    out = mirrored("https://a.example/" + path, [("https://a.example/", "http://m:1/p/")])
    assert out == "http://m:1/p/" + path


def test_bad_found_in_and_http_are_rejected_before_any_network() -> None:
    with pytest.raises(UsageError, match="found-in"):
        resolve_urls([("https://a.example/x", "bad place!")])
    with pytest.raises(UsageError, match="plain http"):
        resolve_urls([("http://a.example/x", "Dockerfile")])
    with pytest.raises(
        UsageError, match=r"--url-mirror https://a\.example/=http://m/ is plain http"
    ):
        resolve_urls(
            [("https://a.example/x", "Dockerfile")], mirrors=[("https://a.example/", "http://m/")]
        )


def test_url_mirror_prefix_matches_on_path_boundaries() -> None:
    mirrors = [("https://github.com/google", "http://m/g")]
    assert mirrored("https://github.com/google/x.zip", mirrors) == "http://m/g/x.zip"
    assert mirrored("https://github.com/googleapis/x.zip", mirrors) == (
        "https://github.com/googleapis/x.zip"
    )
