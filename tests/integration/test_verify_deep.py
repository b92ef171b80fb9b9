"""`tritonlock verify --deep` against real servers on 127.0.0.1.

Each test builds its own small world (a server repo with a submodule on git daemon, a
wheel on pypiserver, an image index in docker-registry, a file over HTTP) under fresh
names, writes the lock those sources give today, then changes the world the way an
upstream does: a force-pushed branch plus gc, a replaced wheel, a re-pushed tag whose
old manifests are deleted, a changed download; or harmlessly: a branch that moved on,
a tag rebuilt while the old digests stay.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.fixtures.gitserver import (
    GitServers,
    GitWorld,
)
from tests.fixtures.httpfiles import FileServer, sha256_of
from tests.fixtures.pypi import build_wheel, serve_pypi
from tests.fixtures.registry import (
    RegistryWorld,
)
from tritonlock import cli, lockfile
from tritonlock.model import (
    Commit,
    Digest,
    GitPin,
    ImagePin,
    Index,
    Inputs,
    Lock,
    Submodule,
    UrlPin,
    WheelFile,
    WheelPin,
)

pytestmark = pytest.mark.integration
BRANCH = "r25.04"
_COUNTER = itertools.count(1)


@dataclass
class Shared:
    pypi_url: str
    pypi_root: Path
    files_url: str
    files_root: Path


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One pypiserver and one file server for the module; tests use their own names."""
    pypi_root = tmp_path_factory.mktemp("deep-pypi")
    files_root = tmp_path_factory.mktemp("deep-files")
    server = FileServer(files_root)
    try:
        with serve_pypi(pypi_root) as url:
            yield Shared(url, pypi_root, server.url, files_root)
    finally:
        server.stop()


@dataclass
class World:
    n: int
    git: GitServers
    registry: RegistryWorld
    shared: Shared
    lock: Path
    server_commit: str
    sub_commit: Commit
    wheel: Path
    image: str  # repo:tag in the plain registry

    @property
    def w(self) -> GitWorld:
        return self.git.world


def _make_world(n: int, git: GitServers, registry: RegistryWorld, shared: Shared) -> Lock:
    w = git.world
    sub = w.commit(f"sub{n}", {"README": f"sub {n}\n"}, branch=BRANCH)
    top = w.commit(f"server{n}", {"README": "server\n"}, branch=BRANCH, gitlinks={"third": sub})
    wheel = build_wheel(shared.pypi_root, f"deepdemo{n}", "1.0", "py3-none-any", [])
    registry.copy("demo:multi-oci", f"deep{n}/img:t")
    image = registry.inspect(registry.plain, f"deep{n}/img:t")
    data = f"file {n}\n".encode() * 100
    (shared.files_root / f"f{n}.bin").write_bytes(data)
    return Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        git=(
            GitPin(
                name="server",
                url=f"{git.git}/server{n}.git",
                ref=BRANCH,
                commit=Commit(top),
                submodules=(
                    Submodule(path="third", url=f"{git.git}/sub{n}.git", commit=Commit(sub)),
                ),
            ),
        ),
        index=(Index(name="local", url=shared.pypi_url),),
        wheel=(
            WheelPin(
                step="final",
                image="final",
                name=f"deepdemo{n}",
                version="1.0",
                index="local",
                files=(
                    WheelFile(
                        name=wheel.name,
                        sha256=sha256_of(wheel.read_bytes()),
                        size=wheel.stat().st_size,
                    ),
                ),
            ),
        ),
        image=(
            ImagePin(
                role="base",
                ref=f"{registry.plain}/deep{n}/img:t",
                index_digest=Digest(image.digest),
                digest=Digest(image.children["linux/amd64"]),
                platform="linux/amd64",
            ),
        ),
        url=(UrlPin(url=f"{shared.files_url}/f{n}.bin", sha256=sha256_of(data), size=len(data)),),
    )


@pytest.fixture
def world(
    git_servers: GitServers,
    registry_world: RegistryWorld,
    shared: Shared,
    tmp_path: Path,
) -> World:
    n = next(_COUNTER)
    lock = _make_world(n, git_servers, registry_world, shared)
    path = tmp_path / "triton.lock"
    lockfile.write(lock, path)
    return World(
        n=n,
        git=git_servers,
        registry=registry_world,
        shared=shared,
        lock=path,
        server_commit=lock.git[0].commit,
        sub_commit=lock.git[0].submodules[0].commit,
        wheel=shared.pypi_root / lock.wheel[0].files[0].name,
        image=f"deep{n}/img:t",
    )


def run(world: World, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    args = ["verify", "--deep", str(world.lock), "-q", "--allow-http"]
    code = cli.main([*args, "--insecure-registry", world.registry.plain, *extra])
    out, err = capsys.readouterr()
    return code, out + err


def force_push_and_gc(w: GitWorld, name: str) -> str:
    """Point r25.04 of ``name`` at an unrelated root commit and drop the old objects."""
    new = w.commit(name, {"OTHER": "rewritten\n"}, branch="rewrite")
    w.set_ref(name, f"refs/heads/{BRANCH}", new)
    w.git(name, "update-ref", "-d", "refs/heads/rewrite")
    w.git(name, "reflog", "expire", "--expire=now", "--all")
    w.git(name, "gc", "-q", "--prune=now")
    return new


def delete_manifest(registry: RegistryWorld, repo: str, digest: str) -> None:
    """Remove a manifest from a repository of the plain registry's storage."""
    revisions = registry.root / "plain/docker/registry/v2/repositories" / repo / "_manifests"
    target = revisions / "revisions" / "sha256" / digest.removeprefix("sha256:")
    assert target.is_dir(), target
    shutil.rmtree(target)


def test_untouched_world_verifies_deep(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(world, capsys)
    assert code == 0, out
    assert out.startswith("OK sha256:")
    assert "(6 checks against the sources)" in out
    assert "note:" not in out


def test_json_carries_deep_results(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(world, capsys, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert report["deep"] == {"ok": True, "checked": 6, "problems": [], "notes": []}


def test_commit_gone_after_force_push(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    new = force_push_and_gc(world.w, f"server{world.n}")
    code, out = run(world, capsys)
    assert code == 1, out
    assert (
        f"git[0].commit: {world.server_commit[:12]}… is not served by "
        f"{world.git.git}/server{world.n}.git: commit not available"
    ) in out
    assert f"note: git[0].ref: {BRANCH} has moved to {new[:12]} since the lock" in out
    assert "FAILED" in out and "1 problem against the sources" in out


def test_submodule_commit_gone(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    force_push_and_gc(world.w, f"sub{world.n}")
    code, out = run(world, capsys)
    assert code == 1, out
    assert f"git[0].submodules[0].commit: {world.sub_commit[:12]}… is not served" in out
    assert "git[0].commit" not in out


def test_moved_branch_is_a_note(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    new = world.w.commit(f"server{world.n}", {"NEWS": "more\n"}, branch=BRANCH)
    code, out = run(world, capsys)
    assert code == 0, out
    assert f"note: git[0].ref: {BRANCH} has moved to {new[:12]} since the lock" in out
    assert out.rstrip().splitlines()[-1].startswith("OK sha256:")


def test_replaced_wheel_file(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    old = sha256_of(world.wheel.read_bytes())
    name = world.wheel.name.split("-")[0]
    build_wheel(world.shared.pypi_root, name, "1.0", "py3-none-any", ["six"])
    new = sha256_of(world.wheel.read_bytes())
    assert new != old
    code, out = run(world, capsys)
    assert code == 1, out
    assert f"wheel[0].files[0].sha256: index 'local' lists {world.wheel.name} with {new}" in out
    assert f"the lock has {old}" in out


def test_removed_wheel_file(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.wheel.unlink()
    code, out = run(world, capsys)
    assert code == 1, out
    assert "wheel[0].name: index 'local' no longer has deepdemo" in out


def test_image_repushed_and_old_manifests_deleted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = lockfile.load(world.lock)
    pin = lock.image[0]
    assert pin.index_digest is not None
    world.registry.copy("demo:multi-docker", world.image)
    repo = world.image.split(":")[0]
    delete_manifest(world.registry, repo, pin.index_digest)
    delete_manifest(world.registry, repo, pin.digest)
    code, out = run(world, capsys)
    assert code == 1, out
    assert f"image[0].digest: {pin.digest} of {pin.ref} is gone: " in out
    assert f"image[0].index-digest: {pin.index_digest} of {pin.ref} is gone: " in out
    assert "(404)" in out
    assert "was rebuilt under the same tag" in out
    assert "2 problems against the sources" in out


def test_retagged_image_is_a_note(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.registry.copy("demo:multi-docker", world.image)
    now = world.registry.inspect(world.registry.plain, world.image).digest
    code, out = run(world, capsys)
    assert code == 0, out
    assert f"was rebuilt under the same tag: it now points at {now}" in out


def test_changed_download(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    path = world.shared.files_root / f"f{world.n}.bin"
    path.write_bytes(b"changed\n")
    code, out = run(world, capsys)
    assert code == 1, out
    assert f"url[0].sha256: {world.shared.files_url}/f{world.n}.bin now hashes to" in out
    assert sha256_of(b"changed\n") in out and "(8 bytes)" in out


def test_missing_download(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    (world.shared.files_root / f"f{world.n}.bin").unlink()
    code, out = run(world, capsys)
    assert code == 1, out
    assert "url[0].url: " in out and "404" in out


def test_mirrors_change_where_bytes_come_from(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A lock naming canonical public sources, verified through loopback mirrors only."""
    lock = lockfile.load(world.lock)
    n, plain = world.n, world.registry.plain
    gh = "https://github.com/example"
    git = lock.git[0]
    public = Lock(
        inputs=lock.inputs,
        git=(
            GitPin(
                name="server",
                url=f"{gh}/server{n}.git",
                ref=BRANCH,
                commit=git.commit,
                submodules=(
                    Submodule(path="third", url=f"{gh}/sub{n}.git", commit=world.sub_commit),
                ),
            ),
        ),
        index=(Index(name="local"),),
        wheel=lock.wheel,
        image=(
            ImagePin(
                role="base",
                ref=f"nvcr.io/deep{n}/img:t",
                index_digest=lock.image[0].index_digest,
                digest=lock.image[0].digest,
                platform="linux/amd64",
            ),
        ),
        url=(
            UrlPin(
                url=f"https://example.invalid/f{n}.bin",
                sha256=lock.url[0].sha256,
                size=lock.url[0].size,
            ),
        ),
    )
    lockfile.write(public, world.lock)
    mirrors = [
        "--git-mirror",
        f"{gh}/={world.git.git}/",
        "--registry-mirror",
        f"nvcr.io={plain}",
        "--url-mirror",
        f"https://example.invalid/={world.shared.files_url}/",
    ]
    code, out = run(world, capsys, *mirrors, "--index-url", f"local={world.shared.pypi_url}")
    assert code == 0, out
    code, out = run(world, capsys, *mirrors)
    assert code == 2, out  # the index has no URL in the lock and none was given
    assert "wheel[0].index: index 'local' has no URL in the lock; pass --index-url local=URL" in out
    force_push_and_gc(world.w, f"server{n}")
    code, out = run(world, capsys, *mirrors, "--index-url", f"local={world.shared.pypi_url}")
    assert code == 1, out
    assert (
        f"git[0].commit: {git.commit[:12]}… is not served by {gh}/server{n}.git: "
        f"commit not available (via mirror {world.git.git}/server{n}.git)"
    ) in out


def test_offline_problems_stop_before_the_sources(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    text = world.lock.read_text().replace('target = "x86_64"', 'target = "igpu"')
    world.lock.write_text(text)
    code, out = run(world, capsys)
    assert code == 1
    assert "content-hash: does not match the content" in out
    assert "against the sources" not in out


def test_fixed_output_download_is_checked_against_the_declared_hash(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fixed-output pin (upstream's URL_HASH, no size) is fetched and hashed by --deep."""
    lock = lockfile.load(world.lock)
    (pin,) = lock.url
    fixed = replace(pin, size=None, fixed_output=True)
    lockfile.write(replace(lock, url=(fixed,)), world.lock)
    code, out = run(world, capsys)
    assert code == 0, out
    (world.shared.files_root / f"f{world.n}.bin").write_bytes(b"changed\n")
    code, out = run(world, capsys)
    assert code == 1, out
    assert "url[0].sha256: " in out and "as upstream declares" in out
