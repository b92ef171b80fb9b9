"""What every stage of `resolve` shares: the options, the targets, and the context that
records unresolved inputs (with --allow-partial) without mirror locations."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..errors import TritonLockError
from ..model import GitPin, Index, Inputs, Kind, Lock, Unresolved, WheelPin
from ..sources.hosts import GITHUB_ORG, UBUNTU_SNAPSHOTS
from ..util.redact import redact
from . import wheels as whlres

# target → (image platform, machine, dpkg architecture)

Progress = Callable[[str], None]
T = TypeVar("T")
Wheels = tuple[tuple[WheelPin, ...], tuple[Index, ...]]


@contextlib.contextmanager
def interruptible_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that, when the caller fails (Ctrl-C, an error), stops waiting for
    work still under way (a hung registry) instead of joining it."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveOptions:
    """Everything `resolve` needs besides the inputs. Only what dates a source reaches the
    lock: the apt snapshot (in ``[apt]``) and the wheels' cutoff ``exclude_newer`` (a UTC
    time, or ``now`` for none; in ``[inputs]``), each the server commit's time when None."""

    organization: str = GITHUB_ORG
    server_ref: str | None = None
    git_mirrors: tuple[tuple[str, str], ...] = ()
    registry_mirrors: tuple[tuple[str, str], ...] = ()
    url_mirrors: tuple[tuple[str, str], ...] = ()
    indexes: tuple[whlres.IndexSpec, ...] = (
        whlres.IndexSpec(name="pypi", url="https://pypi.org/simple"),
    )
    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    allow_partial: bool = False
    allow_sdist: bool = False
    allow_http: bool = False
    insecure_registries: tuple[str, ...] = ()
    ca_file: Path | None = None
    apt_snapshot: str | None = None
    apt_base: str = UBUNTU_SNAPSHOTS
    exclude_newer: str | None = None
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "tritonlock")
    jobs: int = 24  # requests in flight: network latency, not cores, is what they wait on
    timeout: float = 120.0
    previous: Lock | None = None
    # `update --only`: the server stays at this pin (its recipe decides every other input),
    # only these kinds are resolved (the others are left empty for the caller to merge),
    # and these wheels are held at their versions, as constraints of their own step.
    server: GitPin | None = None
    kinds: frozenset[str] | None = None
    hold: tuple[WheelPin, ...] = ()

    def wants(self, *kinds: str) -> bool:
        return self.kinds is None or any(k in self.kinds for k in kinds)


@dataclass
class Ctx:
    inputs: Inputs
    opts: ResolveOptions
    say: Progress
    notes: Progress
    unresolved: list[Unresolved] = field(default_factory=list)
    # Targets the recipe's cmake_build builds by name (cmake --build . -t NAME), besides ALL.
    build_targets: tuple[str, ...] = ()

    def take(self, fut: Future[T], kind: Kind, what: str, empty: T) -> T:
        try:
            return fut.result()
        except TritonLockError as err:
            if not self.opts.allow_partial:
                raise
            self.unresolve(kind, what, str(err))
            return empty

    def unresolve(self, kind: Kind, what: str, why: str) -> None:
        """Record an ``[[unresolved]]`` entry; mirror locations (as given or as
        :func:`~tritonlock.util.redact.redact` shows them) and credentials never reach the lock."""
        text = why
        for prefix, target in self.mirrors():
            for shown in dict.fromkeys((target, redact(target))):
                text = text.replace(shown, f"<mirror of {prefix}>")
        self.unresolved.append(Unresolved(kind=kind, what=what, why=one_line(redact(text))))
        self.say(f"unresolved: {kind} {what}")

    def mirrors(self) -> list[tuple[str, str]]:
        """Every (what, where) pair of this run's mirrors, longest location first."""
        o = self.opts
        pairs = [*o.git_mirrors, *o.url_mirrors, *o.registry_mirrors]
        if o.apt_base != UBUNTU_SNAPSHOTS:
            pairs.append((UBUNTU_SNAPSHOTS, o.apt_base))
        return sorted(pairs, key=lambda p: -len(p[1]))


WHY_LIMIT = 480  # the schema allows 500 characters for an unresolved entry's reason
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """``text`` on one line, without control characters (the schema refuses them), cut
    visibly (``…``) to at most ``WHY_LIMIT`` characters."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > WHY_LIMIT:
        return text[: WHY_LIMIT - 1].rstrip() + "\u2026"
    return text or "unknown error"
