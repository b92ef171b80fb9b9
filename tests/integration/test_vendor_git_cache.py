"""A repository's git bundle goes into the shared cache: a second bundle of the same lock,
into a new folder, takes it from there (the git server is not asked), checked to hold
exactly the pinned commits and refs; a damaged cache entry is made again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures.emit_world import make_lock
from tests.fixtures.gitserver import GitWorld, Repos, free_port, repos_fixture
from tritonlock import lockfile
from tritonlock.errors import ResolveError
from tritonlock.model import Commit, GitPin, Lock
from tritonlock.util.store import Store
from tritonlock.vendor.check import check_folder
from tritonlock.vendor.live import LiveSources, VendorOptions
from tritonlock.vendor.run import vendor

pytestmark = pytest.mark.integration

UPSTREAM = "https://github.com/example"


def build(w: GitWorld) -> dict[str, str]:
    files = {"CMakeLists.txt": "project(cached)\n"}
    return {"pin": w.release("cached", files, branch="r1", message="r1")}


world = repos_fixture(build)


def _lock(world: Repos) -> Lock:
    pin = GitPin(
        name="cached", url=f"{UPSTREAM}/cached.git", ref="r1", commit=Commit(world.rev["pin"])
    )
    bare = replace(make_lock("cpu"), git=(pin,), wheel=(), environment=(), image=(), url=())
    return lockfile.seal(replace(bare, apt=None))


def _vendor(lock: Lock, out: Path, store: Store | None, mirror: str) -> int:
    """Bytes the run took from the cache (git read at ``mirror``)."""
    options = VendorOptions(git_mirrors=((UPSTREAM, mirror),))
    with LiveSources(options, {}) as src:
        done = vendor(lock, lockfile.dumps(lock).encode(), out, src, apt=None, store=store)
    assert check_folder(out, content_hash=lock.content_hash).ok
    return done.cached


def test_a_second_bundle_comes_from_the_cache_without_the_git_server(
    world: Repos, tmp_path: Path
) -> None:
    lock, store = _lock(world), Store(tmp_path / "cache")
    served = world.servers.git
    dead = f"git://127.0.0.1:{free_port()}"  # nothing listens there
    assert _vendor(lock, tmp_path / "one", store, served) == 0
    (made,) = (tmp_path / "one" / "git").rglob("*.bundle")
    cached = _vendor(lock, tmp_path / "two", store, dead)
    (again,) = (tmp_path / "two" / "git").rglob("*.bundle")
    assert cached == made.stat().st_size > 0
    assert again.read_bytes() == made.read_bytes()
    # without the cache the same bundle needs the server
    with pytest.raises(ResolveError, match="cached"):
        _vendor(lock, tmp_path / "three", None, dead)


def test_a_damaged_cached_bundle_is_made_again(world: Repos, tmp_path: Path) -> None:
    lock, store = _lock(world), Store(tmp_path / "cache")
    served = world.servers.git
    _vendor(lock, tmp_path / "one", store, served)
    (entry,) = (tmp_path / "cache" / "files" / "bundle").iterdir()
    entry.unlink()
    entry.write_bytes(b"not a bundle")  # one bad entry (not through the hard link)
    assert _vendor(lock, tmp_path / "two", store, served) == 0  # made again, not taken
    (again,) = (tmp_path / "two" / "git").rglob("*.bundle")
    assert entry.read_bytes() == again.read_bytes()  # the cache holds the new one, whole
