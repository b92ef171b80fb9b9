"""`tritonlock verify --deep` checks the apt pins against real apt archives on 127.0.0.1.

A lock is resolved in the triton-shaped world (:mod:`tests.fixtures.world`: git daemon,
pypiserver, docker-registry, a dated Ubuntu snapshot, Kitware's archive and NVIDIA's flat
CUDA repositories over HTTP). Then the world changes the way a third-party repository
does: Kitware's archive is republished without the pinned cmake (and restored after).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures.aptrepo import build_archive
from tests.fixtures.gitserver import free_port
from tests.fixtures.world import (
    APT_EXPECTED,
    KITWARE,
    SNAPSHOT,
    World,
    run_cli,
)
from tritonlock import lockfile

pytestmark = pytest.mark.integration

CMAKE = APT_EXPECTED["x86_64"][("buildbase", "cmake")]
# options verify does not take
RESOLVE_ONLY = ("--index-url", "--exclude-newer", "--apt-snapshot", "--cache-dir")


@pytest.fixture(scope="module", name="resolved")
def resolved_fixture(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lock of the world for x86_64, with its apt pins."""
    base = tmp_path_factory.mktemp("deep-apt")
    out = base / "triton.lock"
    done = run_cli(
        "resolve", "25.04", "--backend", "python", "--target", "x86_64",
        *world.cli_args(base / "cache"), "-o", str(out),
        cwd=base,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    apt = lockfile.load(out).apt
    assert apt is not None and apt.snapshot == SNAPSHOT
    assert {(p.step, p.name): p.version for p in apt.packages} == APT_EXPECTED["x86_64"]
    return out


def verify_args(world: World, lock: Path, *extra: str) -> list[str]:
    """`verify --deep` pointed at the world with resolve's mirrors (the lock has the index
    URL; the snapshot is the lock's)."""
    args = world.cli_args(Path("unused"))
    flags = [a for a in args if a == "--allow-http"]
    values = iter(a for a in args if a != "--allow-http")
    kept = [
        a for pair in zip(values, values, strict=True) if pair[0] not in RESOLVE_ONLY for a in pair
    ]
    return ["verify", "--deep", str(lock), *flags, *kept, *extra]


def apt_index(lock: Path, name: str) -> int:
    apt = lockfile.load(lock).apt
    assert apt is not None
    return next(i for i, p in enumerate(apt.packages) if p.name == name)


@pytest.fixture(name="kitware_without_pinned_cmake")
def kitware_without_pinned_cmake_fixture(world: World, tmp_path: Path) -> Iterator[None]:
    """Kitware's archive republished without cmake 3.28.3 (as it drops old releases)."""
    kitware = world.http_root / "kitware"  # also serves the key, which stays
    saved = tmp_path / "ubuntu"
    shutil.move(kitware / "ubuntu", saved)
    try:
        dropped = {
            key: [d for d in debs if not (d[0] == "cmake" and d[1] == CMAKE)]
            for key, debs in KITWARE.items()
        }
        build_archive(kitware, "ubuntu", dropped)
        shutil.rmtree(kitware / "work")
        yield
    finally:
        shutil.rmtree(kitware / "ubuntu", ignore_errors=True)
        shutil.move(saved, kitware / "ubuntu")


def test_untouched_world_passes_with_the_apt_check_shown(world: World, resolved: Path) -> None:
    done = run_cli(*verify_args(world, resolved), cwd=resolved.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK sha256:"), done.stdout
    assert f"tritonlock: apt: 6 packages at snapshot {SNAPSHOT}" in done.stderr
    assert "apt index " in done.stderr  # the archives were read, not assumed
    assert "127.0.0.1" not in done.stdout


def test_json_counts_the_apt_check(world: World, resolved: Path, tmp_path: Path) -> None:
    done = run_cli(*verify_args(world, resolved, "--json"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    deep = json.loads(done.stdout)["deep"]
    assert deep["ok"] is True and deep["problems"] == [] and deep["notes"] == []
    without = tmp_path / "no-apt.lock"
    lockfile.write(replace(lockfile.load(resolved), apt=None), without)
    done = run_cli(*verify_args(world, without, "--json"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["deep"]["checked"] == deep["checked"] - 1


def test_a_dropped_third_party_version_fails_naming_package_version_and_step(
    world: World, resolved: Path, kitware_without_pinned_cmake: None
) -> None:
    done = run_cli(*verify_args(world, resolved, "-q"), cwd=resolved.parent)
    assert done.returncode == 1, done.stdout + done.stderr
    i = apt_index(resolved, "cmake")
    problem = (
        f"apt.packages[{i}]: cmake {CMAKE} (step buildbase) is no longer offered by its "
        "repositories: they now offer 3.31.6-0kitware1ubuntu24.04.1"
    )
    lines = done.stdout.splitlines()
    assert f"{resolved}: {problem}" in lines, done.stdout
    assert lines[-1] == f"FAILED {resolved}: 1 problem against the sources"
    assert "Traceback" not in done.stderr


def test_the_restored_archive_passes_again(world: World, resolved: Path) -> None:
    done = run_cli(*verify_args(world, resolved, "-q"), cwd=resolved.parent)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_unreachable_archive_is_reported_not_taken_for_a_gone_version(
    world: World, resolved: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    done = run_cli(
        *verify_args(world, resolved, "-q", "--apt-archive", closed), cwd=resolved.parent
    )
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = [x for x in done.stdout.splitlines() if ": apt" in x]
    assert line.startswith(f"{resolved}: apt: cannot check the apt pins: ")
    assert "no longer offered" not in done.stdout and "not offered" not in done.stdout
