"""The compile stage's ``docker``, run as the compile runs it, on files laid out as the
sources stage copies them out of an image: ``docker cp``'s rules for files, folders,
``DIR/.`` and symlinks, and a refusal for anything else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.pytorch_world import REF, pytorch_world
from tritonlock.emit.dockershim import shim

PINNED = "nvcr.io/nvidia/pytorch@sha256:"


@pytest.fixture(name="docker")
def docker_fixture(tmp_path: Path) -> tuple[Path, Path]:
    """(the docker script, a work folder); the image's files under tmp/images/pytorch."""
    lock, _ = pytorch_world()
    image = tmp_path / "images" / "pytorch"
    lib = image / "usr" / "local" / "lib"
    lib.mkdir(parents=True)
    (lib / "libtorch.so").write_text("torch\n")
    (lib / "libvision.so.1.0").write_text("vision\n")
    (lib / "libvision.so.1").symlink_to("libvision.so.1.0")
    inc = image / "opt" / "include" / "torch"
    inc.mkdir(parents=True)
    (inc / "torch.h").write_text("// torch\n")
    (inc / "alias.h").symlink_to("torch.h")
    script = tmp_path / "docker"
    script.write_text(shim(lock, base=str(tmp_path / "images")))
    work = tmp_path / "work"
    work.mkdir()
    return script, work


def run(docker: tuple[Path, Path], *args: str) -> subprocess.CompletedProcess[str]:
    script, work = docker
    env = {**os.environ, "TRITONLOCK_DOCKER_STATE": str(work.parent / "state")}
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(docker: tuple[Path, Path], *args: str) -> str:
    done = run(docker, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def created(docker: tuple[Path, Path]) -> None:
    ok(docker, "pull", REF)
    ok(docker, "create", "--name", "ptlib", REF)


def test_pull_and_create_take_only_the_lock_image(docker: tuple[Path, Path]) -> None:
    assert "served from the lock" in ok(docker, "pull", REF)
    other = run(docker, "pull", "nvcr.io/nvidia/pytorch:25.05-py3")
    assert other.returncode == 1
    assert "nvcr.io/nvidia/pytorch:25.05-py3 is not pinned by the lock" in other.stderr
    assert ok(docker, "create", "--name=byhash", PINNED + pytorch_world()[0].image[-1].digest[7:])


def test_create_rm_as_docker_does(docker: tuple[Path, Path]) -> None:
    gone = run(docker, "rm", "ptlib")  # upstream runs it first, `|| true`
    assert gone.returncode == 1 and "No such container: ptlib" in gone.stderr
    created(docker)
    again = run(docker, "create", "--name", "ptlib", REF)
    assert again.returncode == 1 and "already in use" in again.stderr
    assert ok(docker, "rm", "ptlib") == "ptlib\n"
    assert run(docker, "cp", "ptlib:/usr/local/lib/libtorch.so", "x").returncode == 1


def test_cp_a_file_to_a_name_and_into_a_folder(docker: tuple[Path, Path]) -> None:
    created(docker)
    work = docker[1]
    ok(docker, "cp", "ptlib:/usr/local/lib/libtorch.so", "libtorch.so")
    assert (work / "libtorch.so").read_text() == "torch\n"
    (work / "d").mkdir()
    ok(docker, "cp", "ptlib:/usr/local/lib/libtorch.so", "d")
    assert (work / "d" / "libtorch.so").read_text() == "torch\n"
    missing = run(docker, "cp", "ptlib:/usr/local/lib/libtorch.so", "nowhere/")
    assert missing.returncode == 1 and "must exist" in missing.stderr


def test_cp_follows_a_symlink_only_with_dash_l(docker: tuple[Path, Path]) -> None:
    created(docker)
    work = docker[1]
    ok(docker, "cp", "-a", "-L", "ptlib:/usr/local/lib/libvision.so.1", "followed")
    assert not (work / "followed").is_symlink()
    assert (work / "followed").read_text() == "vision\n"
    ok(docker, "cp", "-aL", "ptlib:/usr/local/lib/libvision.so.1", "combined")
    assert (work / "combined").read_text() == "vision\n"
    ok(docker, "cp", "ptlib:/usr/local/lib/libvision.so.1", "kept")
    assert os.readlink(work / "kept") == "libvision.so.1.0"


def test_cp_folders_as_docker_does(docker: tuple[Path, Path]) -> None:
    created(docker)
    work = docker[1]
    (work / "include").mkdir()
    ok(docker, "cp", "ptlib:/opt/include/torch", "include/torch")  # new: the folder's content
    assert (work / "include" / "torch" / "torch.h").read_text() == "// torch\n"
    assert os.readlink(work / "include" / "torch" / "alias.h") == "torch.h"
    ok(docker, "cp", "ptlib:/opt/include/torch", "include/torch/.")  # existing: inside it
    assert (work / "include" / "torch" / "torch" / "torch.h").is_file()
    (work / "flat").mkdir()
    ok(docker, "cp", "ptlib:/opt/include/torch/.", "flat")  # DIR/. : the content
    assert sorted(p.name for p in (work / "flat").iterdir()) == ["alias.h", "torch.h"]
    (work / "file").write_text("x")
    onto = run(docker, "cp", "ptlib:/opt/include/torch", "file")
    assert onto.returncode == 1 and "cannot copy a directory to a file" in onto.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("cp", "ptlib:/usr/local/lib/libmissing.so", "x"), "Could not find the file"),
        (("cp", "ptlib:/../../etc/passwd", "x"), "Could not find the file"),
        (("cp", "x", "ptlib:/tmp/x"), "only CONTAINER:SRC_PATH DEST_PATH"),
        (("cp", "--follow-link=yes", "ptlib:/a", "x"), "not served"),
        (("run", REF, "find", "/usr"), "docker run is not served"),
        (("build", "."), "docker build is not served"),
        ((), "docker  is not served"),
    ],
)
def test_anything_else_fails_naming_it(
    docker: tuple[Path, Path], args: tuple[str, ...], error: str
) -> None:
    created(docker)
    done = run(docker, *args)
    assert done.returncode == 1
    assert error in done.stderr
    assert done.stderr.startswith(("tritonlock docker: ", "Error response"))
