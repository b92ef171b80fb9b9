"""`update --only`: take the named entries from a fresh resolve, every other from the old lock."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import ResolveError, UsageError
from ..model import Lock, WheelPin, environments

KINDS = ("git", "wheel", "image", "url")


def parse_only(spec: str) -> tuple[str, str]:
    """``git:core`` → ("git", "core"); ``image:base``, ``wheel:numpy``, ``url:https://…``."""
    kind, sep, name = spec.partition(":")
    if not sep or kind not in KINDS or not name:
        raise UsageError(f"--only {spec!r}: expected KIND:NAME with KIND one of {', '.join(KINDS)}")
    if (kind, name) == ("git", "server"):
        raise UsageError(
            "--only git:server: the server commit decides upstream's recipe and so every other "
            "input; run `tritonlock update` without --only"
        )
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


def held(old: Lock, only: list[tuple[str, str]]) -> tuple[WheelPin, ...]:
    """The old lock's wheels that ``only`` does not name: they keep their versions."""
    named = {name for kind, name in only if kind == "wheel"}
    return tuple(w for w in old.wheel if w.name not in named)


def merge_only(old: Lock, new: Lock, only: list[tuple[str, str]]) -> Lock:
    """Entries named in ``only`` come from ``new``; all others stay exactly as in ``old``.

    Wheels go by install step: a named package is taken from ``new``; a package that ``new``
    adds to a step (a new dependency of a named one) is taken too; a package ``new`` no
    longer installs in a step is dropped; every other wheel stays as it was. A named entry
    that ``new`` lacks is an error (with the reason ``new`` recorded, if any), never a
    silent removal. With wheels named, the lock's ``exclude-newer`` is ``new``'s.
    """
    merged = old
    for kind in KINDS:
        names = {name for k, name in only if k == kind}
        if not names:
            continue
        _check_named(old, new, kind, names)
        if kind == "wheel":
            wheels = _wheels(old.wheel, new.wheel, names)
            envs = environments(wheels, new.environment)
            merged = replace(merged, wheel=wheels, environment=envs)
            continue
        kept = [e for e in getattr(old, kind) if _key(kind, e) not in names]
        taken = [e for e in getattr(new, kind) if _key(kind, e) in names]
        merged = _with(merged, kind, tuple(kept + taken))
    if any(k == "wheel" for k, _ in only):
        used = {w.index for w in merged.wheel}
        indexes = {i.name: i for i in (*old.index, *new.index)}
        merged = replace(merged, index=tuple(indexes[n] for n in sorted(used) if n in indexes))
        cutoff = new.inputs.exclude_newer  # the wheels taken were read as of it
        merged = replace(merged, inputs=replace(merged.inputs, exclude_newer=cutoff))
    return merged


def check_only(old: Lock, only: list[tuple[str, str]], path: str = "the lock") -> None:
    """Every entry ``only`` names is in ``old``: checked before anything is fetched."""
    for kind, name in only:
        if name not in {_key(kind, e) for e in getattr(old, kind)}:
            pending = [u.what for u in old.unresolved if u.kind == kind]
            hint = (
                f" (it lists {pending[0]!r} as unresolved: run `tritonlock update` "
                "without --only to resolve that)"
                if pending
                else ""
            )
            raise UsageError(f"--only {kind}:{name}: no such entry in {path}{hint}")


def _check_named(old: Lock, new: Lock, kind: str, names: set[str]) -> None:
    check_only(old, [(kind, name) for name in names])
    fresh = {_key(kind, e) for e in getattr(new, kind)}
    for name in sorted(names - fresh):
        why = next((u.why for u in new.unresolved if u.kind == kind), None)
        raise ResolveError(
            f"--only {kind}:{name}: not resolved again"
            + (f": {why}" if why else "; the new resolve no longer has it")
        )


def _wheels(
    old: tuple[WheelPin, ...], new: tuple[WheelPin, ...], names: set[str]
) -> tuple[WheelPin, ...]:
    before = {(w.step, w.name): w for w in old}
    out = []
    for w in new:
        kept = before.get((w.step, w.name))
        out.append(w if w.name in names or kept is None else kept)
    return tuple(out)
