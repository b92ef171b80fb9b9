"""What `verify --deep` asks about apt pins: what the recipe installs at the lock's server
commit, and every version the archives offer for it.

The recipe is captured again (``build.py --dryrun`` at the pinned commit, as `build` does);
when it differs from the lock's, the archives are not read: checking the pins against a
different recipe would prove nothing. Otherwise each install step's packages are looked up
the way `resolve` reads them: the lock's dated Ubuntu snapshot plus the repositories the
step adds before it (third-party ones are not snapshotted, and may drop versions). Every
offered version is returned, so the judge can tell a version that is gone from a newer one
that appeared. Judging is :func:`tritonlock.verify.deep.check_apt`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..model import Lock
from ..resolve.aptplan import apt_base, apt_requests
from ..resolve.recipe import capture
from ..sources import apt as aptres
from ..sources import debian
from ..upstream import floating_inputs
from ..upstream.targets import TARGETS

Key = tuple[str, str]  # (step, package)


@dataclass(frozen=True, slots=True, kw_only=True)
class AptAnswer:
    """``stale``: how the recipe differs from the lock's (then nothing else was read).
    ``installs``: (step, package) → the version pattern the recipe asks for, in recipe order.
    ``offered``: (step, package) → every version its step's archives offer now."""

    stale: tuple[str, ...] = ()
    installs: Mapping[Key, str | None] = field(default_factory=dict)
    offered: Mapping[Key, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AptSources:
    """Where the recipe and the archives are read (never what they must say)."""

    archive: str
    git_mirrors: Sequence[tuple[str, str]] = ()
    url_mirrors: Sequence[tuple[str, str]] = ()
    jobs: int = 8
    timeout: float = 120.0


def read_apt(
    lock: Lock, where: AptSources, progress: Callable[[str], None] | None = None
) -> AptAnswer:
    """The recipe's apt installs at the lock's server commit and what the lock's snapshot
    (and the repositories each step adds) offer for them. Raises ResolveError when a
    source cannot be read, UsageError for an unusable archive URL."""
    files, problems = capture(lock, where.git_mirrors, timeout=where.timeout)
    if problems:
        return AptAnswer(stale=tuple(problems))
    requests = apt_requests(floating_inputs(files))
    snapshot = lock.apt.snapshot if lock.apt else None
    if snapshot is None:
        return AptAnswer(installs=_installs(requests))
    arch = TARGETS[lock.inputs.target].deb_arch
    base = apt_base(where.archive, arch=arch, release=lock.inputs.release, snapshot=snapshot)
    candidates = aptres.read_candidates(
        requests,
        arch=arch,
        base=base,
        snapshot=snapshot,
        mirrors=where.url_mirrors,
        timeout=where.timeout,
        jobs=where.jobs,
        progress=progress,
    )
    return AptAnswer(installs=_installs(requests), offered=offered_versions(requests, candidates))


def _installs(requests: Sequence[aptres.AptRequest]) -> dict[Key, str | None]:
    """A package asked for twice in a step keeps the later request (what apt leaves)."""
    return {(r.step, name): want for r in requests for name, want in r.packages}


def offered_versions(
    requests: Sequence[aptres.AptRequest],
    candidates: Sequence[tuple[Sequence[debian.PackageEntry], int]],
) -> dict[Key, tuple[str, ...]]:
    """Every version of each requested package among what the base suites and the
    request's own repositories list (:func:`tritonlock.sources.apt.read_candidates`, which
    reads and hash-checks them exactly as ``resolve_apt`` does), oldest first."""
    offered: dict[Key, tuple[str, ...]] = {}
    for request, (entries, _) in zip(requests, candidates, strict=True):
        for name, _want in request.packages:
            versions = {e.version for e in entries if e.name == name}
            offered[(request.step, name)] = tuple(sorted(versions, key=debian.version_key))
    return offered
