"""Debian version order (checked against ``dpkg --compare-versions``) and apt matching."""

from __future__ import annotations

import functools
import itertools
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tritonlock.sources.debian import compare_versions, parse_version, version_key, version_matches


@functools.lru_cache(maxsize=4096)
def dpkg(a: str, b: str) -> int:
    """-1/0/1 as dpkg orders ``a`` and ``b``."""
    for op, sign in (("lt", -1), ("eq", 0)):
        done = subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True)
        assert done.returncode in (0, 1), done.stderr
        if done.returncode == 0:
            return sign
    return 1


# (lower, higher) pairs; each is also checked against dpkg.
ORDERED = [
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0~", "1.0~a"),
    ("1.0", "1.0a"),
    ("1.0", "1.0+b1"),
    ("1.0", "1.0.1"),
    ("1.0+dfsg", "1.0.1"),
    ("1.0a", "1.0+"),
    ("1.2.3", "1.2.10"),
    ("1.0-1", "1.0-1ubuntu1"),
    ("1.0-1ubuntu1", "1.0-2"),
    ("1.0-1ubuntu1", "1.0-1ubuntu1.1"),
    ("8.5.0-2ubuntu10.5", "8.5.0-2ubuntu10.6"),
    ("3.28.3-0kitware1ubuntu24.04.1", "3.28.3-1build7"),
    ("3.28.3-1build7", "3.31.6-0kitware1ubuntu24.04.1"),
    ("2.0", "1:0.1"),
    ("1:3.3.6", "1:3.3.9"),
    ("1:9.9", "2:0.0"),
    ("9:1.0", "10:1.0"),
    ("1.0-1~bpo1", "1.0-1"),
    ("24.0+dfsg-1ubuntu1", "24.0+dfsg-1ubuntu1.1"),
    ("1.0-0", "1.0-0.1"),
    ("0.9-1", "1.0-0"),
    ("1.0-1", "1.0-a"),
    ("1.2~rc1-1", "1.2.3-1"),
    ("2.7.0", "2.7.0a0"),
    ("1:2-3-4", "1:2-3-5"),
    ("1:2:3", "1:2:4"),
]
EQUAL = [
    ("1.0", "0:1.0"),
    ("1.0", "1.0-0"),
    ("1.01", "1.1"),
    ("1.0-01", "1.0-1"),
    ("00:1.0", "1.0"),
]


@pytest.mark.parametrize(("low", "high"), ORDERED)
def test_ordered_pairs(low: str, high: str) -> None:
    assert compare_versions(low, high) == -1
    assert compare_versions(high, low) == 1
    assert dpkg(low, high) == -1


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_pairs(a: str, b: str) -> None:
    assert compare_versions(a, b) == 0
    assert dpkg(a, b) == 0


def test_sort_key_orders_a_list() -> None:
    versions = ["1.3-1", "1.2.10-1", "1:0.1", "1.2~rc1-1", "1.2.3-1"]
    assert sorted(versions, key=version_key) == [
        "1.2~rc1-1",
        "1.2.3-1",
        "1.2.10-1",
        "1.3-1",
        "1:0.1",
    ]


def test_parse_version_parts() -> None:
    assert parse_version("1:3.3.6") == (1, "3.3.6", "")
    assert parse_version("2:1.2-3-4ubuntu1") == (2, "1.2-3", "4ubuntu1")
    assert parse_version("24.0+dfsg-1ubuntu1.1") == (0, "24.0+dfsg", "1ubuntu1.1")
    assert parse_version(" 1.0 ") == (0, "1.0", "")


@pytest.mark.parametrize(
    "bad", ["", " ", "1.0 1", "a:1.0", ":1.0", "1:", "-1:1.0", "1.0-", "-1", "abc", "1.0_1",
            "1.0-1_2", "1.0-1:2", "x1.0", "99999999999:1.0"],
)  # fmt: skip
def test_bad_versions_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_version(bad)


# --- properties against dpkg ----------------------------------------------------------------

_PART = st.text(alphabet="0129ab.+~", min_size=0, max_size=6)


@st.composite
def versions(draw: st.DrawFn) -> str:
    epoch = draw(st.sampled_from(["", "", "", "0:", "1:", "2:"]))
    upstream = draw(st.sampled_from("0129")) + draw(_PART)
    if epoch and draw(st.booleans()):
        upstream += ":" + draw(st.sampled_from("01"))
    revision = draw(st.one_of(st.just(""), st.text(alphabet="019ab.+~", min_size=1, max_size=5)))
    if revision and draw(st.booleans()):
        upstream += "-" + draw(st.sampled_from("01a"))
    return epoch + upstream + (f"-{revision}" if revision else "")


@settings(max_examples=150, deadline=None)
@given(versions(), versions())
def test_same_order_as_dpkg(a: str, b: str) -> None:
    assert compare_versions(a, b) == dpkg(a, b)


@settings(max_examples=250)
@given(versions(), versions())
def test_antisymmetric(a: str, b: str) -> None:
    assert compare_versions(a, b) == -compare_versions(b, a)
    assert compare_versions(a, a) == 0


@settings(max_examples=250)
@given(versions(), versions(), versions())
def test_transitive(a: str, b: str, c: str) -> None:
    if compare_versions(a, b) <= 0 and compare_versions(b, c) <= 0:
        assert compare_versions(a, c) <= 0


@settings(max_examples=40, deadline=None)
@given(st.lists(versions(), min_size=2, max_size=8))
def test_sorted_list_is_sorted_for_dpkg(items: list[str]) -> None:
    ordered = sorted(items, key=version_key)
    assert all(dpkg(x, y) <= 0 for x, y in itertools.pairwise(ordered))


# --- apt's name=version matching ------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "version", "matches"),
    [
        (None, "1.0-1", True),
        ("3.28.3*", "3.28.3-1build7", True),
        ("3.28.3*", "3.28.3-0kitware1ubuntu24.04.1", True),
        ("3.28.3*", "3.28.30-1", True),  # apt's prefix match, not a version range
        ("3.28.3*", "3.28.2-1", False),
        ("1:3.3.6", "1:3.3.6", True),
        ("1:3.3.6", "3.3.6", False),
        ("1:3.3.6", "1:3.3.6-1", False),
        ("3.3.6", "1:3.3.6", False),
        ("1.0-1UBUNTU1", "1.0-1ubuntu1", True),
        ("1.2.?-1", "1.2.3-1", True),
        ("1.2.?-1", "1.2.10-1", False),
        ("*kitware*", "3.31.6-0kitware1ubuntu24.04.1", True),
        ("1.[23]*", "1.3-1", True),
        ("1.[23]*", "1.4-1", False),
    ],
)
def test_version_matches_like_apt(pattern: str | None, version: str, matches: bool) -> None:
    assert version_matches(pattern, version) is matches
