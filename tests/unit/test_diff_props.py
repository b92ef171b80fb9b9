"""Properties of the semantic diff: nothing between a lock and itself, and symmetry."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests import strategies as S
from tritonlock import lockfile
from tritonlock.diff import Change, diff_locks
from tritonlock.model import Lock

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
