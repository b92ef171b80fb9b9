"""The compile's isolated Python builds and what their environments install (pure)."""

from __future__ import annotations

import pytest

from tritonlock.errors import ResolveError
from tritonlock.upstream.pybuild import ISOLATED_BUILDS, build_requires, compile_builds, isolates

# The shape of core's python/build_wheel.py (r24.12 on), written here, not copied.
SCRIPT = """import subprocess
args = ["python3", "-m", "build"]
p = subprocess.Popen(args, env=wenv)
"""
PYPROJECT = """[project]
name = "tritonserver"
[build-system]
requires = ["setuptools==75.3.0", "wheel==0.44.0", "mypy==1.11.0", "numpy<2"]
build-backend = "setuptools.build_meta"
"""


@pytest.mark.parametrize(
    ("script", "isolated"),
    [
        (SCRIPT, True),
        ("subprocess.run(['python3', '-m', 'build', '--wheel'])", True),
        ("python3 -m build --wheel .", True),
        ("python3 -m build --no-isolation .", False),
        ('args = ["python3", "-m", "build", "-n"]', False),
        ("pip3 install build", False),
        ('args = ["python3", "-m", "builder"]', False),
        ("python3 setup.py bdist_wheel", False),
    ],
)
def test_isolates(script: str, isolated: bool) -> None:
    assert isolates(script) is isolated


def test_build_requires() -> None:
    assert build_requires(PYPROJECT, "core:pyproject.toml") == (
        "setuptools==75.3.0", "wheel==0.44.0", "mypy==1.11.0", "numpy<2",
    )  # fmt: skip
    assert build_requires('[project]\nname = "x"\n', "w") == ("setuptools>=40.8.0",)
    with pytest.raises(ResolveError, match=r"^core:pyproject.toml: not TOML"):
        build_requires("[build-system", "core:pyproject.toml")
    with pytest.raises(ResolveError, match=r"requires is not a list of strings"):
        build_requires("[build-system]\nrequires = 'setuptools'\n", "w")


def test_compile_builds_need_the_script_to_isolate() -> None:
    (core,) = ISOLATED_BUILDS
    files = {"core:python/build_wheel.py": SCRIPT, "core:pyproject.toml": PYPROJECT}
    [(build, requires)] = compile_builds(files)
    assert build.step == "compile-core-wheel" and requires[-1] == "numpy<2"
    assert compile_builds({**files, "core:python/build_wheel.py": "python3 setup.py x"}) == []
    assert compile_builds({"core:pyproject.toml": PYPROJECT}) == []
    assert core.files() == ("core:python/build_wheel.py", "core:pyproject.toml")
