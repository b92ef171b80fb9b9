"""The CMake reader on CMake text written for these tests."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.upstream import cmake

TRITON = """
cmake_minimum_required(VERSION 3.17)
set(TRITON_REPO_ORGANIZATION "https://github.com/triton-inference-server" CACHE STRING "org")
set(TRITON_CORE_REPO_TAG "main" CACHE STRING "Tag for core")
option(TRITON_ENABLE_GPU "gpu" ON)
include(FetchContent)
FetchContent_Declare(
  repo-core
  GIT_REPOSITORY ${TRITON_REPO_ORGANIZATION}/core.git
  GIT_TAG ${TRITON_CORE_REPO_TAG}
  GIT_SHALLOW ON
)
"""


def test_cache_default_used_when_caller_passes_nothing() -> None:
    (f,) = cmake.fetches(TRITON)
    assert (f.kind, f.name, f.line) == ("git", "repo-core", 7)
    assert f.url == "https://github.com/triton-inference-server/core.git"
    assert f.tag == "main"
    assert f.missing == ()


def test_caller_variables_win_over_cache_defaults() -> None:
    (f,) = cmake.fetches(
        TRITON,
        {"TRITON_CORE_REPO_TAG": "r25.04", "TRITON_REPO_ORGANIZATION": "https://m.example/org"},
    )
    assert (f.url, f.tag) == ("https://m.example/org/core.git", "r25.04")


def test_plain_set_overrides_caller_and_later_sets_do_not_reach_back() -> None:
    text = """
set(TAG v1)
ExternalProject_Add(a GIT_REPOSITORY "https://h.example/a.git" GIT_TAG ${TAG})
set(TAG v2)
ExternalProject_Add(b GIT_REPOSITORY "https://h.example/b.git" GIT_TAG "${TAG}")
unset(TAG)
ExternalProject_Add(c GIT_REPOSITORY "https://h.example/c.git" GIT_TAG ${TAG})
"""
    a, b, c = cmake.fetches(text, {"TAG": "from-caller"})
    assert (a.tag, b.tag) == ("v1", "v2")
    assert c.missing == ("TAG",)


def test_unknown_variable_reported_only_for_fields_that_matter() -> None:
    text = """ExternalProject_Add(curl
  PREFIX curl
  GIT_REPOSITORY "https://github.com/curl/curl.git"
  GIT_TAG "curl-7_86_0"
  SOURCE_DIR "${CMAKE_CURRENT_BINARY_DIR}/curl/src/curl"
  CMAKE_CACHE_ARGS -DX:PATH=${PREFIX_NOT_SET}
)
FetchContent_Declare(x GIT_REPOSITORY ${ORG}/x.git GIT_TAG $ENV{TAG})
"""
    curl, x = cmake.fetches(text)
    assert curl.missing == () and curl.tag == "curl-7_86_0" and curl.line == 1
    assert x.missing == ("ORG", "$ENV{TAG}")


def test_nested_variable_reference() -> None:
    text = (
        "set(WHICH CORE)\nset(TAG_CORE r1)\n"
        'FetchContent_Declare(x GIT_REPOSITORY "https://h/x" GIT_TAG ${TAG_${WHICH}})\n'
    )
    (f,) = cmake.fetches(text)
    assert f.tag == "r1"


def test_url_downloads_and_hashes() -> None:
    text = """
FetchContent_Declare(googletest
  URL https://github.com/google/googletest/archive/9406a60c.zip
)
ExternalProject_Add(boostorg
  URL https://archives.boost.io/boost_1_79_0.tar.gz
  URL_HASH SHA256=273f1be93238a068aba4f9735a4a2b003019af067b9c183ed227780b8f36062c
)
file(DOWNLOAD https://raw.example/RAPIDS.cmake ${CMAKE_BINARY_DIR}/RAPIDS.cmake)
file(DOWNLOAD https://h.example/f.tgz out.tgz EXPECTED_HASH SHA256=00)
file(READ x y)
"""
    got = [(f.kind, f.name, f.url, f.hashed, f.line) for f in cmake.fetches(text)]
    assert got == [
        (
            "url",
            "googletest",
            "https://github.com/google/googletest/archive/9406a60c.zip",
            False,
            2,
        ),
        ("url", "boostorg", "https://archives.boost.io/boost_1_79_0.tar.gz", True, 5),
        ("url", "RAPIDS.cmake", "https://raw.example/RAPIDS.cmake", False, 9),
        ("url", "out.tgz", "https://h.example/f.tgz", True, 10),
    ]


def test_comments_brackets_escapes_and_lines() -> None:
    text = """# ExternalProject_Add(fake GIT_REPOSITORY https://no)
#[[ FetchContent_Declare(fake2 GIT_REPOSITORY https://no2)
]]
ExternalProject_Add(real # a comment ) inside
  GIT_REPOSITORY [=[https://h.example/real.git]=]
  GIT_TAG "v\\"1\\"" # tag
  CMAKE_ARGS -DA=$<IF:$<BOOL:1>,(x),y> (nested (parens))
)
message(STATUS "ExternalProject_Add(nope GIT_REPOSITORY https://no3)")
"""
    (f,) = cmake.fetches(text)
    assert (f.name, f.url, f.tag, f.line) == ("real", "https://h.example/real.git", 'v"1"', 4)


def test_no_git_tag_and_no_download() -> None:
    text = """ExternalProject_Add(a GIT_REPOSITORY https://h/a.git)
ExternalProject_Add(local SOURCE_DIR ${X}/src DOWNLOAD_COMMAND "")
"""
    (f,) = cmake.fetches(text)
    assert f.tag is None


def test_option_default_and_list_values() -> None:
    text = (
        'option(FLAG "doc" ON)\nset(L a b)\n'
        "ExternalProject_Add(x GIT_REPOSITORY https://h/x GIT_TAG ${FLAG})\n"
    )
    scan = cmake.scan(text, {})
    assert scan.fetches[0].tag == "ON"
    assert scan.scope["L"] == "a;b"


@pytest.mark.parametrize(
    "text", ['set(X "unterminated)', "set(X [[open)", "set(X", "foo bar", "x(\\"]
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(cmake.CMakeSyntaxError):
        list(cmake.commands(text))


def test_is_cmake_file() -> None:
    assert cmake.is_cmake_file("CMakeLists.txt")
    assert cmake.is_cmake_file("a/b/CMakeLists.windows.txt")
    assert cmake.is_cmake_file("cmake/deps.cmake")
    assert not cmake.is_cmake_file("cmake/readme.txt")
    assert not cmake.is_cmake_file("CMakeLists.txt.patch")


_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_.-/:", min_size=1, max_size=20)


@given(name=st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True), url=_word, tag=_word)
def test_declared_values_round_trip_when_quoted(name: str, url: str, tag: str) -> None:
    text = f'FetchContent_Declare(\n  {name}\n  GIT_REPOSITORY "{url}"\n  GIT_TAG "{tag}")\n'
    (f,) = cmake.fetches(text)
    assert (f.name, f.url, f.tag, f.line) == (name, url, tag, 1)


@given(st.text(max_size=200))
def test_reader_never_crashes_with_anything_but_syntax_errors(text: str) -> None:
    with contextlib.suppress(cmake.CMakeSyntaxError):
        cmake.fetches(text)


@given(
    value=st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters='${}\\"'),
        max_size=30,
    ).filter(lambda v: v not in cmake.KEYWORDS and v != "")
)
def test_variables_expand_verbatim_inside_quotes(value: str) -> None:
    (f,) = cmake.fetches('ExternalProject_Add(x GIT_REPOSITORY "${U}" GIT_TAG t)', {"U": value})
    assert f.url == value


def test_function_bodies_are_read_only_where_called_with_the_arguments_bound() -> None:
    text = """function(get_dep name tag)
  FetchContent_Declare(${name} GIT_REPOSITORY https://h/${name}.git GIT_TAG ${tag})
endfunction()
function(never_called name)
  FetchContent_Declare(${name} GIT_REPOSITORY https://h/${name}.git)
endfunction()
FetchContent_Declare(top GIT_REPOSITORY https://h/top.git GIT_TAG v1)
get_dep(one v2)
get_dep(two ${NOT_SET})
"""
    got = [(f.name, f.url, f.tag, f.missing, f.line) for f in cmake.fetches(text)]
    assert got == [
        ("top", "https://h/top.git", "v1", (), 7),
        ("one", "https://h/one.git", "v2", (), 2),
        ("two", "https://h/two.git", "", ("NOT_SET",), 2),
    ]


def test_unknown_function_parameter_propagates_through_set() -> None:
    # Issue 12, defect 1: pybind11's FindCatch builds the URL inside a function.
    text = (
        "function(f version)\nset(url https://h/v${version}/c.hpp)\n"
        "file(DOWNLOAD ${url} d)\nendfunction()\n"
    )
    assert cmake.fetches(text) == []  # never called: not reached
    (f,) = cmake.fetches(text + "f(${CATCH_VERSION})\n")
    assert f.missing == ("CATCH_VERSION",) and f.line == 3
    (f,) = cmake.fetches(text + "f(2.13.9)\n")
    assert (f.url, f.missing) == ("https://h/v2.13.9/c.hpp", ())
    (f,) = cmake.fetches("set(url https://h/v${version}/c.hpp)\nfile(DOWNLOAD ${url} d)\n")
    assert f.missing == ("version",)
