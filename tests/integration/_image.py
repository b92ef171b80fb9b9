"""Helpers shared by the end-to-end build tests: the CLI, the build secrets, one resolve and
``build --run`` of the world (:class:`Built`, what a build fixture hands its tests), image
archives."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures.buildworld import DOWNLOADS, GIT_TOKEN, ORG, PIP_TOKEN, BuildWorld
from tests.fixtures.buildworld_pytorch import PYTORCH_COPIES, PYTORCH_FILES, UNCOPIED
from tritonlock import lockfile
from tritonlock.model import Lock

TOKENS = (GIT_TOKEN.encode(), PIP_TOKEN.encode())


def cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tritonlock", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def resolve_lock(world: BuildWorld, base: Path) -> Path:
    """``tritonlock resolve`` of the world's 25.04 cpu build into ``base/triton.lock``."""
    lock_path = base / "triton.lock"
    resolved = cli(
        "resolve", "25.04", "--target", "cpu", "--image", f"base,{world.base_ref}",
        "--backend", "pytorch", "--image", f"pytorch,{world.pytorch_ref}",
        "--git-mirror", f"{ORG}={world.git.git}",
        "--insecure-registry", world.registry,
        "--index-url", world.pypi_url, "--exclude-newer", "now", "--allow-http",
        "--cache-dir", str(base / "cache"), "-o", str(lock_path),
        cwd=base, env={},
    )  # fmt: skip
    assert resolved.returncode == 0, resolved.stderr
    return lock_path


def secrets(world: BuildWorld, base: Path) -> list[str]:
    """A git-config routing GitHub to the world (with a header token) and a pip.conf whose
    index URL carries a password: both only ever mounted as build secrets."""
    git_config = base / "git-config"
    git_config.write_text(
        f'[url "{world.git.git}/"]\n\tinsteadOf = {ORG}/\n'
        f"[http]\n\textraHeader = X-Token: {GIT_TOKEN}\n"
    )
    host = world.pypi_url.removeprefix("http://")
    (base / "pip.conf").write_text(f"[global]\nindex-url = http://ci:{PIP_TOKEN}@{host}\n")
    return [
        "--secret", f"id=git-config,src={git_config}",
        "--secret", f"id=pip-conf,src={base / 'pip.conf'}",
    ]  # fmt: skip


def build_args(
    world: BuildWorld, lock_path: Path, out: Path, base: Path, *builder: str
) -> list[str]:
    """``build LOCK -o OUT --run`` with ``builder``'s options against the world: GitHub
    routed to its git daemon and :func:`secrets` (written in ``base``)."""
    return [
        "build", str(lock_path), "-o", str(out), "--run", *builder,
        "--git-mirror", f"{ORG}={world.git.git}", *secrets(world, base),
    ]  # fmt: skip


@dataclass
class Built:
    """What an end-to-end build fixture hands its tests: the lock and its file, the emitted
    folder, the build's process and CLI arguments, the image's root file system and archive
    (filled in by the fixture, which knows its builder), and the builder's environment."""

    lock: Lock
    lock_path: Path
    out: Path
    build: subprocess.CompletedProcess[str]
    rootfs: Path
    archive: Path
    args: list[str]
    env: dict[str, str]

    def lock_epoch(self) -> int:
        return next(p.committed or 0 for p in self.lock.git if p.name == "server")

    def docker(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
        """``docker`` against the builder's daemon (the buildx builds)."""
        proc = subprocess.run(
            ["docker", *args],
            cwd=cwd,
            env={**os.environ, **self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, f"docker {' '.join(args)}: {proc.stderr}"
        return proc.stdout


def resolve_and_build(world: BuildWorld, base: Path, *builder: str, env: dict[str, str]) -> Built:
    """``resolve`` (:func:`resolve_lock`) then ``build --run`` with ``builder``'s options,
    the build's output kept in ``base/build.log``; it must succeed. The image is the
    fixture's to export to ``base/rootfs`` and ``base/image.tar`` (or to mount)."""
    lock_path = resolve_lock(world, base)
    args = build_args(world, lock_path, base / "out", base, *builder)
    done = cli(*args, cwd=base, env=env)
    (base / "build.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-6000:]
    lock = lockfile.load(lock_path)
    return Built(
        lock, lock_path, base / "out", done, base / "rootfs", base / "image.tar", args, env
    )


def blobs(archive: Path) -> Iterator[tuple[str, bytes]]:
    """Every file of an image archive (OCI layout, or ``docker save``'s), by name."""
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            if f is not None:
                yield member.name, f.read()


def layer_files(blob: bytes) -> Iterator[tuple[str, bytes]]:
    """Every file of a layer (gzip or plain tar) and every link target, by name."""
    data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    with tarfile.open(fileobj=io.BytesIO(data)) as layer:
        for member in layer.getmembers():
            yield member.name, member.linkname.encode()
            f = layer.extractfile(member) if member.isfile() else None
            if f is not None:
                yield member.name, f.read()


def assert_archive_free_of(archive: Path, tokens: Sequence[bytes] = TOKENS) -> None:
    """An image archive (OCI layout: ``buildah push oci-archive:`` or ``docker save``) that
    has a history and two or more layers, with no token in any blob or any layer's file."""
    files = dict(blobs(archive))
    index = json.loads(files["index.json"])
    manifest = json.loads(files["blobs/" + index["manifests"][0]["digest"].replace(":", "/")])
    config = files["blobs/" + manifest["config"]["digest"].replace(":", "/")]
    assert json.loads(config)["history"], "the image has no history"
    layers = [files["blobs/" + d["digest"].replace(":", "/")] for d in manifest["layers"]]
    assert len(layers) >= 2
    for name, data in files.items():
        assert not any(t in data for t in tokens), name
    for n, layer in enumerate(layers):
        for name, data in layer_files(layer):
            assert not any(t in data for t in tokens), f"layer {n}: {name}"


def assert_built_from_the_lock(rootfs: Path, lock: Lock) -> None:
    """The world's compile ran offline on the pinned core, the pinned wheels are in the
    final image, and every git checkout in it is at a pinned commit."""
    install = rootfs / "opt" / "tritonserver"
    assert (install / "network").read_text().strip() == "offline"
    core = next(p for p in lock.git if p.name == "core")
    assert (install / "core.commit").read_text().strip() == core.commit
    assert (install / "TRITON_VERSION").read_text() == "2.57.0\n"
    assert (install / "pinnedpkg").read_text().strip() == "24.1"
    # upstream's build context and working directory (docker run -w /workspace/build)
    assert (install / "workdir").read_text() == "/workspace/build\n"
    context = set((install / "context").read_text().split())
    assert context == {".dockerignore", "README.md", "TRITON_VERSION", "build", "build.py"} | {
        "docs",
        "python",
    }  # .github and .gitattributes left out as .dockerignore says
    # core's submodule (git clone --recursive) and FetchContent git dependency, at their pins
    (sub,) = core.submodules
    assert (sub.path, (install / "sub.commit").read_text().strip()) == ("sub", sub.commit)
    leaf = next(p for p in lock.git if p.name == "leaf")
    assert (leaf.ref, leaf.found_in[0].split(":")[:2]) == ("v1.0", ["core", "CMakeLists.txt"])
    assert (install / "leaf.commit").read_text().strip() == leaf.commit
    assert (install / "leaf.txt").read_text() == "leaf at v1.0\n"
    # cmake_build's `pip install -r`, from the compile's pinned wheelhouse
    assert (install / "compiledep").read_text().strip() == "3.1"
    # core's isolated `python3 -m build`, its [build-system] requires from the pinned wheelhouse
    backend = next(w for w in lock.wheel if w.step == "compile-core-wheel")
    assert (backend.name, backend.version) == ("tlbackend", "1.0")
    built = sorted(p.name for p in (install / "wheels").iterdir())
    assert built == ["corepkg-2.57.0-py3-none-any.whl", "corepkg-2.57.0.tar.gz"]
    # core's two ExternalProject downloads, provided offline from the pinned bytes
    downloads = {u.url.rsplit("/", 1)[1]: u for u in lock.url}
    for what, (name, _, payload) in DOWNLOADS.items():
        assert downloads[name].found_in[0].startswith("core:CMakeLists.txt:")
        assert downloads[name].fixed_output is (what == "hashed")
        assert (install / f"{what}.txt").read_text() == payload
    assert_pytorch_from_the_image(rootfs, lock)
    found = {p.name for p in (rootfs / "usr" / "local" / "lib").rglob("*.dist-info")}
    assert {"attrs-24.2.0.dist-info", "floatpkg-2.0.1.dist-info"} <= found
    pinned = {p.commit for p in lock.git}
    heads = checkout_heads(rootfs)
    assert heads, "the image holds no git checkout"
    for repo, head in heads.items():
        assert head in pinned, f"{repo}: {head} is not pinned"


def checkout_heads(rootfs: Path) -> dict[Path, str]:
    """Every git checkout under ``rootfs`` and the commit its HEAD is at."""
    out = {}
    for dot_git in rootfs.rglob(".git"):
        if dot_git.is_dir():
            out[dot_git.parent] = subprocess.run(
                ["git", "-c", "safe.directory=*", "-C", str(dot_git.parent), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
    return out


def assert_pytorch_from_the_image(rootfs: Path, lock: Lock) -> None:
    """The pytorch backend's CMake copied exactly what the lock records out of the pinned
    stand-in image (through the compile's own docker), in upstream's docker mode."""
    (image,) = [im for im in lock.image if im.role == "pytorch"]
    assert image.copies == PYTORCH_COPIES
    assert [w.split(":")[:2] for w in image.copies_found_in] == [
        ["pytorch_backend", "CMakeLists.txt"]
    ]
    backend = rootfs / "opt" / "tritonserver" / "backends" / "pytorch"
    installed = {
        "libtorch.so": "opt/minitorch/lib/libtorch.so",
        "libc10.so": "opt/minitorch/lib/libc10.so",
        "libtorchvision.so.1": "usr/local/lib/libtorchvision.so.1.0",  # -L: the link's target
        "libblas_x86.so.1": "usr/local/lib/libblas_x86.so.1",
        "LICENSE.pytorch": "opt/minitorch/LICENSE",
        "include/torch/torch/torch.h": "opt/minitorch/include/torch/torch.h",
        "include/torch/c10/c10.h": "opt/minitorch/include/c10/c10.h",
    }
    for name, source in installed.items():
        assert (backend / name).read_text() == PYTORCH_FILES[source], name
    assert not list(rootfs.rglob(UNCOPIED.rsplit("/", 1)[1])), "an uncopied file is in the image"
    assert not (backend / "libblas_arm.so.0").exists()
