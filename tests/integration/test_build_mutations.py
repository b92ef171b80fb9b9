"""Every input the offline compile fetches comes from the lock: remove one pin the e2e
world's compile uses (resealing the lock, as a hand edit would) and the build stops in the
offline compile, where that input would have been fetched, instead of reaching for it.

One real buildah build per pin (the stages before the removed pin come from the layer
cache), against the same world as tests/integration/test_build_e2e.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.buildworld import BuildWorld
from tests.integration._image import build_args, cli, resolve_lock
from tritonlock import lockfile
from tritonlock.model import Lock

pytestmark = pytest.mark.integration


def _without_git(name: str) -> Callable[[Lock], Lock]:
    def drop(lock: Lock) -> Lock:
        return dataclasses.replace(lock, git=tuple(g for g in lock.git if g.name != name))

    return drop


def _without_submodules(name: str) -> Callable[[Lock], Lock]:
    def drop(lock: Lock) -> Lock:
        git = tuple(
            dataclasses.replace(g, submodules=()) if g.name == name else g for g in lock.git
        )
        return dataclasses.replace(lock, git=git)

    return drop


def _without_url(file: str) -> Callable[[Lock], Lock]:
    def drop(lock: Lock) -> Lock:
        return dataclasses.replace(lock, url=tuple(u for u in lock.url if not u.url.endswith(file)))

    return drop


def _without_step(step: str) -> Callable[[Lock], Lock]:
    def drop(lock: Lock) -> Lock:
        envs = tuple(e for e in lock.environment if step not in e.steps)
        wheels = tuple(w for w in lock.wheel if w.step != step)
        return dataclasses.replace(lock, wheel=wheels, environment=envs)

    return drop


def _without_copy(path: str) -> Callable[[Lock], Lock]:
    def drop(lock: Lock) -> Lock:
        image = tuple(
            dataclasses.replace(im, copies=tuple(p for p in im.copies if p != path))
            for im in lock.image
        )
        return dataclasses.replace(lock, image=image)

    return drop


# pin removed → what the compile log then says (the input it could not fetch offline)
MUTATIONS: dict[str, tuple[Callable[[Lock], Lock], tuple[str, ...]]] = {
    "git-fetchcontent": (_without_git("leaf"), ("leaf.git", "Could not resolve host")),
    "git-submodule": (_without_submodules("core"), ("subdep.git", "Could not resolve host")),
    "url-hashed": (_without_url("hashed-1.0.tar.gz"), ("hashed-1.0.tar.gz",)),
    "url-unhashed": (_without_url("plain-2.0.tar.gz"), ("plain-2.0.tar.gz",)),
    "wheels-isolated-build": (_without_step("compile-core-wheel"), ("tlbackend",)),
    "wheels-cmake-build-pip": (
        _without_step("cmake_build-requirements-compile"),
        ("compiledep==3.1",),
    ),
    "image-copy": (
        _without_copy("/opt/minitorch/lib/libc10.so"),
        ("Could not find the file /opt/minitorch/lib/libc10.so in container",),
    ),
}


@pytest.fixture(scope="module", name="resolved")
def resolved_fixture(
    build_world: BuildWorld, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Lock, Path]:
    base = tmp_path_factory.mktemp("mutations")
    return lockfile.load(resolve_lock(build_world, base)), base


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_the_compile_fails_without_each_pin(
    mutation: str, resolved: tuple[Lock, Path], build_world: BuildWorld, tmp_path: Path
) -> None:
    lock, base = resolved
    drop, said = MUTATIONS[mutation]
    mutated = drop(lock)
    assert mutated != lock, f"{mutation}: the world's lock has no such pin"
    path = tmp_path / "triton.lock"
    lockfile.write(mutated, path)  # resealed: a fresh content hash
    assert cli("verify", str(path), cwd=tmp_path, env=build_world.env).returncode == 0
    args = build_args(build_world, path, tmp_path / "out", base, "--builder", "buildah")
    done = cli(*args, cwd=tmp_path, env=build_world.env)
    log = done.stdout + done.stderr
    assert done.returncode == 1, log[-3000:]
    assert "buildah bud (offline compile)" in done.stderr, log[-3000:]
    for text in said:
        assert text in log, f"{mutation}: {text!r} not in the build log:\n{log[-3000:]}"
