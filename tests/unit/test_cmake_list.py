"""The CMake reader's ``list()`` evaluation, on CMake text written for these tests."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tritonlock.upstream import cmake

# The shape third-party projects use to pin a dependency: "VERSION;HASH" split by list(GET).
VERSION_AND_HASH = """
set(DEPX_VERSION_AND_HASH "1.2.0;0123456789abcdef0123456789abcdef01234567")
list(GET DEPX_VERSION_AND_HASH 0 DEPX_VERSION)
list(GET DEPX_VERSION_AND_HASH 1 DEPX_HASH)
FetchContent_Declare(
  depx
  GIT_REPOSITORY https://gitlab.example/depx/depx.git
  GIT_TAG ${DEPX_HASH}
)
"""


def test_list_get_gives_the_tag() -> None:
    result = cmake.scan(VERSION_AND_HASH)
    (f,) = result.fetches
    assert f.tag == "0123456789abcdef0123456789abcdef01234567"
    assert f.missing == ()
    assert result.scope["DEPX_VERSION"] == "1.2.0"


def test_append_prepend_length_and_negative_get() -> None:
    text = """
list(APPEND L b c)
list(PREPEND L a)
list(LENGTH L N)
list(GET L -1 0 PICK)
"""
    scope = cmake.scan(text).scope
    assert scope["L"] == "a;b;c"
    assert scope["N"] == "3"
    assert scope["PICK"] == "c;a"


def test_get_from_unknown_list_or_out_of_range_is_unknown_not_empty() -> None:
    text = """
set(OUT stale)
set(OUT2 stale)
list(GET NOT_SET 0 OUT)
set(L "x;y")
list(GET L 2 OUT2)
FetchContent_Declare(d GIT_REPOSITORY https://h/${OUT}.git GIT_TAG ${OUT2})
"""
    (f,) = cmake.fetches(text)
    assert f.missing == ("OUT", "OUT2")


def test_forms_not_evaluated_make_their_outputs_unknown() -> None:
    text = """
set(L "a;b")
set(J kept)
list(REMOVE_ITEM L a)
list(JOIN L "," J)
FetchContent_Declare(d GIT_REPOSITORY https://h/${L}.git GIT_TAG ${J})
"""
    (f,) = cmake.fetches(text)
    assert f.missing == ("L", "J")


items = st.lists(st.from_regex(r"[a-z0-9.]{1,8}", fullmatch=True), min_size=1, max_size=6)


@given(items, st.data())
def test_append_then_get_returns_each_item(values: list[str], data: st.DataObject) -> None:
    i = data.draw(st.integers(-len(values), len(values) - 1))
    text = f"list(APPEND L {' '.join(values)})\nlist(GET L {i} OUT)\nlist(LENGTH L N)\n"
    scope = cmake.scan(text).scope
    assert scope["OUT"] == values[i]
    assert scope["N"] == str(len(values))
