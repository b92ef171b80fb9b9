"""`update`: resolve a lock's inputs again, all of them or only some, from the sources the
lock was made from unless told otherwise."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import UsageError
from ..model import GitPin, Lock
from .context import Progress, ResolveOptions
from .cutoff import NOW
from .merge import held, merge_only
from .pipeline import check_rules, resolve
from .wheels import IndexSpec

PRIMARY_INDEX = "pypi"


def update(
    old: Lock,
    opts: ResolveOptions,
    only: list[tuple[str, str]],
    progress: Progress | None = None,
    notes: Progress | None = None,
) -> Lock:
    """``old`` resolved again. With ``only``: the server stays at its pinned commit, only
    the kinds named are resolved, the named entries are taken, other wheels are held at
    their versions, and every other entry stays byte-identical. The wheels' cutoff is the
    lock's unless ``opts`` gives one."""
    opts = replace(opts, previous=old, exclude_newer=cutoff_of(old, opts.exclude_newer, only))
    if not only:
        return resolve(old.inputs, opts, progress, notes)
    opts = replace(
        opts,
        server=server_of(old),
        kinds=frozenset(kind for kind, _ in only),
        hold=held(old, only),
    )
    lock = merge_only(old, resolve(old.inputs, opts, progress, notes), only)
    check_rules(lock)
    return lock


@dataclass(frozen=True, slots=True, kw_only=True)
class GivenAgain:
    """Which sources the user named again for `update`; the others are the lock's."""

    organization: bool = False
    indexes: bool = False
    requirements: bool = False


def remember_sources(opts: ResolveOptions, old: Lock, given: GivenAgain) -> ResolveOptions:
    """``opts`` with every source not given again taken from ``old``: its repos'
    organization, its package indexes and the user's own requirements (the wheels' cutoff
    is kept by :func:`update`)."""
    organization = opts.organization
    if not given.organization:
        organization = (organization_of(old) or organization).rstrip("/")
    requirements = opts.requirements if given.requirements else requirements_of(old)
    indexes = opts.indexes if given.indexes else (indexes_of(old) or opts.indexes)
    return replace(
        opts,
        organization=organization,
        requirements=requirements,
        indexes=indexes,
        previous=old,
    )


def server_of(lock: Lock) -> GitPin:
    for pin in lock.git:
        if pin.name == "server":
            return pin
    raise UsageError("git: the lock has no pin named 'server'; resolve it again from scratch")


def cutoff_of(old: Lock, asked: str | None, only: list[tuple[str, str]]) -> str | None:
    """The wheels' ``--exclude-newer``: as asked, else the lock's. A lock from before it was
    recorded read the indexes as they were, with no cutoff: ``--only`` keeps that (``now``),
    since the wheels it holds may be newer than the server commit; a full update dates the
    indexes by the server commit (None), as `resolve` does."""
    if asked is not None:
        return asked
    if old.inputs.exclude_newer is not None:
        return old.inputs.exclude_newer
    return NOW if only else None


def organization_of(lock: Lock) -> str | None:
    """Where the lock's Triton repos came from: the folder of its server repo's URL."""
    try:
        url = server_of(lock).url
    except UsageError:
        return None
    head, _, tail = url.removesuffix("/").removesuffix(".git").rpartition("/")
    return head if tail == "server" and head else None


def indexes_of(lock: Lock) -> tuple[IndexSpec, ...] | None:
    """The lock's package indexes (primary first), or None if it names none."""
    if not lock.index:
        return None
    specs = []
    for index in sorted(lock.index, key=lambda i: (i.name != PRIMARY_INDEX, i.name)):
        if index.url is None:
            raise UsageError(
                f"index {index.name!r}: the lock records no URL for it (it carried "
                "credentials); pass --index-url / --extra-index-url again"
            )
        specs.append(IndexSpec(name=index.name, url=index.url, extra=index.name != PRIMARY_INDEX))
    if specs[0].extra:  # only extra indexes were used: the primary stays the default
        specs.insert(0, IndexSpec(name=PRIMARY_INDEX, url="https://pypi.org/simple"))
    return tuple(specs)


def requirements_of(lock: Lock) -> tuple[str, ...]:
    """The user's own requirements (step ``user``), as they were asked for."""
    return tuple(sorted({w.requested for w in lock.wheel if w.step == "user" and w.requested}))
