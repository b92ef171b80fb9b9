"""An interrupted write leaves the previous file intact and no temp file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tritonlock import lockfile
from tritonlock.util.atomic import atomic_write_bytes, atomic_write_text

VALID = Path(__file__).parent.parent / "data" / "valid" / "complete.lock"


def test_write_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "triton.lock"
    atomic_write_text(target, "one\n")
    atomic_write_bytes(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert target.stat().st_mode & 0o777 == 0o644
    assert os.listdir(target.parent) == ["triton.lock"]


@pytest.mark.parametrize("where", ["os.replace", "os.fsync", "os.chmod"])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError])
def test_interrupted_write_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, exc: type[BaseException]
) -> None:
    target = tmp_path / "triton.lock"
    old = lockfile.load(VALID)
    lockfile.write(old, target)
    before = target.read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise exc("interrupted")

    monkeypatch.setattr(where, boom)
    with pytest.raises(exc):
        lockfile.write(old.__class__(inputs=old.inputs), target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["triton.lock"]  # no .triton.lock.*.tmp left
    assert lockfile.load(target) == old


def test_interrupted_first_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "triton.lock", b"x")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []
