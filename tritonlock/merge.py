"""`update --only`: take the named entries from a fresh resolve, every other from the old lock."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .errors import UsageError
from .model import Lock

KINDS = ("git", "wheel", "image", "url")


def parse_only(spec: str) -> tuple[str, str]:
    """``git:core`` → ("git", "core"); ``image:base``, ``wheel:numpy``, ``url:https://…``."""
    kind, sep, name = spec.partition(":")
    if not sep or kind not in KINDS or not name:
        raise UsageError(f"--only {spec!r}: expected KIND:NAME with KIND one of {', '.join(KINDS)}")
    return kind, name


def _key(kind: str, entry: object) -> str:
    attr = {"git": "name", "wheel": "name", "image": "role", "url": "url"}[kind]
    return str(getattr(entry, attr))


def _with(lock: Lock, kind: str, entries: tuple[Any, ...]) -> Lock:
    if kind == "git":
        return replace(lock, git=entries)
    if kind == "wheel":
        return replace(lock, wheel=entries)
    if kind == "image":
        return replace(lock, image=entries)
    return replace(lock, url=entries)


def merge_only(old: Lock, new: Lock, only: list[tuple[str, str]]) -> Lock:
    """Entries named in ``only`` come from ``new``; all others stay exactly as in ``old``."""
    merged = old
    for kind in KINDS:
        names = {name for k, name in only if k == kind}
        if not names:
            continue
        fresh = {_key(kind, e) for e in getattr(new, kind)}
        missing = names - fresh - {_key(kind, e) for e in getattr(old, kind)}
        if missing:
            raise UsageError(f"--only {kind}:{sorted(missing)[0]}: no such entry in either lock")
        kept = [e for e in getattr(old, kind) if _key(kind, e) not in names]
        taken = [e for e in getattr(new, kind) if _key(kind, e) in names]
        merged = _with(merged, kind, tuple(kept + taken))
    if any(k == "wheel" for k, _ in only):
        used = {w.index for w in merged.wheel}
        indexes = {i.name: i for i in (*old.index, *new.index)}
        merged = replace(merged, index=tuple(indexes[n] for n in sorted(used) if n in indexes))
    return merged
