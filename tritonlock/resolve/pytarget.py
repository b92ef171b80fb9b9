"""The target interpreter of an install step: its wheel tags and marker environment (pure).

Everything here describes the *target* (e.g. CPython 3.12 on manylinux aarch64 with
glibc 2.39), never the host that runs tritonlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from ..errors import UsageError

MACHINES = ("x86_64", "aarch64")
# The oldest glibc each architecture has manylinux wheels for, and the legacy aliases.
_OLDEST_GLIBC = {"x86_64": 5, "aarch64": 17}
_LEGACY = {5: "manylinux1", 12: "manylinux2010", 17: "manylinux2014"}


@dataclass(frozen=True, slots=True)
class Target:
    """CPython ``python`` (``"3.12"``) on Linux ``machine`` with glibc ``glibc`` (``(2, 39)``)."""

    python: str
    machine: str
    glibc: tuple[int, int] = (2, 39)

    def __post_init__(self) -> None:
        if self.machine not in MACHINES:
            raise UsageError(f"machine {self.machine!r} is not one of {', '.join(MACHINES)}")
        parts = self.python.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or parts[0] != "3":
            raise UsageError(f"python version {self.python!r} is not of the form 3.N")
        if self.glibc[0] != 2:
            raise UsageError(f"glibc {self.glibc!r} is not 2.N")

    @property
    def py(self) -> tuple[int, int]:
        major, minor = self.python.split(".")
        return int(major), int(minor)

    @property
    def uv_platform(self) -> str:
        """The ``uv pip compile --python-platform`` value for this target."""
        return f"{self.machine}-manylinux_2_{self.glibc[1]}"

    def describe(self) -> str:
        major, minor = self.py
        return f"cp{major}{minor} manylinux_2_{self.glibc[1]} {self.machine}"


def platforms(target: Target) -> list[str]:
    """Platform tags the target accepts, best first (manylinux down to the oldest, then linux)."""
    out = []
    for minor in range(target.glibc[1], _OLDEST_GLIBC[target.machine] - 1, -1):
        out.append(f"manylinux_2_{minor}_{target.machine}")
        if minor in _LEGACY:
            out.append(f"{_LEGACY[minor]}_{target.machine}")
    out.append(f"linux_{target.machine}")
    return out


@cache
def tags(target: Target) -> frozenset[Tag]:
    """Every wheel tag the target interpreter can install."""
    plats = platforms(target)
    major, minor = target.py
    abi = f"cp{major}{minor}"
    found = set(cpython_tags(target.py, abis=[abi], platforms=plats))
    found |= set(compatible_tags(target.py, interpreter=abi, platforms=plats))
    return frozenset(found)


def marker_env(target: Target) -> dict[str, str]:
    """The PEP 508 marker environment of the target."""
    full = f"{target.python}.0"
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "posix",
        "platform_machine": target.machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full,
        "python_version": target.python,
        "sys_platform": "linux",
    }


@dataclass(frozen=True, slots=True)
class Matcher:
    """Decides which files of a release the target can install."""

    target: Target

    def wheel_ok(self, filename: str, requires_python: str | None = None) -> bool:
        if not filename.endswith(".whl") or not self.python_ok(requires_python):
            return False
        try:
            _, _, _, file_tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return False
        return not file_tags.isdisjoint(tags(self.target))

    def python_ok(self, requires_python: str | None) -> bool:
        if not requires_python:
            return True
        try:
            spec = SpecifierSet(requires_python)
        except InvalidSpecifier:
            return True
        return spec.contains(Version(f"{self.target.python}.0"), prereleases=True)


def file_version(filename: str) -> Version | None:
    """The version in a wheel or sdist filename, or None if the name is neither."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def is_sdist(filename: str) -> bool:
    return filename.endswith((".tar.gz", ".zip"))
