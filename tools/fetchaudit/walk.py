"""Configure every pinned tree the way the compile's build does (pure): the repositories
``cmake_build`` configures with its ``-D`` flags, each dependency with what the reached
``ExternalProject_Add``/``FetchContent_Declare`` that fetches it passes (only when it is
built, or made available), a top-level repository nothing configures with the recipe's
``TRITON_*`` variables; every command reached is recorded
(:func:`tritonlock.upstream.cmake.configure`'s ``observe``)."""

from __future__ import annotations

from collections.abc import Mapping

from tritonlock.model import Lock
from tritonlock.resolve.cmakeflags import configures
from tritonlock.upstream import cmake
from tritonlock.upstream.cmake import targets as build_targets
from tritonlock.upstream.targets import TARGETS

from . import scan
from .model import Audit, Config, Seen, Tree, is_top, norm, pin_for

MAX_WALKS = 4
TRACKED = scan.RUNS | {"add_dependencies", "fetchcontent_makeavailable", "fetchcontent_populate"}


def recipe_configs(lock: Lock, cmake_build: str) -> tuple[dict[str, Config], dict[str, str]]:
    """Pin name → how ``cmake_build`` configures it, and the ``TRITON_*`` variables it
    passes the server (what a top-level repository nothing else configures is read with)."""
    out: dict[str, Config] = {}
    flags = configures(cmake_build)
    server = flags.get("server", {})
    base = {k: v for k, v in server.items() if v is not None and k.startswith("TRITON_")}
    base = {k: v for k, v in base.items() if k.endswith("_REPO_TAG") or "ORGANIZATION" in k}
    for name, given in flags.items():
        pin = next((p for p in lock.git if p.name == name), None) or next(
            (p for p in lock.git if norm(p.url).rsplit("/", 1)[-1] == name), None
        )
        if pin is None:
            continue
        known = {**base, **{k: v for k, v in given.items() if v is not None}}
        unknown = sorted(k for k, v in given.items() if v is None)
        out[pin.name] = (tuple(sorted(known.items())), tuple(unknown), False)
    return out, base


def child_config(fetch: cmake.Fetch, top: bool, base: Mapping[str, str]) -> Config:
    """How a reached git fetch configures the repository it fetches (as the build does:
    an ExternalProject with its ``-D`` arguments, a FetchContent dependency in the scope
    that makes it available, without the declaring tree's source paths)."""
    under = dict(base) if top else {}
    if not fetch.inherits:
        known = {**under, **dict(fetch.defines)}
        return tuple(sorted(known.items())), tuple(sorted(set(fetch.unknown))), False
    keep = {k: v for k, v in fetch.defines if cmake.SRC not in v}
    dropped = [k for k, _ in fetch.defines if k not in keep]
    known = {**under, **keep}
    return tuple(sorted(known.items())), tuple(sorted({*fetch.unknown, *dropped})), True


def walk(a: Audit) -> None:
    """Configure every pinned tree every way the build does, recording what runs."""
    starts, base = recipe_configs(a.lock, a.recipe.get("cmake_build", ""))
    platform = {"CMAKE_SYSTEM_PROCESSOR": TARGETS[a.lock.inputs.target].machine}
    platform["CMAKE_HOST_SYSTEM_PROCESSOR"] = platform["CMAKE_SYSTEM_PROCESSOR"]
    queue = list(starts.items())
    final = True
    while queue or final:
        if not queue:  # top-level repositories nothing configures: with the recipe's base
            final = False
            queue = [
                (p.name, (tuple(sorted(base.items())), (), False))
                for p in a.lock.git
                if is_top(p) and not a.seen.get(p.name, Seen()).configs
            ]
            continue
        name, config = queue.pop(0)
        seen = a.seen.setdefault(name, Seen())
        if config in seen.configs or name not in a.trees:
            continue
        seen.configs.append(config)
        for fetch in _configure(a.trees[name], config, platform, seen):
            if fetch.kind != "git" or fetch.missing:
                continue
            pin = pin_for(a.lock, fetch.url, fetch.tag)
            if pin is not None and _follows(a.targets, fetch):
                queue.append((pin.name, child_config(fetch, is_top(pin), base)))


def _follows(targets: build_targets.Targets | None, fetch: cmake.Fetch) -> bool:
    """Whether a reached git fetch downloads: its ExternalProject is built, or its
    FetchContent content made available (everything, before the build graph is known)."""
    if targets is None:
        return True
    return targets.made_available(fetch.name) if fetch.inherits else targets.is_built(fetch.name)


def _configure(
    tree: Tree, config: Config, platform: Mapping[str, str], seen: Seen
) -> tuple[cmake.Fetch, ...]:
    variables, unknown, inherits = config

    def observe(path: str, cmd: cmake.Command, scope: cmake.Scope) -> None:
        seen.ran.setdefault(path, set()).add(cmd.line)
        lname = cmd.name.lower()
        if lname in TRACKED:
            words = tuple(cmake.values(cmd.args, scope))
            seen.calls.setdefault((path, cmd.line, words), cmd.name)
        elif lname == "configure_file":
            words = tuple(cmake.values(cmd.args, scope))
            if len(words) > 1 and words[0].text.startswith(cmake.SRC + "/"):
                seen.generated[words[1].text] = words[0].text[len(cmake.SRC) + 1 :]

    project = cmake.configure(
        tree.cmake_files,
        {**platform, **dict(variables)},
        unknown=unknown,
        inherits=inherits,
        observe=observe,
    )
    seen.problems += [p for p in project.problems if p not in seen.problems]
    for f in project.fetches:
        got = seen.fetches.setdefault((f.path, f.line), [])
        if f not in got:
            got.append(f)
    return project.fetches
