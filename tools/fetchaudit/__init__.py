"""Every fetch the pinned sources can perform during the offline compile, each classified
(pure; compile_fetches.py does the checkouts and the printing).

The walk configures each pinned repository's CMake the way the build does, on the trees
checked out at their pinned commits (submodules at their paths): the repositories
``cmake_build`` configures with its ``-D`` flags, each dependency with what the reached
``ExternalProject_Add``/``FetchContent_Declare`` that fetches it passes, a top-level
repository nothing configures with the recipe's ``TRITON_*`` variables. It records every
command reached (:func:`tritonlock.upstream.cmake.configure`'s ``observe``). Then:

* every ``ExternalProject_Add``/``FetchContent_Declare`` with ``URL`` or
  ``GIT_REPOSITORY`` and every ``file(DOWNLOAD)`` of every CMake file of the trees;
* every command of a reached ``execute_process``/``add_custom_command``/
  ``add_custom_target``/``ExternalProject_Add`` (and the scripts it runs, recursively),
  and every such command not reached that would install, download or run a script;
* every ``git clone``, pip, wget/curl and script run of the recipe's ``cmake_build``

is one :class:`Finding`: provided (by which pin, and how: mirror, hook or wheelhouse,
:mod:`tritonlock.emit.provides`), not reached (why), unresolved in the lock, NOT PROVIDED,
or no fetch at all (a local file, a build without isolation, a setup.py that fetches
nothing).
"""

from __future__ import annotations

from collections.abc import Mapping

from tritonlock.emit import provides
from tritonlock.model import Lock
from tritonlock.resolve.cmakeflags import named_targets
from tritonlock.upstream.cmake import targets as build_targets

from .commands import command_findings, recipe_findings
from .declarations import cmake_findings
from .model import (
    NO_FETCH,
    NOT_PROVIDED,
    NOT_REACHED,
    PROVIDED,
    STATUSES,
    UNRESOLVED,
    Audit,
    Finding,
    Reader,
    Tree,
    counts,
)
from .walk import MAX_WALKS, walk

__all__ = [
    "NOT_PROVIDED",
    "NOT_REACHED",
    "NO_FETCH",
    "PROVIDED",
    "STATUSES",
    "UNRESOLVED",
    "Audit",
    "Finding",
    "Reader",
    "Tree",
    "audit",
    "counts",
]


def audit(
    lock: Lock,
    recipe: Mapping[str, str],
    trees: Mapping[str, Tree],
    read: Reader,
    unread: Mapping[str, str] | None = None,
) -> Audit:
    """Every fetch construct of the pinned sources and the recipe, classified."""
    a = Audit(lock=lock, recipe=recipe, trees=trees, read=read, unread=dict(unread or {}))
    a.house = provides.wheelhouse(lock, recipe)
    roots = named_targets(recipe.get("cmake_build", ""))  # what cmake_build builds by name
    for _ in range(MAX_WALKS):  # until what is built no longer changes
        a.seen = {}
        walk(a)
        calls = [(name, words) for s in a.seen.values() for (_, _, words), name in s.calls.items()]
        built = build_targets.graph(calls, roots)
        if built == a.targets:
            break
        a.targets = built
    if a.built.built is None:
        a.notes.append("a DEPENDS could not be expanded: every target counts as built")
    recipe_findings(a)
    for pin in lock.git:
        tree = trees.get(pin.name)
        if tree is None:
            why = a.unread.get(pin.name, "not checked out")
            a.add(
                Finding(
                    "cmake",
                    UNRESOLVED,
                    f"{pin.name}@{pin.commit[:12]}",
                    "tree",
                    pin.url,
                    f"not examined: {why}",
                )
            )
            continue
        cmake_findings(a, tree)
        command_findings(a, tree)
        seen = a.seen.get(pin.name)
        if seen is None or not seen.configs:
            a.notes.append(f"{pin.name}: pinned, but no fetch that runs in the build asks for it")
        a.notes += [f"{pin.name}: the walk met {p}" for p in (seen.problems if seen else [])]
    for key, why in sorted(a.unread.items()):
        if "/" in key:  # a submodule of a pin that was read
            a.add(Finding("cmake", UNRESOLVED, key, "submodule", key, f"not examined: {why}"))
    a.findings.sort(key=lambda f: (STATUSES.index(f.status), f.section, f.where, f.fetches))
    return a
