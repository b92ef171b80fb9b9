"""The recipe a lock was resolved from: read from a folder, or captured again from the pinned
server commit, and in both cases checked against ``lock.recipe`` (else the lock is stale).

:func:`stale` is pure; :func:`read_folder` and :func:`capture` do the I/O.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..model import Lock
from ..upstream import capture_recipe
from ..upstream.recipe import RECIPE_FILES, digest
from .trees import checkout

STALE = "the lock or the recipe is stale (run `tritonlock update`)"


def stale(lock: Lock, files: Mapping[str, str], where: str, *, complete: bool) -> list[str]:
    """Every way ``files`` differ from ``lock.recipe.files`` (``complete``: the whole set was
    generated, so a file missing from either side is a difference too)."""
    expected = {f.name: f.sha256 for f in lock.recipe.files} if lock.recipe else {}
    problems = []
    for name in RECIPE_FILES:
        if name not in files:
            problems.append(f"{where}/{name}: missing; regenerate the recipe (build.py --dryrun)")
    for name, text in sorted(files.items()):
        if name not in expected:
            if complete or name in RECIPE_FILES:
                problems.append(f"{where}: lock recipe.files has no {name!r}; {STALE}")
        elif expected[name] != digest(text):
            problems.append(
                f"{where}/{name}: sha256 {digest(text)} differs from the lock's "
                f"{expected[name]}; {STALE}"
            )
    if complete:
        for name in sorted(set(expected) - set(files)):
            problems.append(f"{where}: build.py no longer writes {name!r}; {STALE}")
    return problems


def read_folder(folder: Path, lock: Lock) -> dict[str, str]:
    """The recipe files in ``folder`` that the emitter needs or the lock lists."""
    names = set(RECIPE_FILES) | {f.name for f in (lock.recipe.files if lock.recipe else ())}
    out: dict[str, str] = {}
    for name in sorted(names):
        path = folder / name
        if path.is_file():
            out[name] = path.read_bytes().decode("utf-8", errors="replace")
    return out


def capture(
    lock: Lock, mirrors: Sequence[tuple[str, str]], *, timeout: float = 120
) -> tuple[dict[str, str], list[str]]:
    """Run build.py --dryrun at the pinned server commit with the lock's inputs: the files
    and every way they (or the options) differ from the lock's recipe."""
    server = lock.server_pin()
    with tempfile.TemporaryDirectory(prefix="tritonlock-build-") as tmp:
        tree = Path(tmp) / "server"
        checkout(server.url, server.commit, tree, mirrors)
        recipe, _floating, files = capture_recipe(
            tree,
            lock.inputs,
            timeout=timeout,
            commit=server.commit,
            images_of=lock.release.get("upstream-container-version"),
        )
    where = f"recipe of server {server.commit[:12]}"
    problems = stale(lock, files, where, complete=True)
    if lock.recipe is not None and tuple(lock.recipe.options) != tuple(recipe.options):
        problems.insert(0, f"{where}: build.py options differ from the lock's; {STALE}")
    return files, problems


def recipe_for(
    lock: Lock, folder: str | None, mirrors: Sequence[tuple[str, str]]
) -> tuple[dict[str, str], list[str]]:
    """The lock's recipe, from ``folder`` (named in messages as given) or else generated
    from the pinned server commit, and every way it differs from ``lock.recipe``."""
    if folder is None:
        return capture(lock, mirrors)
    files = read_folder(Path(folder), lock)
    return files, stale(lock, files, folder.rstrip("/"), complete=False)
