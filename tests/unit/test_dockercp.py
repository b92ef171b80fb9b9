# ruff: noqa: E501  (the miniature CMakeLists keeps its long COMMAND lines whole)
"""Reading what a CMake project copies out of an image with ``docker cp``, on a miniature
of pytorch_backend's CMakeLists written for these tests (same shape: a docker build unless
library paths are given, a per-processor list copied in a ``for`` loop, ``if [ X = 'ON' ]``
tests, a distribution test on ``/etc/os-release``)."""

from __future__ import annotations

import pytest

from tritonlock.errors import ResolveError
from tritonlock.upstream import cmake
from tritonlock.upstream.dockercp import PATH, decide, image_copies

IMAGE = "registry.example/mini/torch:25.04-py3"
MINI = """cmake_minimum_required(VERSION 3.18)
project(minitorch LANGUAGES NONE)
option(TRITON_ENABLE_GPU "gpu" ON)
option(TRITON_MINI_ENABLE_EXTRA "extra" OFF)
set(TRITON_MINI_DOCKER_IMAGE "" CACHE STRING "image")
set(TRITON_MINI_LIB_PATHS "" CACHE PATH "libs")
set(MINI_DOCKER_BUILD OFF)
if(TRITON_MINI_LIB_PATHS STREQUAL "")
  set(MINI_DOCKER_BUILD ON)
endif()
set(RHEL OFF)
set(LIB_DIR "lib")
file(STRINGS "/etc/os-release" LIKE REGEX "ID_LIKE")
if("${LIKE}" MATCHES "rhel|centos")
  set(RHEL ON)
  set(LIB_DIR "lib64")
endif()
if(CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "aarch64")
  set(ARCH_LIBS "libblas_arm.so.0" "liblapack_arm.so.0")
else()
  set(ARCH_LIBS "libblas_x86.so.1")
endif()
if(MINI_DOCKER_BUILD)
  string(REPLACE ";" " " ARCH_LIBS_STR "${ARCH_LIBS}")
  add_custom_command(
    OUTPUT libmini.so
    COMMAND ${CMAKE_COMMAND} -E make_directory "include"
    COMMAND docker pull ${TRITON_MINI_DOCKER_IMAGE}
    COMMAND docker rm mini_ptlib || echo "error ignored..." || true
    COMMAND docker create --name mini_ptlib ${TRITON_MINI_DOCKER_IMAGE}
    COMMAND /bin/sh -c "for i in ${ARCH_LIBS_STR} ; do echo copying $i && docker cp -L mini_ptlib:/usr/local/${LIB_DIR}/$i $i ; done"
    COMMAND docker cp mini_ptlib:/opt/mini/lib/libmini.so libmini.so
    COMMAND docker cp mini_ptlib:/opt/mini/bin/minic minic || echo "error ignored..." || true
    COMMAND /bin/sh -c "if [ ${TRITON_MINI_ENABLE_EXTRA} = 'ON' ]; then docker cp mini_ptlib:/opt/mini/lib/extra.so extra.so; fi"
    COMMAND /bin/sh -c "if [ ${RHEL} = 'ON' ]; then docker cp mini_ptlib:/usr/lib64/libz.so libz.so; else docker cp -a -L mini_ptlib:/usr/lib/libz.so.1 libz.so; fi;"
    COMMAND docker cp mini_ptlib:/opt/mini/include include/mini/.
    COMMAND /bin/sh -c "if [ -f libblas_x86.so.1 ]; then echo patch libblas_x86.so.1; fi"
    COMMAND docker rm mini_ptlib
    VERBATIM
  )
  add_custom_target(mini_target ALL DEPENDS libmini.so)
endif()
"""
X86 = {"CMAKE_HOST_SYSTEM_PROCESSOR": "x86_64", "CMAKE_SYSTEM_PROCESSOR": "x86_64"}
ARM = {"CMAKE_HOST_SYSTEM_PROCESSOR": "aarch64", "CMAKE_SYSTEM_PROCESSOR": "aarch64"}
COMMON = [
    "/opt/mini/bin/minic",
    "/opt/mini/include",
    "/opt/mini/lib/libmini.so",
    "/usr/lib/libz.so.1",
]


def copies(
    text: str = MINI, platform: dict[str, str] = X86, **variables: str
) -> dict[str, list[str]]:
    given = {"TRITON_MINI_DOCKER_IMAGE": IMAGE, **variables}
    found = image_copies("mini_backend", {"CMakeLists.txt": text}, given, platform=platform)
    return {c.image: list(c.paths) for c in found}


def test_every_copied_path_for_x86_64_sorted_once() -> None:
    assert copies() == {IMAGE: sorted([*COMMON, "/usr/local/lib/libblas_x86.so.1"])}


def test_the_processor_picks_the_list_the_loop_copies() -> None:
    arm = ["/usr/local/lib/libblas_arm.so.0", "/usr/local/lib/liblapack_arm.so.0"]
    assert copies(platform=ARM) == {IMAGE: sorted([*COMMON, *arm])}


def test_a_shell_test_of_a_cmake_option_is_decided() -> None:
    paths = copies(TRITON_MINI_ENABLE_EXTRA="ON")[IMAGE]
    assert "/opt/mini/lib/extra.so" in paths
    assert "/opt/mini/lib/extra.so" not in copies(TRITON_MINI_ENABLE_EXTRA="OFF")[IMAGE]


def test_the_build_image_is_ubuntu_so_the_rhel_branch_is_not_taken() -> None:
    paths = copies()[IMAGE]
    assert "/usr/lib/libz.so.1" in paths
    assert not any("lib64" in p for p in paths)


def test_library_paths_given_means_no_docker_build() -> None:
    assert copies(TRITON_MINI_LIB_PATHS="/opt/torch/lib") == {}


def test_where_the_commands_are() -> None:
    given = {"TRITON_MINI_DOCKER_IMAGE": IMAGE}
    (found,) = image_copies("mini_backend", {"CMakeLists.txt": MINI}, given, platform=X86)
    assert found.found_in == ("mini_backend:CMakeLists.txt:25",)


def _with(line: str, before: str = "    COMMAND docker rm mini_ptlib\n") -> str:
    assert before in MINI
    return MINI.replace(before, line + "\n" + before, 1)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "    COMMAND docker run --name x ${TRITON_MINI_DOCKER_IMAGE} find /usr",
            "mini_backend:CMakeLists.txt:25: `docker run` is not served",
        ),
        (
            "    COMMAND docker cp mini_ptlib:${NOWHERE}/lib/a.so a.so",
            "mini_backend:CMakeLists.txt:25: a docker command uses NOWHERE, whose value",
        ),
        (
            '    COMMAND /bin/sh -c "if [ -f a.so ]; then docker cp mini_ptlib:/a.so a.so; fi"',
            "cannot decide `[ -f a.so ]` for `docker cp mini_ptlib:/a.so a.so`",
        ),
        (
            "    COMMAND docker cp mini_ptlib:lib/a.so a.so",
            "'lib/a.so' is not an absolute path",
        ),
        (
            "    COMMAND docker cp mini_ptlib:/opt/../etc/shadow a",
            "'/opt/../etc/shadow' is not an absolute path",
        ),
        (
            "    COMMAND docker cp other:/opt/a.so a.so",
            "no `docker create` made 'other'",
        ),
        (
            "    COMMAND docker cp --unknown mini_ptlib:/opt/a.so a.so",
            "option --unknown is not served",
        ),
    ],
)
def test_what_the_build_cannot_serve_is_an_error_naming_file_and_line(
    line: str, error: str
) -> None:
    with pytest.raises(ResolveError, match=r"^mini_backend:CMakeLists\.txt:25: ") as err:
        copies(_with(line))
    assert error in str(err.value)
    assert "\n" not in str(err.value)


def test_an_image_whose_value_is_unknown_is_an_error() -> None:
    with pytest.raises(ResolveError, match="TRITON_MINI_DOCKER_IMAGE, whose value"):
        image_copies("m", {"CMakeLists.txt": MINI}, {}, unknown=["TRITON_MINI_DOCKER_IMAGE"])


def test_a_command_nothing_reaches_is_not_read() -> None:
    text = MINI + "if(FALSE)\n  add_custom_command(OUTPUT y COMMAND docker run z)\nendif()\n"
    assert copies(text) == copies()


def test_add_custom_target_and_execute_process_are_read() -> None:
    text = """cmake_minimum_required(VERSION 3.18)
project(t NONE)
execute_process(COMMAND docker create --name=a img:1 COMMAND_ERROR_IS_FATAL ANY)
add_custom_target(t ALL docker cp a:/x/y y COMMAND docker cp -aL a:/x/z/. z)
"""
    assert copies(text) == {"img:1": ["/x/y", "/x/z"]}


@pytest.mark.parametrize(
    ("condition", "taken"),
    [
        ("[ ON = ON ]", True),
        ("[ OFF = ON ]", False),
        ("! [ OFF = ON ]", True),
        ("! ! [ OFF = ON ]", False),
        ("[ a != b ]", True),
        ("test a == a", True),
        ("[ ON = ON ] && [ OFF = ON ]", False),
        ("[ -f a ]", None),
        ("[ ON = ON ] && [ -f a ]", None),
        ("[ -f a ] && [ OFF = ON ]", False),
        ("true", None),
    ],
)
def test_decide(condition: str, taken: bool | None) -> None:
    assert decide(condition) is taken


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/usr/local/lib/python3.12/dist-packages/torch/lib/libc10.so", True),
        ("/usr/lib/x86_64-linux-gnu/libjpeg.so.8.2.2", True),
        ("/a b", False),
        ("/a/$x", False),
        ("relative/a", False),
        ("/a//b", False),
        ("/a/.hidden", False),
        ("/a/../b", False),
    ],
)
def test_path_pattern(path: str, ok: bool) -> None:
    assert bool(PATH.match(path)) is ok


@pytest.mark.parametrize(
    ("tail", "value"),
    [
        ('REGEX "ID_LIKE")', "ID_LIKE=debian"),
        (")", "ID=ubuntu;ID_LIKE=debian"),
        ('REGEX "^NOPE")', ""),
    ],
)
def test_file_strings_of_a_known_host_file(tail: str, value: str) -> None:
    text = f'file(STRINGS "/etc/os-release" OUT {tail}\n'
    host = {"/etc/os-release": "ID=ubuntu\nID_LIKE=debian\n"}
    project = cmake.configure({"CMakeLists.txt": text}, {}, host_files=host)
    assert project.scope.values["OUT"] == value


def test_file_strings_of_another_file_or_option_is_unknown() -> None:
    host = {"/etc/os-release": "ID=ubuntu\n"}
    for text in (
        'file(STRINGS "/etc/other" OUT)\n',
        'file(STRINGS "/etc/os-release" OUT LIMIT_COUNT 1)\n',
        'file(STRINGS "/etc/os-release" OUT REGEX "(")\n',
    ):
        project = cmake.configure({"CMakeLists.txt": text}, {}, host_files=host)
        assert "OUT" in project.scope.unknown, text
