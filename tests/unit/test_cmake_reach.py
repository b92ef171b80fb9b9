"""What configuring a tree reaches: if() conditions (true/false/unknown), options and -D
flags, add_subdirectory/include/find_package, functions bound to their call's arguments.
Every snippet is written for these tests, after constructs seen in upstream projects."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.upstream import cmake
from tritonlock.upstream.cmake.conditions import condition_values, evaluate
from tritonlock.upstream.cmake.lexer import commands
from tritonlock.upstream.cmake.values import Scope, Value


def cond(text: str, scope: dict[str, str] | None = None, unknown: tuple[str, ...] = ()) -> object:
    (cmd,) = commands(f"if({text})")
    s = Scope.of(scope or {}, unknown)
    return evaluate(condition_values(cmd.args, s), s)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("ON", True),
        ("off", False),
        ("Y", True),
        ("IGNORE", False),
        ("FOO-NOTFOUND", False),
        ("0", False),
        ("2", True),
        ('"ON"', True),
        ('"some text"', False),
        ("NOT OFF", True),
        ("ON AND OFF", False),
        ("ON OR OFF", True),
        ("NOT (ON AND OFF) AND YES", True),
        ("A", True),
        ("B", False),
        ("NOT A", False),
        ("DEFINED A", True),
        ("WIN32", False),
        ("NOT WIN32 AND UNIX", True),
        ("V STREQUAL 1.2.3", True),
        ('V VERSION_LESS "1.10"', True),
        ("V VERSION_GREATER_EQUAL 1.2.3.0", True),
        ("3 LESS 10", True),
        ("10 GREATER_EQUAL 10", True),
        ("B EQUAL 1", False),
        ('"abc" MATCHES "^a.c$"', True),
        ('"L_ITEM" IN_LIST L', True),
        ("${A}", True),
        ("${B} OR ${A}", True),
    ],
)
def test_conditions_decided(text: str, want: bool) -> None:
    scope = {"A": "ON", "B": "OFF", "V": "1.2.3", "L": "x;L_ITEM", "UNIX": "1"}
    assert cond(text, scope) is want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("NOT_SET", False),
        ("NOT NOT_SET", True),
        ("DEFINED NOT_SET", False),
        ('"${NOT_SET}" STREQUAL ""', True),
        ("NOT_SET STREQUAL NOT_SET", True),
        ("DEFINED ENV{HOME}", False),
        ('"$ENV{HOME}" STREQUAL ""', True),
    ],
)
def test_a_variable_nothing_defines_is_undefined_as_in_cmake(text: str, want: bool) -> None:
    assert cond(text) is want


@pytest.mark.parametrize(
    "text",
    [
        "Pkg_FOUND",
        "NOT Pkg_FOUND",
        "DEFINED Pkg_DIR",
        "CMAKE_TOOLCHAIN_FILE",
        "EXISTS /some/path",
        "TARGET foo",
        "${U}",
        "${U} MATCHES rhel",
        "U STREQUAL x",
        "U AND ON",
        "CMAKE_VERSION VERSION_LESS 3.18",
    ],
)
def test_conditions_that_cannot_be_decided(text: str) -> None:
    assert cond(text, {"A": "ON"}, unknown=("U",)) is None


def test_three_valued_logic_short_cuts_as_cmake_would() -> None:
    assert cond("U AND OFF", unknown=("U",)) is False
    assert cond("U OR ON", unknown=("U",)) is True
    assert cond("U OR OFF", unknown=("U",)) is None


def test_after_find_package_its_variables_are_unknown() -> None:
    text = (
        "find_package(Foo)\nif(FOO_LIBS)\n  FetchContent_Declare(a URL https://h/a.zip)\nendif()\n"
    )
    assert [f.url for f in cmake.fetches(text)] == ["https://h/a.zip"]
    assert cmake.fetches(text.replace("find_package(Foo)\n", "")) == []


@given(st.sampled_from(["ON", "OFF", "UNSET"]), st.sampled_from(["ON", "OFF", "UNSET"]))
def test_and_or_not_agree_with_kleene_logic(a: str, b: str) -> None:
    scope = {k: v for k, v in (("A", a), ("B", b)) if v != "UNSET"}
    unknown = tuple(k for k, v in (("A", a), ("B", b)) if v == "UNSET")

    def val(x: str) -> bool | None:
        return None if x == "UNSET" else x == "ON"

    va, vb = val(a), val(b)
    want_and = False if False in (va, vb) else (None if None in (va, vb) else True)
    want_or = True if True in (va, vb) else (None if None in (va, vb) else False)
    assert cond("A AND B", scope, unknown) is want_and
    assert cond("A OR B", scope, unknown) is want_or
    assert cond("NOT (A AND B)", scope, unknown) is (None if want_and is None else not want_and)


def reach(files: dict[str, str], **variables: str) -> list[tuple[str, str, int]]:
    project = cmake.configure(files, variables)
    return [(f.url, f.path, f.line) for f in project.fetches]


TESTS_GATED = {
    "CMakeLists.txt": (
        "project(dep)\n"
        "if(CMAKE_SOURCE_DIR STREQUAL PROJECT_SOURCE_DIR)\n"
        "  set(DEP_MASTER_PROJECT ON)\nelse()\n  set(DEP_MASTER_PROJECT OFF)\nendif()\n"
        'option(DEP_TEST "Build tests" ${DEP_MASTER_PROJECT})\n'
        "list(APPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR}/tools)\n"
        "if(DEP_TEST)\n  add_subdirectory(tests)\nendif()\n"
    ),
    "tests/CMakeLists.txt": "find_package(Unit 1.2.3)\n",
    "tools/FindUnit.cmake": (
        "function(get_unit version)\n"
        "  set(url https://h.example/releases/download/v${version}/unit.hpp)\n"
        "  file(DOWNLOAD ${url} ${CMAKE_CURRENT_BINARY_DIR}/unit.hpp)\n"
        "endfunction()\n"
        "get_unit(${Unit_FIND_VERSION})\n"
    ),
}


def test_a_dependencys_tests_are_reached_only_when_it_is_the_top_project() -> None:
    """pybind11's shape: tests (and the Catch download in FindCatch) only as a master
    project; as a FetchContent dependency of another project they are not configured."""
    url = "https://h.example/releases/download/v1.2.3/unit.hpp"
    assert reach(TESTS_GATED) == [(url, "tools/FindUnit.cmake", 3)]
    assert cmake.configure(TESTS_GATED, {}, inherits=True).fetches == ()
    assert reach(TESTS_GATED, DEP_TEST="OFF") == []


def test_recipe_flags_choose_the_branch() -> None:
    files = {
        "CMakeLists.txt": (
            'option(TRITON_ENABLE_GPU "gpu" ON)\n'
            "if(${TRITON_ENABLE_GPU})\n"
            "  FetchContent_Declare(gpu URL https://h.example/gpu.zip)\n"
            "elseif(TRITON_ENABLE_MALI_GPU)\n"
            "  FetchContent_Declare(mali URL https://h.example/mali.zip)\n"
            "else()\n"
            "  FetchContent_Declare(cpu URL https://h.example/cpu.zip)\n"
            "endif()\n"
        )
    }

    def names(**kw: str) -> list[str]:
        return [u.rsplit("/", 1)[1] for u, _, _ in reach(files, **kw)]

    assert names() == ["gpu.zip"]
    assert names(TRITON_ENABLE_GPU="OFF", TRITON_ENABLE_MALI_GPU="ON") == ["mali.zip"]
    assert names(TRITON_ENABLE_GPU="OFF", TRITON_ENABLE_MALI_GPU="OFF") == ["cpu.zip"]
    # Nothing sets it: undefined, as in CMake.
    assert names(TRITON_ENABLE_GPU="OFF") == ["cpu.zip"]
    # Undecidable: the branch and every one after it may be reached.
    off = {"TRITON_ENABLE_GPU": "OFF"}
    project = cmake.configure(files, off, unknown=["TRITON_ENABLE_MALI_GPU"])
    assert [f.url.rsplit("/", 1)[1] for f in project.fetches] == ["mali.zip", "cpu.zip"]


def test_tests_enabled_only_with_build_testing() -> None:
    files = {
        "CMakeLists.txt": "include(CTest)\nadd_subdirectory(src)\n",
        "src/CMakeLists.txt": "if(BUILD_TESTING)\n  add_subdirectory(test)\nendif()\n",
        "src/test/CMakeLists.txt": "FetchContent_Declare(gtest URL https://h.example/gt.zip)\n",
    }
    assert reach(files) == [("https://h.example/gt.zip", "src/test/CMakeLists.txt", 1)]
    assert reach(files, BUILD_TESTING="OFF") == []


def test_unreached_files_and_uncalled_functions_are_not_read() -> None:
    files = {
        "CMakeLists.txt": "include(cmake/used.cmake)\n",
        "cmake/used.cmake": "macro(dep n)\n  FetchContent_Declare(${n} URL https://h/${n})\nendmacro()\n",
        "cmake/unused.cmake": "FetchContent_Declare(x URL https://h/x)\n",
        "docs/CMakeLists.txt": "not cmake at all\n",
    }
    project = cmake.configure(files, {})
    assert project.fetches == () and project.problems == ()
    assert project.files == ("CMakeLists.txt", "cmake/used.cmake")


def test_function_arguments_argn_and_parse_arguments() -> None:
    text = """
function(dep name)
  cmake_parse_arguments(DEP "SHALLOW" "TAG" "PATCHES" ${ARGN})
  FetchContent_Declare(${name} GIT_REPOSITORY https://h/${ARGV0}.git GIT_TAG ${DEP_TAG})
  set(LAST ${name} PARENT_SCOPE)
endfunction()
dep(alpha TAG v1 SHALLOW PATCHES a b)
dep(beta TAG v2)
FetchContent_Declare(after GIT_REPOSITORY https://h/after.git GIT_TAG ${LAST})
"""
    got = [(f.name, f.url, f.tag) for f in cmake.fetches(text)]
    assert got == [
        ("alpha", "https://h/alpha.git", "v1"),
        ("beta", "https://h/beta.git", "v2"),
        ("after", "https://h/after.git", "beta"),
    ]


def test_foreach_and_return() -> None:
    text = """
foreach(n IN ITEMS a b)
  FetchContent_Declare(${n} URL https://h/${n}.zip)
endforeach()
return()
FetchContent_Declare(late URL https://h/late.zip)
"""
    assert [f.url for f in cmake.fetches(text)] == ["https://h/a.zip", "https://h/b.zip"]


def test_external_project_args_configure_the_dependency() -> None:
    text = """
ExternalProject_Add(dep GIT_REPOSITORY https://h/dep.git GIT_TAG v1
  CMAKE_ARGS -DDEP_BUILD_TESTS:BOOL=OFF -DDEP_PREFIX=${NOT_SET} "-DDEP_X=1")
FetchContent_Declare(inner GIT_REPOSITORY https://h/inner.git GIT_TAG v1)
"""
    ext, inner = cmake.fetches(text, {"FLAG": "ON"})
    assert (dict(ext.defines), ext.unknown, ext.inherits) == (
        {"DEP_BUILD_TESTS": "OFF", "DEP_X": "1"},
        ("DEP_PREFIX",),
        False,
    )
    assert inner.inherits and dict(inner.defines)["FLAG"] == "ON"


def test_hash_of_a_download_is_read() -> None:
    sha = "ab" * 32
    text = f"""
ExternalProject_Add(boost URL https://h/b.tgz URL_HASH SHA256={sha.upper()})
FetchContent_Declare(md URL https://h/m.tgz URL_MD5 {"c" * 32})
file(DOWNLOAD https://h/f.txt f.txt EXPECTED_HASH SHA256=${{NOT_SET}})
"""
    boost, md, f = cmake.fetches(text)
    assert (boost.sha256, boost.hashed) == (sha, True)
    assert (md.sha256, md.digest, md.hashed) == (None, "MD5=" + "c" * 32, True)
    assert (f.sha256, f.hashed) == (None, True)


def test_unbalanced_blocks_are_a_problem_of_that_file() -> None:
    files = {"CMakeLists.txt": "include(a.cmake)\n", "a.cmake": "if(X)\n"}
    project = cmake.configure(files, {})
    assert project.problems == ("a.cmake: cannot read CMake (line 1: if() is not closed)",)


def test_a_return_under_an_undecided_condition_does_not_end_the_file() -> None:
    """pybind11's guard: if(DEFINED X) return() endif(), X unknown to the reader."""
    text = "if(DEFINED GUARD)\n  return()\nendif()\nFetchContent_Declare(a URL https://h/a.zip)\n"
    assert [f.url for f in cmake.fetches(text)] == ["https://h/a.zip"]
    assert cmake.fetches(text, {"GUARD": "1"}) == []


def test_environment_the_recipe_does_not_set_is_undefined_in_conditions() -> None:
    """azure-sdk's vcpkg commit and opentelemetry-cpp's external component, in our words."""
    text = """set(COMMIT 5312e9f976e89b256954f571433e34f783dd2d12)
if(DEFINED ENV{SDK_COMMIT})
  set(COMMIT "$ENV{SDK_COMMIT}")
endif()
FetchContent_Declare(tool GIT_REPOSITORY https://h/tool.git GIT_TAG ${COMMIT})
if(DEFINED $ENV{EXTERNAL_URL})
  FetchContent_Declare(external GIT_REPOSITORY $ENV{EXTERNAL_URL} GIT_TAG main)
endif()
"""
    (f,) = cmake.fetches(text)
    assert (f.name, f.tag, f.missing) == ("tool", "5312e9f976e89b256954f571433e34f783dd2d12", ())
    # In a download itself, the environment is never taken as empty.
    (g,) = cmake.fetches("FetchContent_Declare(e GIT_REPOSITORY $ENV{EXTERNAL_URL})\n")
    assert g.missing == ("$ENV{EXTERNAL_URL}",)


def test_a_package_whose_dir_is_given_is_found_and_its_download_fallback_not_reached() -> None:
    """opentelemetry-cpp downloads nlohmann/json at develop unless find_package finds it;
    Triton's third_party passes -Dnlohmann_json_DIR, so CMake finds it."""
    files = {
        "CMakeLists.txt": "project(otel)\ninclude(cmake/json.cmake)\n",
        "cmake/json.cmake": (
            "find_package(json_lib QUIET)\n"
            "if(json_lib_FOUND)\n  message(STATUS found)\n"
            "elseif(EXISTS ${PROJECT_SOURCE_DIR}/third_party/json/CMakeLists.txt)\n"
            "  add_subdirectory(${PROJECT_SOURCE_DIR}/third_party/json)\n"
            "else()\n"
            "  ExternalProject_Add(json_download GIT_REPOSITORY https://h/json.git\n"
            "    GIT_TAG develop)\n"
            "endif()\n"
        ),
    }
    assert reach(files, json_lib_DIR="/opt/json/lib/cmake") == []
    assert [u for u, _, _ in reach(files)] == ["https://h/json.git"]  # undecided: reached
    with_sub = {**files, "third_party/json/CMakeLists.txt": "project(json)\n"}
    project = cmake.configure(with_sub, {})
    assert project.fetches == () and "third_party/json" in project.folders


def test_a_fetchcontent_dependency_sees_the_scope_where_it_is_made_available() -> None:
    """The server sets TRITON_CORE_HEADERS_ONLY OFF between core's declaration and
    FetchContent_MakeAvailable: core is configured with OFF."""
    text = (
        "FetchContent_Declare(repo-core GIT_REPOSITORY https://h/core.git GIT_TAG r1)\n"
        "set(HEADERS_ONLY OFF)\nFetchContent_MakeAvailable(repo-core)\n"
    )
    (f,) = cmake.fetches(text)
    assert dict(f.defines)["HEADERS_ONLY"] == "OFF" and f.line == 1


def test_an_external_project_of_a_folder_in_the_tree_is_configured_with_its_args() -> None:
    """The server builds its src/ folder as an ExternalProject with -D cache args."""
    files = {
        "CMakeLists.txt": (
            "ExternalProject_Add(inner SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/src\n"
            "  CMAKE_CACHE_ARGS -DENABLE_X:BOOL=${ENABLE_X})\n"
        ),
        "src/CMakeLists.txt": (
            "project(inner)\nif(ENABLE_X)\n  FetchContent_Declare(x URL https://h/x.zip)\nendif()\n"
        ),
    }
    assert reach(files, ENABLE_X="ON") == [("https://h/x.zip", "src/CMakeLists.txt", 3)]
    assert reach(files, ENABLE_X="OFF") == []


WORDS = ["NOT", "AND", "OR", "(", ")", "ON", "OFF", "A", "U", "NOT_SET", "STREQUAL", "1"]
WORDS += ["VERSION_LESS", "EQUAL", "DEFINED", "EXISTS", "MATCHES", '"x"', "${A}", "${U}"]


@given(st.lists(st.sampled_from(WORDS), max_size=8))
def test_any_condition_gives_true_false_or_unknown_and_never_raises(words: list[str]) -> None:
    scope = Scope.of({"A": "ON"}, ("U",))
    args = [Value(w.strip('"'), w.startswith('"')) for w in words]  # parentheses unbalanced too
    assert evaluate(args, scope) in (True, False, None)


@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
)
def test_version_comparisons_order_components_as_numbers(a: list[int], b: list[int]) -> None:
    width = max(len(a), len(b))
    pa, pb = a + [0] * (width - len(a)), b + [0] * (width - len(b))
    va, vb = ".".join(map(str, a)), ".".join(map(str, b))
    assert cond(f"{va} VERSION_LESS {vb}") is (pa < pb)
    assert cond(f"{va} VERSION_EQUAL {vb}") is (pa == pb)
    assert cond(f"{va} VERSION_GREATER_EQUAL {vb}") is (pa >= pb)


def test_a_declaration_in_a_function_is_found_where_the_function_is_written() -> None:
    files = {
        "CMakeLists.txt": "include(cmake/deps.cmake)\n\n\nadd_dep(zlib v1)\n",
        "cmake/deps.cmake": (
            "function(add_dep name tag)\n"
            "  FetchContent_Declare(${name} GIT_REPOSITORY https://h/${name}.git GIT_TAG ${tag})\n"
            "endfunction()\n"
        ),
    }
    (f,) = cmake.configure(files, {}).fetches
    assert (f.name, f.tag, f.path, f.line) == ("zlib", "v1", "cmake/deps.cmake", 2)


def test_after_an_undecided_if_a_variable_is_known_only_where_every_outcome_agrees() -> None:
    text = """set(USE_A OFF)
set(SAME x)
find_package(Pkg)
if(Pkg_FOUND)
  set(USE_A ON)
  set(SAME x)
endif()
if(USE_A)
  FetchContent_Declare(a URL https://h/a-${SAME}.zip)
else()
  FetchContent_Declare(b URL https://h/b-${SAME}.zip)
endif()
if(Pkg_FOUND)
  set(TAG v1)
else()
  set(TAG v2)
endif()
FetchContent_Declare(c GIT_REPOSITORY https://h/c.git GIT_TAG ${TAG})
"""
    a, b, c = cmake.fetches(text)
    assert (a.url, b.url) == ("https://h/a-x.zip", "https://h/b-x.zip")  # both may be reached
    assert c.missing == ("TAG?",)
    # Decided, CMake's own answer: one branch, one value.
    got = [(f.name, f.url, f.tag) for f in cmake.fetches(text, {"Pkg_DIR": "/opt/pkg"})]
    assert got == [("a", "https://h/a-x.zip", None), ("c", "https://h/c.git", "v1")]


def test_observe_sees_each_command_reached_with_its_scope() -> None:
    files = {
        "CMakeLists.txt": (
            "set(TOOL fetcher)\n"
            "if(WITH_EXTRA)\n"
            "  execute_process(COMMAND never)\n"
            "endif()\n"
            "function(run_it what)\n"
            "  execute_process(COMMAND ${TOOL} ${what})\n"
            "endfunction()\n"
            "run_it(go)\n"
        )
    }
    seen: list[tuple[str, int, str]] = []

    def observe(path: str, cmd: cmake.Command, scope: Scope) -> None:
        texts = (
            [v.text for v in cmake.values(cmd.args, scope)] if cmd.name == "execute_process" else []
        )
        seen.append((path, cmd.line, " ".join(texts)))

    cmake.configure(files, {"WITH_EXTRA": "OFF"}, observe=observe)
    lines = [line for _, line, _ in seen]
    assert lines == [1, 2, 5, 8, 6]
    assert seen[-1] == ("CMakeLists.txt", 6, "COMMAND fetcher go")
