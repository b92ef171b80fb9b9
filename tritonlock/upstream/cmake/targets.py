"""Which targets of a configured build are built (pure).

A reached ``ExternalProject_Add`` downloads only when its target is built, and a command
of ``add_custom_target`` runs only then: ``cmake --build . -t install`` builds the
targets in ALL and what they depend on. So an ``ExternalProject_Add`` with
``EXCLUDE_FROM_ALL`` or an ``add_custom_target`` without ``ALL`` is built only when a built
target depends on it (an ExternalProject's ``DEPENDS``, a custom target's ``DEPENDS``,
``add_dependencies``), or when the build names it (``cmake --build . -t NAME``, ``make
NAME``: the ``roots``). Every other target (libraries, executables) counts as built. Names
are one namespace over the whole build, which can only make more targets built. When a
``DEPENDS`` or ``add_dependencies`` of a built target cannot be expanded, every target
counts as built (what cannot be decided is taken). A ``FetchContent_Declare`` downloads
only when its name is made available (``FetchContent_MakeAvailable``/``FetchContent_Populate``).

:data:`GRAPH` names the commands the graph is made of; :func:`tritonlock.upstream.cmake.configure`
records each one reached, with its arguments expanded (:attr:`Project.calls`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .fetch import KEYWORDS, excluded
from .values import Value

GRAPH = frozenset(
    {"externalproject_add", "add_custom_target", "add_dependencies"}
    | {"fetchcontent_makeavailable", "fetchcontent_populate"}
)
_EP_KEYS = KEYWORDS | {"DEPENDS", "STEP_TARGETS", "INDEPENDENT_STEP_TARGETS"}
_CUSTOM_KEYS = frozenset(
    {"COMMAND", "DEPENDS", "BYPRODUCTS", "WORKING_DIRECTORY", "COMMENT", "JOB_POOL"}
    | {"JOB_SERVER_AWARE", "VERBATIM", "USES_TERMINAL", "COMMAND_EXPAND_LISTS", "SOURCES"}
)
Call = tuple[str, Sequence[Value]]  # (command name, expanded arguments)


@dataclass(frozen=True, slots=True)
class Targets:
    """Targets an ExternalProject or custom target defines (name -> kind), those built
    (None: not known, so every one is), and the FetchContent names made available."""

    kinds: dict[str, str]
    built: frozenset[str] | None
    available: frozenset[str]

    def is_built(self, name: str) -> bool:
        return self.built is None or name not in self.kinds or name in self.built

    def why_not_built(self, name: str) -> str:
        if self.kinds.get(name) == "ExternalProject_Add":
            return (
                f"ExternalProject_Add({name}) is EXCLUDE_FROM_ALL and no built target "
                "depends on it: it is never built, nor downloaded"
            )
        return f"add_custom_target({name}) is not in ALL and no built target depends on it"

    def made_available(self, name: str) -> bool:
        return name.lower() in self.available


UNKNOWN = Targets({}, None, frozenset())  # before anything is known: every target is built


def _after(words: Sequence[Value], key: str, keys: frozenset[str]) -> list[Value]:
    out: list[Value] = []
    on = False
    for w in words:
        if w.text == key:
            on = True
        elif w.text in keys:
            on = False
        elif on:
            out.append(w)
    return out


def graph(calls: Iterable[Call], roots: Iterable[str] = ()) -> Targets:
    """The build graph of the reached ``calls``; ``roots``: targets the build names
    (see the module)."""
    kinds: dict[str, str] = {}
    starts: set[str] = set(roots)
    edges: dict[str, list[Value]] = {}
    available: set[str] = set()
    for name, words in calls:
        lname = name.lower()
        if lname in ("fetchcontent_makeavailable", "fetchcontent_populate"):
            available.update(
                w.text.lower() for w in words[: 1 if lname.endswith("populate") else None]
            )
        if not words:
            continue
        target = words[0].text
        if lname == "externalproject_add":
            kinds[target] = "ExternalProject_Add"
            if not excluded(list(words[1:])):
                starts.add(target)
            edges.setdefault(target, []).extend(_after(words[1:], "DEPENDS", _EP_KEYS))
        elif lname == "add_custom_target":
            kinds[target] = "add_custom_target"
            if words[1:2] and words[1].text == "ALL":
                starts.add(target)
            edges.setdefault(target, []).extend(_after(words[1:], "DEPENDS", _CUSTOM_KEYS))
        elif lname == "add_dependencies":
            edges.setdefault(target, []).extend(words[1:])
    starts |= {t for t in edges if t not in kinds}
    built: set[str] = set()
    todo = sorted(starts)
    while todo:
        t = todo.pop()
        if t in built:
            continue
        built.add(t)
        for dep in edges.get(t, []):
            if dep.missing:
                return Targets(kinds, None, frozenset(available))
            todo.append(dep.text)
    return Targets(kinds, frozenset(built), frozenset(available))
