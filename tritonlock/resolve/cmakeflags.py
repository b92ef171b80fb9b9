"""The ``-D`` flags upstream's ``cmake_build`` configures each repo with, and the targets
it builds by name (pure).

``cmake_build`` clones a repo (``git clone … ORG/NAME.git DIR``) and then runs ``cmake``
in it; a ``cmake`` before any clone configures the server itself. Each repo is named as
the resolver names it: ``server``, or the clone URL's last segment (``python_backend``).
A definition whose value refers to the environment (``-DTRT_VERSION=${TRT_VERSION}``) is
defined with a value unknown here (None).
"""

from __future__ import annotations

import os

from ..upstream import commands, shell


def configures(script: str) -> dict[str, dict[str, str | None]]:
    """Repo name → the ``-D`` definitions of its ``cmake`` configure run (merged); None
    for a value taken from the environment."""
    out: dict[str, dict[str, str | None]] = {}
    current = "server"
    for line in script.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for cmd in shell.split(line):
            clone = commands.git_clone(cmd)
            if clone is not None:
                current = os.path.basename(clone[0].rstrip("/")).removesuffix(".git") or current
                continue
            defines = commands.cmake_defines(cmd)
            if defines:
                given = {k: (None if "$" in v else v) for k, v in defines.items()}
                out.setdefault(current, {}).update(given)
    return out


def named_targets(script: str) -> tuple[str, ...]:
    """Every target a ``cmake --build … -t NAME`` or ``make NAME`` of ``script`` names."""
    out: list[str] = []
    for line in script.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            for cmd in shell.split(line):
                out.extend(commands.build_targets(cmd))
    return tuple(dict.fromkeys(out))
