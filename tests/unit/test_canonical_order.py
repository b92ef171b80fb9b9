"""Lists whose order carries no meaning are sealed in one order, and verify spots others."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import tomlkit

from tritonlock import lockfile
from tritonlock.model import Index, Inputs, Lock, Sha256, WheelFile, WheelPin
from tritonlock.verify.offline import verify

FILES = (
    WheelFile(name="six-1.16.0-py2.py3-none-any.whl", sha256=Sha256("sha256:" + "a" * 64), size=1),
    WheelFile(name="six-1.16.0.tar.gz", sha256=Sha256("sha256:" + "b" * 64), size=2),
)
LOCK = Lock(
    inputs=Inputs(release="25.04", target="x86_64"),
    index=(Index(name="pypi", url="https://pypi.org/simple"),),
    wheel=(
        WheelPin(
            step="final",
            image="base",
            name="six",
            version="1.16.0",
            index="pypi",
            files=FILES,
            sdist=True,
        ),
    ),
)


def test_seal_orders_wheel_files_whatever_order_they_came_in() -> None:
    shuffled = replace(LOCK, wheel=(replace(LOCK.wheel[0], files=FILES[::-1]),))
    assert lockfile.dumps(shuffled) == lockfile.dumps(LOCK)


def test_wheel_files_out_of_order_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.lock"
    lockfile.write(LOCK, path)
    assert verify(path).ok
    doc = tomlkit.parse(path.read_text())
    files = doc["wheel"][0]["files"]
    first, second = files[0], files[1]
    files[0], files[1] = second, first
    doc["content-hash"] = lockfile.content_hash(tomllib.loads(tomlkit.dumps(doc)))
    path.write_text(tomlkit.dumps(doc))
    problems = verify(path).problems
    assert problems == ["wheel: entries are not in canonical order; the lock was edited by hand"]
