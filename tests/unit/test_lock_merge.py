"""The three-way merge of locks entry by entry (the merge driver's library)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests import strategies as S
from tests.unit.test_install_order import VLLM_THEN_FRONTEND, lock, pin
from tritonlock import lockfile
from tritonlock.lockfile.merge import join, merge_locks, split
from tritonlock.model import Apt, AptPin, Inputs, Lock, Unresolved


@settings(max_examples=50, deadline=None)
@given(S.locks(sealed=True))
def test_split_and_join_give_the_lock_back(a: Lock) -> None:
    entries = split(a.to_dict(with_hash=False))
    again = Lock.from_dict(join(entries))
    assert [e.packages for e in again.environment] == [() for _ in a.environment]  # computed:
    assert merge_locks(a, a, a).lock == lockfile.seal(a)  # from the wheels, as they were


@settings(max_examples=50, deadline=None)
@given(S.locks(sealed=True), S.locks(sealed=True))
def test_one_side_changed_takes_that_side(base: Lock, other: Lock) -> None:
    for ours, theirs, expected in (
        (other, base, other),
        (base, other, other),
        (other, other, other),
    ):
        merged = merge_locks(base, ours, theirs)
        assert merged.clean
        assert merged.lock == lockfile.seal(expected)


def test_disjoint_changes_of_one_section_both_land() -> None:
    base = lock(pin("final-vllm", "pydantic", "2.10.6"), pin("final-vllm", "vllm", "0.10.1"))
    ours = lock(pin("final-vllm", "pydantic", "2.10.7"), pin("final-vllm", "vllm", "0.10.1"))
    theirs = lock(pin("final-vllm", "pydantic", "2.10.6"), pin("final-vllm", "vllm", "0.10.2"))
    merged = merge_locks(base, ours, theirs)
    assert merged.clean and merged.taken == 1
    assert {(w.name, w.version) for w in merged.lock.wheel} == {
        ("pydantic", "2.10.7"),
        ("vllm", "0.10.2"),
    }
    (env,) = merged.lock.environment  # computed again from the merged wheels
    assert env.packages == ("pydantic==2.10.7", "vllm==0.10.2")


def test_a_later_step_added_on_one_side_keeps_the_install_order() -> None:
    base = lock(pin("final-vllm", "pydantic", "2.14.4"), pin("final-vllm", "vllm", "0.10.1"))
    theirs = lock(*VLLM_THEN_FRONTEND)
    merged = merge_locks(base, base, theirs)
    assert merged.clean and merged.lock == lockfile.seal(theirs)


def test_a_conflict_keeps_ours_marks_it_and_leaves_the_hash_stale() -> None:
    base = lock(pin("final-vllm", "pydantic", "2.10.6"))
    ours = lock(pin("final-vllm", "pydantic", "2.10.7"))
    theirs = lock(pin("final-vllm", "pydantic", "2.10.8"))
    merged = merge_locks(base, ours, theirs)
    (c,) = merged.conflicts
    assert c.label == "wheel final-vllm/pydantic"
    assert c.text == "2.10.7 here, 2.10.8 in the other branch; was 2.10.6"
    assert merged.lock.wheel == ours.wheel
    (mark,) = merged.lock.unresolved
    assert mark == Unresolved(
        kind="wheel",
        what="merge conflict: wheel final-vllm/pydantic",
        why="both branches changed it differently (2.10.7 here, 2.10.8 in the other branch; "
        "was 2.10.6); this branch's is kept: run `tritonlock update` to resolve it again",
    )
    assert merged.lock.content_hash == ours.content_hash
    assert lockfile.content_hash(merged.lock.to_dict()) != ours.content_hash


def test_removed_on_one_side_and_changed_on_the_other_is_a_conflict() -> None:
    base = lock(pin("final-vllm", "pydantic", "2.10.6"), pin("final-vllm", "vllm", "0.10.1"))
    ours = lock(pin("final-vllm", "vllm", "0.10.1"))
    theirs = lock(pin("final-vllm", "pydantic", "2.10.8"), pin("final-vllm", "vllm", "0.10.1"))
    (c,) = merge_locks(base, ours, theirs).conflicts
    assert c.text == "removed here, 2.10.8 in the other branch; was 2.10.6"


def test_an_empty_apt_table_is_an_entry_of_its_own() -> None:
    base = lockfile.seal(Lock(inputs=Inputs(release="25.04", target="x86_64")))
    theirs = lockfile.seal(replace(base, apt=Apt()))
    assert merge_locks(base, base, theirs).lock == theirs
    pinned = replace(
        base, apt=Apt(packages=(AptPin(step="final", name="libb64-0d", version="1.2.1-2"),))
    )
    merged = merge_locks(base, lockfile.seal(pinned), theirs)
    assert merged.clean and merged.lock == lockfile.seal(pinned)


def test_an_unresolved_reason_reworded_is_no_conflict_and_resolved_wins() -> None:
    def partial(why: str | None) -> Lock:
        gone = () if why is None else (Unresolved(kind="image", what="base images", why=why),)
        return lockfile.seal(Lock(inputs=Inputs(release="25.04", target="x86_64"), unresolved=gone))

    base, ours, theirs = partial("timeout"), partial("refused"), partial("reset")
    merged = merge_locks(base, ours, theirs)
    assert merged.clean and merged.lock.unresolved == ours.unresolved
    assert merge_locks(base, ours, partial(None)).lock.unresolved == ()


@given(st.data())
@settings(max_examples=20, deadline=None)
def test_no_ancestor_merges_what_both_sides_agree_on(data: st.DataObject) -> None:
    a = data.draw(S.locks(sealed=True))
    merged = merge_locks(None, a, a)
    assert merged.clean and merged.lock == a
