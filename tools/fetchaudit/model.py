"""What an audit of the compile's fetches works on and finds (pure): the pinned trees,
one :class:`Finding` per fetch construct, and the lock's answers (pins, unresolved)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from tritonlock.model import GitPin, Lock, Unresolved, WheelPin
from tritonlock.upstream import cmake
from tritonlock.upstream.cmake import targets as build_targets

PROVIDED = "provided"
NOT_REACHED = "not reached"
NOT_PROVIDED = "NOT PROVIDED"
UNRESOLVED = "unresolved"
NO_FETCH = "no fetch"
STATUSES = (NOT_PROVIDED, UNRESOLVED, PROVIDED, NOT_REACHED, NO_FETCH)


@dataclass(frozen=True, slots=True)
class Finding:
    """One fetch construct: ``where`` (``REPO:PATH:LINE`` or ``cmake_build:N``), what it
    is, what it fetches, its status and why; ``via``: the command that runs a script."""

    section: str  # "cmake", "command", "script" or "recipe"
    status: str
    where: str
    construct: str
    fetches: str
    detail: str
    via: str = ""

    def to_dict(self) -> dict[str, str]:
        d = {
            "section": self.section,
            "status": self.status,
            "where": self.where,
            "construct": self.construct,
            "fetches": self.fetches,
            "detail": self.detail,
        }
        if self.via:
            d["via"] = self.via
        return d


@dataclass(frozen=True, slots=True)
class Tree:
    """A pinned repository checked out with its submodules at their paths: the text of
    each CMake file and the path of every file."""

    name: str
    cmake_files: Mapping[str, str]
    paths: frozenset[str]


Reader = Callable[[str, str], "str | None"]  # (pin name, tree path) -> text, None if absent
Config = tuple[tuple[tuple[str, str], ...], tuple[str, ...], bool]


@dataclass
class Seen:
    """What the walk saw of one pinned tree, over every configuration of it."""

    configs: list[Config] = field(default_factory=list)
    ran: dict[str, set[int]] = field(default_factory=dict)  # path -> lines run
    fetches: dict[tuple[str, int], list[cmake.Fetch]] = field(default_factory=dict)
    # (path, line, expanded arguments) -> command name, for the calls in TRACKED
    calls: dict[tuple[str, int, tuple[cmake.Value, ...]], str] = field(default_factory=dict)
    generated: dict[str, str] = field(default_factory=dict)  # configure_file: output -> input
    problems: list[str] = field(default_factory=list)


@dataclass
class Audit:
    """The inputs of an audit and what it found."""

    lock: Lock
    recipe: Mapping[str, str]
    trees: Mapping[str, Tree]
    read: Reader
    unread: Mapping[str, str] = field(default_factory=dict)  # pin name -> why not read
    seen: dict[str, Seen] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    house: dict[str, tuple[WheelPin, ...]] = field(default_factory=dict)
    # what the build builds (None before the first walk: every fetch is followed)
    targets: build_targets.Targets | None = None

    @property
    def built(self) -> build_targets.Targets:
        return self.targets or build_targets.UNKNOWN

    def add(self, finding: Finding) -> None:
        """Record ``finding``; one that differs only in what runs it gets that added."""
        for i, f in enumerate(self.findings):
            if f == finding:
                return
            if replace(f, via="") == replace(finding, via="") and finding.via not in f.via:
                self.findings[i] = replace(f, via=f"{f.via}, {finding.via}")
                return
        self.findings.append(finding)


def norm(url: str) -> str:
    """A repository's identity: scheme and host lowercased, no trailing ``/`` or ``.git``."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path.rstrip('/').removesuffix('.git')}"


def is_top(pin: GitPin) -> bool:
    """Asked for by the recipe or the inputs, not only by a CMake file of a pinned repo."""
    return any(f.count(":") < 2 for f in pin.found_in) or not pin.found_in


def pin_for(lock: Lock, url: str, tag: str | None) -> GitPin | None:
    """The lock's pin of ``url`` at ``tag`` (a ref, a commit or its abbreviation)."""
    ref = tag or "HEAD"
    for pin in lock.git:
        if norm(pin.url) != norm(url):
            continue
        if pin.ref == ref or (re.fullmatch(r"[0-9a-f]{7,40}", ref) and pin.commit.startswith(ref)):
            return pin
    return None


def unresolved(
    lock: Lock, owner: str, names: Iterable[str] = (), url: str = ""
) -> Unresolved | None:
    """The lock's ``[[unresolved]]`` entry that covers a fetch of ``owner``'s sources: the
    one of the download or repository itself, else what ``owner``'s CMake fetches."""
    named = set(names)
    for u in lock.unresolved:
        if (u.kind == "url" and url and u.what == url) or (u.kind == "git" and u.what in named):
            return u
    broad = {f"{owner}: what its CMake files fetch", "git sources"}
    return next((u for u in lock.unresolved if u.kind == "git" and u.what in broad), None)


def short(u: Unresolved) -> str:
    why = u.why if len(u.why) <= 160 else u.why[:159] + "…"
    return f"[[unresolved]] {u.kind} {u.what!r}: {why}"


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {s: sum(1 for f in findings if f.status == s) for s in STATUSES}
