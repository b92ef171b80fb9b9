"""Semantic diff of two locks, for code review. Pure: locks in, changes out.

Every change is symmetric: ``diff_locks(b, a)`` is ``diff_locks(a, b)`` with old and
new swapped (added ↔ removed), so a reviewer reads the same facts either way; only the
direction of a version (upgrade ↔ downgrade) and so its risk flags depend on the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import Lock
from .entries import KINDS, Fields, entries
from .risk import VERSIONED, Direction, Risk, direction, risks


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One entry added, removed or changed. ``old``/``new`` hold the compared fields."""

    kind: str
    key: str
    op: str  # "added" | "removed" | "changed"
    old: Fields | None
    new: Fields | None
    notes: tuple[str, ...] = ()
    link: str | None = None
    direction: Direction | None = None
    risks: tuple[Risk, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "op": self.op,
            "old": self.old,
            "new": self.new,
            "notes": list(self.notes),
            "link": self.link,
            "direction": self.direction,
            "risk": [
                {"flag": r.label, "old": r.old, "new": r.new, "consequence": r.consequence}
                for r in self.risks
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    old_hash: str | None
    new_hash: str | None
    changes: tuple[Change, ...]
    # A side whose claimed content hash is not the hash of its content: edited or tampered.
    old_hash_actual: str | None = None
    new_hash_actual: str | None = None

    def hash_warnings(self, old_name: str, new_name: str) -> list[str]:
        out = []
        for name, claimed, actual in (
            (old_name, self.old_hash, self.old_hash_actual),
            (new_name, self.new_hash, self.new_hash_actual),
        ):
            if actual is not None and claimed != actual:
                out.append(
                    f"{name} claims content-hash {claimed or '(none)'} but its content hashes "
                    f"to {actual}: it was edited after it was written; do not trust it "
                    f"(`tritonlock verify {name}` lists why)"
                )
        return out

    @property
    def hashes_ok(self) -> bool:
        return not self.hash_warnings("", "")

    @property
    def identical(self) -> bool:
        return not self.changes

    def of_kind(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


def diff_locks(
    old: Lock, new: Lock, *, actual: tuple[str | None, str | None] = (None, None)
) -> Diff:
    """``actual``: the content hashes computed from each file, to check what each claims."""
    a, b = entries(old), entries(new)
    changes: list[Change] = []
    for kind in KINDS:
        for key in sorted(a[kind].keys() | b[kind].keys()):
            before, after = a[kind].get(key), b[kind].get(key)
            if before != after:
                changes.append(_change(kind, key, before, after))
    return Diff(
        old_hash=old.content_hash,
        new_hash=new.content_hash,
        changes=tuple(changes),
        old_hash_actual=actual[0],
        new_hash_actual=actual[1],
    )


def _change(kind: str, key: str, before: Fields | None, after: Fields | None) -> Change:
    op = "added" if before is None else "removed" if after is None else "changed"
    moved: Direction | None = None
    flags: tuple[Risk, ...] = ()
    if kind in VERSIONED and before is not None and after is not None:
        name, old = VERSIONED[kind](key, before)
        new = VERSIONED[kind](key, after)[1]
        if isinstance(old, str) and isinstance(new, str):
            moved = direction(kind, old, new)
            flags = risks(kind, name, old, new, moved)
    elif kind == "image" and before is not None and after is not None:
        flags = risks(kind, key, _image(before), _image(after), None)
    return Change(
        kind=kind,
        key=key,
        op=op,
        old=before,
        new=after,
        notes=_notes(kind, key, before, after),
        link=_link(kind, before, after),
        direction=moved,
        risks=flags,
    )


def _image(fields: Fields) -> str | None:
    """An image as a risk names it: its ref and the short digest it resolved to."""
    if fields["digest"] is None:
        return None
    return f"{fields['ref']}@{str(fields['digest'])[:19]}"


def _notes(kind: str, key: str, before: Fields | None, after: Fields | None) -> tuple[str, ...]:
    if kind == "environment" and "/" in key:  # either side's history, in an order both share
        sides = sorted({str(f["steps"]) for f in (before, after) if f is not None})
        return tuple(f"changed between install steps: {steps}" for steps in sides)
    if before is None or after is None:
        return ()
    notes = []
    if kind == "image" and before["ref"] == after["ref"] and before["digest"] != after["digest"]:
        notes.append("rebuilt under the same tag")
    if kind == "release" and key == "tensorrt" and before["value"] != after["value"]:
        notes.append("TensorRT changed: serialized TensorRT engines (.plan files) must be rebuilt")
    if kind == "image" and before["platform"] != after["platform"]:
        notes.append("target platform changed")
    if kind == "image" and before.get("copies") != after.get("copies"):
        notes.append("the files upstream's CMake copies out of it changed")
    if kind == "wheel" and before["version"] == after["version"] and before != after:
        notes.append("files changed at the same version")
        if _same_name_new_bytes(before, after):
            notes.append(
                "a file's bytes changed under the same name: an index should never do this"
            )
    if kind == "url" and before["sha256"] != after["sha256"]:
        notes.append("content changed at the same URL")
    same_ref = before.get("ref") is not None and before.get("ref") == after.get("ref")
    if kind == "git" and same_ref and before["commit"] != after["commit"]:
        notes.append(f"the {before['ref']} ref moved")
    return tuple(notes)


def file_hashes(fields: Fields) -> dict[str, str]:
    """A wheel entry's files: name → sha256."""
    out = {}
    for f in fields["files"]:
        name, _, sha = str(f).partition(" ")
        out[name] = sha
    return out


def _same_name_new_bytes(before: Fields, after: Fields) -> bool:
    a, b = file_hashes(before), file_hashes(after)
    return any(name in b and b[name] != sha for name, sha in a.items())


def _link(kind: str, before: Fields | None, after: Fields | None) -> str | None:
    """A GitHub compare link when both sides are the same github.com repository."""
    if kind not in ("git", "submodule") or before is None or after is None:
        return None
    url = str(before["url"])
    if url != after["url"] or not url.startswith("https://github.com/"):
        return None
    base = url.removesuffix("/").removesuffix(".git")
    return f"{base}/compare/{before['commit']}...{after['commit']}"
