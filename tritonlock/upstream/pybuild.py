"""Python packages the compile builds with build isolation, and what that isolation installs
(pure).

core's CMake runs ``python/build_wheel.py``, which from r25.x copies the repository's
``pyproject.toml`` next to the package and runs ``python3 -m build`` (r24.12's runs
``setup.py bdist_wheel``, which :func:`isolates` tells apart): an isolated build,
whose virtual environment pip-installs the ``[build-system] requires`` of that file from an
index. In the offline compile those come from a wheelhouse of their own pinned step,
``compile-<repo>-wheel``, installed into that build's own environment (hence its own image
name in the lock: it shares no packages with the build image).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from ..errors import ResolveError


@dataclass(frozen=True, slots=True)
class IsolatedBuild:
    """A script of ``repo`` that builds with isolation from ``pyproject`` (tree paths)."""

    repo: str
    script: str
    pyproject: str

    @property
    def step(self) -> str:
        return f"compile-{self.repo}-wheel"

    def files(self) -> tuple[str, str]:
        return (f"{self.repo}:{self.script}", f"{self.repo}:{self.pyproject}")


# What upstream's compile runs: core's CMakeLists (python/CMakeLists.txt) calls the script.
ISOLATED_BUILDS = (
    IsolatedBuild(repo="core", script="python/build_wheel.py", pyproject="pyproject.toml"),
)

# `python3 -m build` as argv (["python3", "-m", "build"]) or as a command line.
_M_BUILD = re.compile(r"""["']?-m["']?\s*,?\s*["']build["'\s,\]]|-m\s+build\b""")
_NO_ISOLATION = re.compile(r"--no-isolation|[\"'\s]-n[\"'\s,\]]")


def isolates(script: str) -> bool:
    """Whether ``script`` (Python or shell text) runs ``python -m build`` with isolation."""
    return bool(_M_BUILD.search(script)) and not _NO_ISOLATION.search(script)


def build_requires(pyproject: str, where: str) -> tuple[str, ...]:
    """The ``[build-system] requires`` of a pyproject.toml (PEP 518's default when absent)."""
    try:
        data = tomllib.loads(pyproject)
    except tomllib.TOMLDecodeError as err:
        raise ResolveError(f"{where}: not TOML: {err}") from None
    system = data.get("build-system", {})
    requires = system.get("requires", ["setuptools>=40.8.0"]) if isinstance(system, dict) else None
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise ResolveError(f"{where}: [build-system] requires is not a list of strings")
    return tuple(requires)


def compile_builds(files: dict[str, str]) -> list[tuple[IsolatedBuild, tuple[str, ...]]]:
    """Each isolated build whose script and pyproject are among ``files`` (``tree:path`` →
    text) and whose script isolates, with the requirements its environment installs."""
    out = []
    for b in ISOLATED_BUILDS:
        script, pyproject = (files.get(k) for k in b.files())
        if script is None or pyproject is None or not isolates(script):
            continue
        out.append((b, build_requires(pyproject, b.files()[1])))
    return out
