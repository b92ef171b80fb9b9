"""Read the downloads a CMake project declares, the way CMake would configure it, without
running CMake (pure).

* :mod:`.lexer`: command invocations (the CMake language grammar);
* :mod:`.values`: scopes, where a variable may be *unknown* (built from variables this
  reader does not know), and ``${VAR}`` expansion that reports unknown names instead of
  taking them as empty;
* :mod:`.conditions`: ``if()`` conditions, true / false / unknown;
* :mod:`.assign`: the commands that write variables;
* :mod:`.fetch`: what ``ExternalProject_Add``, ``FetchContent_Declare`` and
  ``file(DOWNLOAD)`` fetch;
* :mod:`.evaluator`: the walk from the top-level ``CMakeLists.txt``, following what CMake
  would reach for the given ``-D`` variables (:func:`configure`);
* :mod:`.targets`: which targets the build builds (``EXCLUDE_FROM_ALL``, ``DEPENDS``), so
  which reached ``ExternalProject_Add`` downloads.

:func:`scan` / :func:`fetches` read one file as a project's top-level ``CMakeLists.txt``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .blocks import group
from .evaluator import BIN, SRC, Observer, Project, configure, declarations
from .fetch import KEYWORDS, Fetch
from .lexer import Arg, CMakeSyntaxError, Command, commands, is_cmake_file
from .targets import GRAPH, UNKNOWN, Call, Targets, graph
from .values import Scope, Value, expand, values

__all__ = [
    "BIN",
    "GRAPH",
    "KEYWORDS",
    "SRC",
    "UNKNOWN",
    "Arg",
    "CMakeSyntaxError",
    "Call",
    "Command",
    "Fetch",
    "Observer",
    "Project",
    "Scan",
    "Scope",
    "Targets",
    "Value",
    "commands",
    "configure",
    "declarations",
    "expand",
    "fetches",
    "graph",
    "is_cmake_file",
    "scan",
    "values",
]


@dataclass(frozen=True, slots=True)
class Scan:
    """What one file reaches, and the variables with known values at its end."""

    fetches: tuple[Fetch, ...]
    scope: Mapping[str, str]
    unknown: Mapping[str, tuple[str, ...]]


def scan(
    text: str, variables: Mapping[str, str] | None = None, unknown: Iterable[str] = ()
) -> Scan:
    """The downloads ``text`` reaches when configured as a top-level ``CMakeLists.txt``;
    CMakeSyntaxError when it is not CMake."""
    group(list(commands(text)))  # a syntax error is the caller's to see
    project = configure({"CMakeLists.txt": text}, variables or {}, unknown=unknown)
    return Scan(project.fetches, dict(project.scope.values), dict(project.scope.unknown))


def fetches(text: str, variables: Mapping[str, str] | None = None) -> list[Fetch]:
    """The downloads of :func:`scan`, as a list."""
    return list(scan(text, variables).fetches)
