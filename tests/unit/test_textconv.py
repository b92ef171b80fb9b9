"""One lock as `git diff` shows it through the textconv driver (tritonlock.diff.textconv)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings

from tests import strategies as S
from tritonlock import lockfile
from tritonlock.diff.textconv import render_lock, render_unreadable
from tritonlock.model import Commit, Lock

VALID = lockfile.load(Path(__file__).parent.parent / "data" / "valid" / "complete.lock")


def test_a_lock_is_one_line_per_entry_with_its_files_under_its_wheel() -> None:
    assert VALID.content_hash is not None
    lines = render_lock(VALID, VALID.content_hash).splitlines()
    assert lines[:2] == [
        "lock-version 1",
        f"content-hash {VALID.content_hash} (matches its content)",
    ]
    url = "http://127.0.0.1:9418/python_backend.git"
    assert f"git python_backend: r25.04 → {'a' * 40} from {url}" in lines
    at = lines.index("wheel final/numpy: 1.26.4, index local, image final, requested numpy<2")
    assert lines[at + 1] == (
        "  file numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.whl sha256:"
        + "2" * 64
        + " 18000000 bytes"
    )
    assert "apt final/libb64-0d: 1.2.1-2" in lines


def test_a_moved_pin_is_one_changed_line_besides_the_hash() -> None:
    moved = lockfile.seal(
        replace(
            VALID,
            git=tuple(replace(g, commit=Commit("d" * 40)) for g in VALID.git[:1]) + VALID.git[1:],
        )
    )
    assert VALID.content_hash is not None and moved.content_hash is not None
    before = render_lock(VALID, VALID.content_hash).splitlines()
    after = render_lock(moved, moved.content_hash).splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert [a.split()[0] for a, _ in changed] == ["content-hash", "git"]


def test_a_hash_that_does_not_match_is_said_on_its_line() -> None:
    text = render_lock(VALID, "sha256:" + "0" * 64)
    assert text.splitlines()[1] == (
        f"content-hash {VALID.content_hash} (DOES NOT MATCH its content, which hashes to "
        f"sha256:{'0' * 64}: edited after it was written)"
    )


@settings(max_examples=50, deadline=None)
@given(S.locks(sealed=True))
def test_every_lock_renders_the_same_twice_and_names_each_pin(lock: Lock) -> None:
    assert lock.content_hash is not None
    text = render_lock(lock, lock.content_hash)
    assert text == render_lock(lock, lock.content_hash) and text.endswith("\n")
    for g in lock.git:
        assert f"git {g.name}: " in text and g.commit in text
    for w in lock.wheel:
        for f in w.files:
            assert f"  file {f.name} {f.sha256} " in text


def test_a_file_that_is_no_lock_is_shown_as_written_under_why() -> None:
    text = render_unreadable("x.lock: not TOML", b"<<<<<<< ours\na = 1\x00\n=======")
    assert (
        text
        == "# tritonlock: x.lock: not TOML; shown as written\n<<<<<<< ours\na = 1\\0\n=======\n"
    )
