"""The model round-trips lock data exactly, and sealing is canonical."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import strategies as S
from tests.fixtures.emit_world import make_lock
from tritonlock import lockfile
from tritonlock.errors import EXIT_NEGATIVE, MissingPin
from tritonlock.lockfile import schema
from tritonlock.model import Lock

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=60, deadline=None)
@given(S.lock_dicts())
def test_from_dict_to_dict_is_exact(data: dict[str, Any]) -> None:
    assert schema.problems(data) == []
    assert Lock.from_dict(data).to_dict() == data


@S.ADVERSARIAL_SETTINGS
@given(S.adversarial_locks())
def test_adversarial_round_trip(lock: Lock) -> None:
    data = lock.to_dict()
    assert schema.problems(data) == []
    assert Lock.from_dict(data).to_dict() == data
    assert lockfile.loads(lockfile.dumps(lock)) == lock


@settings(max_examples=60, deadline=None)
@given(S.locks())
def test_loads_dumps_is_seal(lock: Lock) -> None:
    assert lockfile.loads(lockfile.dumps(lock)) == lockfile.seal(lock)


@settings(max_examples=40, deadline=None)
@given(S.locks(sealed=True), st.randoms(use_true_random=False))
def test_seal_ignores_entry_order(lock: Lock, rnd: Any) -> None:
    def shuffled(items: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(items)
        rnd.shuffle(out)
        return tuple(out)

    messy = replace(
        lock,
        content_hash=None,
        git=shuffled(tuple(replace(g, submodules=shuffled(g.submodules)) for g in lock.git)),
        wheel=shuffled(lock.wheel),
        image=shuffled(lock.image),
        url=shuffled(lock.url),
        index=shuffled(lock.index),
        unresolved=shuffled(lock.unresolved),
        release=replace(lock.release, facts=shuffled(lock.release.facts)),
    )
    assert lockfile.seal(messy) == lock
    assert lockfile.dumps(messy) == lockfile.dumps(lock)


@settings(max_examples=30, deadline=None)
@given(S.locks())
def test_seal_is_idempotent_and_hash_excludes_itself(lock: Lock) -> None:
    sealed = lockfile.seal(lock)
    assert lockfile.seal(sealed) == sealed
    assert sealed.content_hash == lockfile.content_hash(sealed.to_dict())
    assert "content-hash" not in sealed.to_dict(with_hash=False)
    assert sealed.partial == bool(sealed.unresolved)


def test_server_pin_is_the_pin_named_server_and_its_absence_says_so() -> None:
    lock = make_lock("cpu")
    assert lock.server_pin().name == "server"
    without = replace(lock, git=tuple(g for g in lock.git if g.name != "server"))
    with pytest.raises(MissingPin, match="no pin named 'server'; re-resolve") as err:
        without.server_pin()
    assert err.value.exit_code == EXIT_NEGATIVE


def test_the_type_checker_tells_a_digest_from_a_commit(tmp_path: Path) -> None:
    snippet = (
        "from tritonlock.model import Commit, Digest, GitPin\n"
        "GitPin(name='s', url='u', ref='r', commit=Commit('a' * 40))\n"
        "GitPin(name='s', url='u', ref='r', commit=Digest('sha256:' + 'a' * 64))\n"
    )
    # in a child: mypy raises the interpreter's recursion limit, which other tests rely on
    args = ["--strict", "--config-file", "", "--cache-dir", str(tmp_path), "-c", snippet]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        '<string>:3: error: Argument "commit" to "GitPin" has incompatible type "Digest"; '
        'expected "Commit"  [arg-type]'
    )
