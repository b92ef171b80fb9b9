"""Properties of the semantic diff: nothing between a lock and itself, and symmetry."""

from __future__ import annotations

import copy
from dataclasses import replace

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from tests import strategies as S
from tritonlock import lockfile
from tritonlock.diff import Change, diff_locks, render_text
from tritonlock.model import Apt, Inputs, Lock

SWAP = {"added": "removed", "removed": "added", "changed": "changed"}


def mirrored(change: Change) -> tuple[object, ...]:
    return (change.kind, change.key, SWAP[change.op], change.new, change.old, change.notes)


def plain(change: Change) -> tuple[object, ...]:
    return (change.kind, change.key, change.op, change.old, change.new, change.notes)


@st.composite
def related_pairs(draw: st.DrawFn) -> tuple[Lock, Lock]:
    """Two locks that share most entries: one, and the same with a few sections redrawn."""
    a = draw(S.locks(sealed=True))
    other = draw(S.locks(sealed=True))
    fields = draw(
        st.sets(st.sampled_from(["release", "git", "wheel", "image", "url", "apt", "unresolved"]))
    )
    b = replace(a, **{f: getattr(other, f) for f in fields})
    return a, lockfile.seal(b)


@settings(max_examples=50, deadline=None)
@given(S.locks())
def test_diff_with_itself_is_empty(lock: Lock) -> None:
    assert diff_locks(lock, lock).changes == ()
    assert diff_locks(lock, lockfile.seal(lock)).identical


@settings(max_examples=50, deadline=None)
@given(st.one_of(related_pairs(), st.tuples(S.locks(), S.locks())))
def test_diff_mirrors(pair: tuple[Lock, Lock]) -> None:
    a, b = pair
    forward, backward = diff_locks(a, b), diff_locks(b, a)
    assert sorted(map(mirrored, forward.changes), key=repr) == sorted(
        map(plain, backward.changes), key=repr
    )
    assert all(c.op in ("added", "removed", "changed") for c in forward.changes)
    assert (forward.old_hash, forward.new_hash) == (backward.new_hash, backward.old_hash)
    if lockfile.seal(a) != lockfile.seal(b):
        assert forward.changes  # a real difference is never silent


def test_no_apt_table_and_an_empty_one_differ() -> None:
    """`[apt]` with no snapshot and no package hashes differently from no `[apt]` at all,
    so the diff must say so (it said "no differences")."""
    none = lockfile.seal(Lock(inputs=Inputs(release="25.04", target="igpu")))
    empty = lockfile.seal(replace(none, apt=Apt()))
    assert none.content_hash != empty.content_hash
    (change,) = diff_locks(none, empty).changes
    assert (change.kind, change.key, change.op) == ("apt", "[apt]", "added")
    assert "+ [apt]: an [apt] table that pins nothing" in render_text(
        diff_locks(none, empty), "a", "b"
    )


def _leaves(data: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """The path of every scalar and every list of scalars in lock data, except what the
    diff leaves out on purpose: the hash itself, the lock-version and an environment's
    packages (they follow from the wheels; verify holds them to it)."""
    if path in (("content-hash",), ("lock-version",)) or (
        path[-1:] == ("packages",) and path[:1] == ("environment",)
    ):
        return []
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _leaves(v, (*path, k))]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return [p for i, v in enumerate(data) for p in _leaves(v, (*path, i))]
    if data == []:  # of tables or of strings? (an empty [apt] table has its own test)
        return []
    return [path]


def _changed(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, list):
        return [*value, "zz-extra"]
    return f"{value}0"


# no shrinking: the failing path is in the message, and shrinking a lock takes minutes
@settings(max_examples=100, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(S.locks(sealed=True), st.data())
def test_every_field_that_reaches_the_hash_shows_in_the_diff(
    lock: Lock, data: st.DataObject
) -> None:
    plain = lock.to_dict()
    path = data.draw(st.sampled_from(_leaves(plain)))
    edited = copy.deepcopy(plain)
    holder = edited
    for step in path[:-1]:
        holder = holder[step]  # type: ignore[index]
    holder[path[-1]] = _changed(holder[path[-1]])  # type: ignore[index]
    other = Lock.from_dict(edited)
    assert lockfile.content_hash(edited) != lockfile.content_hash(plain)
    assert diff_locks(lock, other).changes, path
