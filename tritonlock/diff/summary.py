"""The first line a reviewer reads: "2 repos moved, 1 image rebuilt under the same tag,
14 wheels changed, 1 downgrade, TensorRT changed", and each risk flag once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .changes import Change, Diff
from .entries import KINDS
from .risk import Risk

NOUNS = {
    "inputs": ("input", "inputs"),
    "release": ("release fact", "release facts"),
    "recipe": ("recipe entry", "recipe entries"),
    "git": ("repo", "repos"),
    "submodule": ("submodule", "submodules"),
    "index": ("index", "indexes"),
    "wheel": ("wheel", "wheels"),
    "environment": ("environment entry", "environment entries"),
    "image": ("image", "images"),
    "url": ("download", "downloads"),
    "apt": ("apt pin", "apt pins"),
    "unresolved": ("unresolved input", "unresolved inputs"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Count:
    """``count`` entries of ``kind`` that were ``what`` (added, removed, moved, changed …)."""

    kind: str
    what: str
    count: int

    @property
    def text(self) -> str:
        noun = NOUNS[self.kind][self.count != 1]
        return f"{self.count} {noun} {self.what}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """A risk flag and every entry that raised it."""

    risk: Risk
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    inputs: tuple[str, ...]  # "target x86_64 → igpu"
    counts: tuple[Count, ...]
    upgrades: int
    downgrades: int
    flags: tuple[Flag, ...]

    @property
    def text(self) -> str:
        parts = [*self.inputs, *(c.text for c in self.counts)]
        if self.downgrades:
            parts.append(f"{self.downgrades} downgrade{'s' if self.downgrades != 1 else ''}")
        parts += dict.fromkeys(f.risk.what for f in self.flags if f.risk.label != "downgrade")
        return ", ".join(parts) or "no differences"

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "counts": [{"kind": c.kind, "what": c.what, "count": c.count} for c in self.counts],
            "upgrades": self.upgrades,
            "downgrades": self.downgrades,
            "risks": [
                {"flag": f.risk.label, "text": f.risk.text, "entries": list(f.keys)}
                for f in self.flags
            ],
        }


def summarize(diff: Diff) -> Summary:
    counts: list[Count] = []
    for kind in KINDS:
        whats: dict[str, int] = {}
        for c in diff.of_kind(kind):
            if kind != "inputs":
                whats[_what(c)] = whats.get(_what(c), 0) + 1
        counts += [Count(kind=kind, what=w, count=n) for w, n in whats.items()]
    return Summary(
        inputs=tuple(_input(c) for c in diff.of_kind("inputs")),
        counts=tuple(counts),
        upgrades=sum(c.direction == "upgrade" for c in diff.changes),
        downgrades=sum(c.direction == "downgrade" for c in diff.changes),
        flags=_flags(diff.changes),
    )


def _what(change: Change) -> str:
    if change.op != "changed":
        return change.op
    assert change.old is not None and change.new is not None
    if change.kind in ("git", "submodule") and change.old["commit"] != change.new["commit"]:
        return "moved"
    if "rebuilt under the same tag" in change.notes:
        return "rebuilt under the same tag"
    return "changed"


def _input(change: Change) -> str:
    """``target x86_64 → igpu`` for a single value, ``backends: added vllm`` for a list."""
    before = (change.old or {}).get("value")
    after = (change.new or {}).get("value")
    if isinstance(before, list | dict) or isinstance(after, list | dict):
        return f"{change.key} changed"
    shown = [str(v) if v is not None else "(none)" for v in (before, after)]
    return f"{change.key} {shown[0]} → {shown[1]}"


def _flags(changes: tuple[Change, ...]) -> tuple[Flag, ...]:
    """Each distinct risk once, with the entries that raised it, in the order seen."""
    seen: dict[Risk, list[str]] = {}
    for c in changes:
        for r in c.risks:
            seen.setdefault(r, []).append(f"{c.kind}:{c.key}")
    return tuple(Flag(risk=r, keys=tuple(keys)) for r, keys in seen.items())
