"""Three-way merge of locks entry by entry, for git's merge driver.

A lock is split into entries keyed by their identity — an input, a release fact, a recipe
file, a git pin by name, an index by name, a wheel by step/name, an image by role, a
download by URL, an apt package by step/name, an unresolved entry by kind:what — and each
entry is merged on its own: the side that changed it wins, both sides changing it the same
way is no conflict, and both changing it differently is a conflict on that entry only.
What follows from other entries is computed again (an environment's packages from the
wheels, the content hash from the whole).

A conflicted merge keeps this branch's value of each conflicted entry and lists the entry
as ``[[unresolved]]`` with why, and keeps the content hash this branch claimed, which no
longer matches: ``verify`` and ``build`` refuse the file (with or without
``--allow-partial``) until ``tritonlock update`` resolves it again and writes it sealed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..errors import LockInvalid
from ..model import Data, Lock, Unresolved, environments

Key = tuple[str, str]  # (section, identity)
_GONE = object()  # an entry a side does not have

# The kind of the [[unresolved]] entry that marks a conflict in each section.
_MARK_KIND = {
    "lock-version": "recipe",
    "inputs": "recipe",
    "release": "release",
    "release-source": "release",
    "recipe": "recipe",
    "recipe.files": "recipe",
    "git": "git",
    "index": "wheel",
    "wheel": "wheel",
    "environment": "wheel",
    "image": "image",
    "url": "url",
    "apt": "apt",
    "apt.packages": "apt",
}
_LIMIT = 500  # the schema's bound on an unresolved entry's what and why


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict:
    """An entry both sides changed, each differently from the base (or added differently)."""

    section: str
    key: str
    base: Any
    ours: Any
    theirs: Any

    @property
    def label(self) -> str:
        """``wheel final/numpy``, ``inputs backends``, ``apt`` (the table itself)."""
        return f"{self.section} {self.key}".rstrip()

    @property
    def text(self) -> str:
        was = "" if self.base is _GONE else f"; was {_brief(self.base)}"
        return f"{_brief(self.ours)} here, {_brief(self.theirs)} in the other branch{was}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Merged:
    """The merged lock (sealed when clean), its conflicts, and how many entries came from
    the other branch."""

    lock: Lock
    conflicts: tuple[Conflict, ...]
    taken: int

    @property
    def clean(self) -> bool:
        return not self.conflicts


def merge_locks(base: Lock | None, ours: Lock, theirs: Lock) -> Merged:
    """Merge ``ours`` and ``theirs`` (both from ``base``; None: no common ancestor)."""
    b = split(base.to_dict(with_hash=False)) if base is not None else {}
    o, t = split(ours.to_dict(with_hash=False)), split(theirs.to_dict(with_hash=False))
    merged: dict[Key, Any] = {}
    conflicts: list[Conflict] = []
    taken = 0
    for key in sorted(o.keys() | t.keys() | b.keys()):
        old, mine, other = b.get(key, _GONE), o.get(key, _GONE), t.get(key, _GONE)
        if mine == other or other == old:
            value = mine
        elif mine == old:
            value, taken = other, taken + 1
        elif key[0] == "unresolved":  # a reason reworded: not a pin; one side resolved it: gone
            value = _GONE if _GONE in (mine, other) else mine
        else:
            conflicts.append(
                Conflict(section=key[0], key=key[1], base=old, ours=mine, theirs=other)
            )
            value = mine
        if value is not _GONE:
            merged[key] = value
    lock = _derived(Lock.from_dict(join(merged)))
    if conflicts:
        marks = tuple(_mark(c) for c in conflicts)
        kept = tuple(u for u in lock.unresolved if (u.kind, u.what) not in _keys(marks))
        lock = replace(lock, unresolved=kept + marks, content_hash=ours.content_hash)
        return Merged(lock=lock.canonical(), conflicts=tuple(conflicts), taken=taken)
    from . import seal

    return Merged(lock=seal(lock), conflicts=(), taken=taken)


def conflicted_text(merged: Merged, path: str) -> str:
    """The TOML of a conflicted merge, under a header naming its conflicts (``dumps`` would
    seal it: a conflicted lock must not verify)."""
    from . import HEADER
    from .tomlout import document

    names = ", ".join(c.label for c in merged.conflicts)
    header = HEADER + (
        f"# MERGE CONFLICT in {path}: {_clip(names)}. Both branches changed these entries\n"
        "# differently; they are listed under [[unresolved]]. Run `tritonlock update` to\n"
        "# resolve them again (the content-hash is stale until then, so verify fails).\n"
    )
    return document(header, merged.lock.to_dict())


def _keys(marks: Iterable[Unresolved]) -> set[tuple[str, str]]:
    return {(u.kind, u.what) for u in marks}


def _derived(lock: Lock) -> Lock:
    """What follows from the merged entries: each environment's packages from the wheels."""
    if not lock.environment:
        return lock
    return replace(lock, environment=environments(lock.wheel, lock.environment))


def _mark(c: Conflict) -> Unresolved:
    kind = _MARK_KIND.get(c.section, "recipe")
    what = f"merge conflict: {c.label}"
    why = (
        f"both branches changed it differently ({c.text}); this branch's is kept: run "
        "`tritonlock update` to resolve it again"
    )
    return Unresolved(kind=kind, what=what[:_LIMIT], why=_clip(why))  # type: ignore[arg-type]


def _clip(text: str) -> str:
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _brief(value: Any) -> str:
    """An entry's value in a few words: its version, commit, digest, or compact JSON."""
    if value is _GONE:
        return "removed"
    if isinstance(value, dict):
        for field in ("version", "commit", "digest", "sha256", "why", "steps"):
            if field in value:
                return _brief(value[field])
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if len(text) == 40 and all(c in "0123456789abcdef" for c in text):
        return text[:12]
    return text if len(text) <= 60 else text[:59] + "…"


# ---------------------------------------------------------------- entries of lock data


def split(data: Data) -> dict[Key, Any]:
    """Lock data (schema-valid) as its entries; a duplicate identity is refused."""
    out: dict[Key, Any] = {}
    for key, value in _pairs(data):
        if key in out:
            raise LockInvalid("<merge>", [f"{key[0]}: duplicate entry {key[1]!r}"])
        out[key] = value
    return out


def _pairs(data: Data) -> Iterator[tuple[Key, Any]]:
    yield ("lock-version", ""), data["lock-version"]
    for name, value in data["inputs"].items():
        yield ("inputs", name), value
    for name, value in data.get("release", {}).items():
        yield ("release", name), value
    for s in data.get("release-source", ()):
        yield ("release-source", s["fact"]), s
    if "recipe" in data:
        yield ("recipe", ""), True  # the table, which may be empty
        yield ("recipe", "options"), data["recipe"].get("options", [])
        for f in data["recipe"].get("files", ()):
            yield ("recipe.files", f["name"]), f
    for section, ident in _LISTS:
        for item in data.get(section, ()):
            yield (section, ident(item)), item
    for e in data.get("environment", ()):  # its packages follow from the wheels
        yield ("environment", e["image"]), e["steps"]
    if "apt" in data:
        yield ("apt", ""), True
        if "snapshot" in data["apt"]:
            yield ("apt", "snapshot"), data["apt"]["snapshot"]
        for p in data["apt"].get("packages", ()):
            yield ("apt.packages", f"{p['step']}/{p['name']}"), p


_LISTS: tuple[tuple[str, Any], ...] = (
    ("git", lambda g: g["name"]),
    ("index", lambda x: x["name"]),
    ("wheel", lambda w: f"{w['step']}/{w['name']}"),
    ("image", lambda i: i["role"]),
    ("url", lambda u: u["url"]),
    ("unresolved", lambda u: f"{u['kind']}:{u['what']}"),
)


def join(entries: dict[Key, Any]) -> Data:
    """Lock data from entries (lists in any order: the lock is made canonical after)."""

    def section(name: str) -> list[tuple[str, Any]]:
        return [(k, v) for (s, k), v in entries.items() if s == name]

    data: Data = {
        "lock-version": entries[("lock-version", "")],
        "inputs": dict(section("inputs")),
        "release": dict(section("release")),
    }
    if section("release-source"):
        data["release-source"] = [v for _, v in section("release-source")]
    if ("recipe", "") in entries:
        files = [v for _, v in section("recipe.files")]
        data["recipe"] = {"options": entries.get(("recipe", "options"), []), "files": files}
    for name, _ in _LISTS:
        if section(name):
            data[name] = [v for _, v in section(name)]
    if section("environment"):  # packages: computed again from the wheels
        data["environment"] = [
            {"image": image, "steps": steps, "packages": []}
            for image, steps in section("environment")
        ]
    if ("apt", "") in entries:
        apt: Data = {"packages": [v for _, v in section("apt.packages")]}
        if ("apt", "snapshot") in entries:
            apt["snapshot"] = entries[("apt", "snapshot")]
        data["apt"] = apt
    return data


__all__ = ["Conflict", "Merged", "conflicted_text", "join", "merge_locks", "split"]
