"""The target's wheel tags and markers are the target's, whatever the host is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.markers import Marker

from tritonlock.errors import UsageError
from tritonlock.resolve.pytarget import Matcher, Target, file_version, marker_env, platforms

AARCH64 = Matcher(Target("3.12", "aarch64", (2, 39)))
X86 = Matcher(Target("3.12", "x86_64", (2, 35)))


@pytest.mark.parametrize(
    ("matcher", "filename", "ok"),
    [
        (AARCH64, "vllm-0.8.1-cp38-abi3-manylinux1_x86_64.whl", False),
        (X86, "vllm-0.8.1-cp38-abi3-manylinux1_x86_64.whl", True),
        (
            AARCH64,
            "numpy-1.26.4-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            True,
        ),
        (
            AARCH64,
            "numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            False,
        ),
        (AARCH64, "x-1-cp312-cp312-manylinux_2_39_aarch64.whl", True),
        (AARCH64, "x-1-cp312-cp312-manylinux_2_40_aarch64.whl", False),
        (X86, "x-1-cp312-cp312-manylinux_2_36_x86_64.whl", False),
        (X86, "x-1-cp312-cp312-manylinux2010_x86_64.whl", True),
        (AARCH64, "torch-2.7.0-cp312-cp312-linux_aarch64.whl", True),
        (AARCH64, "x-1-cp312-cp312-musllinux_1_2_aarch64.whl", False),
        (AARCH64, "x-1-cp312-cp312-macosx_11_0_arm64.whl", False),
        (AARCH64, "six-1.16.0-py2.py3-none-any.whl", True),
        (AARCH64, "x-1-cp313-cp313-manylinux_2_17_aarch64.whl", False),
        (AARCH64, "x-1-cp312-cp312d-manylinux_2_17_aarch64.whl", False),
        (AARCH64, "six-1.16.0.tar.gz", False),
        (AARCH64, "not a wheel.whl", False),
    ],
)
def test_wheel_ok_follows_the_target(matcher: Matcher, filename: str, ok: bool) -> None:
    assert matcher.wheel_ok(filename) is ok


def test_requires_python_is_checked_for_the_target() -> None:
    assert AARCH64.wheel_ok("a-1-py3-none-any.whl", ">=3.12")
    assert not AARCH64.wheel_ok("a-1-py3-none-any.whl", ">=3.13")
    assert AARCH64.python_ok("not a specifier")


def test_platforms_go_from_the_target_glibc_down() -> None:
    plats = platforms(Target("3.12", "aarch64", (2, 39)))
    assert plats[0] == "manylinux_2_39_aarch64" and plats[-1] == "linux_aarch64"
    assert "manylinux2014_aarch64" in plats and "manylinux_2_16_aarch64" not in plats
    assert "manylinux1_x86_64" in platforms(Target("3.12", "x86_64"))


def test_marker_env_is_the_target_not_the_host() -> None:
    env = marker_env(Target("3.12", "aarch64"))
    assert Marker('platform_machine == "aarch64" and python_version >= "3.12"').evaluate(env)
    assert not Marker('sys_platform == "win32"').evaluate(env)


@pytest.mark.parametrize(
    ("python", "machine"), [("3", "x86_64"), ("3.12", "arm64"), ("2.7", "x86_64")]
)
def test_bad_target_is_a_usage_error(python: str, machine: str) -> None:
    with pytest.raises(UsageError):
        Target(python, machine)


@given(st.integers(0, 40), st.sampled_from(["x86_64", "aarch64"]), st.integers(17, 40))
def test_a_manylinux_wheel_fits_iff_its_glibc_is_not_newer(
    minor: int, machine: str, glibc: int
) -> None:
    m = Matcher(Target("3.12", machine, (2, glibc)))
    name = f"p-1-cp312-cp312-manylinux_2_{minor}_{machine}.whl"
    oldest = 5 if machine == "x86_64" else 17
    assert m.wheel_ok(name) is (oldest <= minor <= glibc)


def test_file_version() -> None:
    assert str(file_version("MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_x86_64.whl")) == "2.1.5"
    assert str(file_version("vllm-0.8.1.tar.gz")) == "0.8.1"
    assert file_version("README.md") is None
