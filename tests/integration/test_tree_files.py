"""Single files of pinned commits, read over git daemon and kept by commit and path: the
next read of the same commit asks no server, and a file the tree lacks is known absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.gitserver import GitWorld, Repos, repos_fixture
from tritonlock.errors import ResolveError
from tritonlock.model import Commit, GitPin
from tritonlock.resolve.trees import kept_files, read_files

pytestmark = pytest.mark.integration


def build(w: GitWorld) -> dict[str, str]:
    files = {"requirements.txt": "numpy<2\n", "src/python/setup.py": "# setup\n"}
    return {"lib": w.release("files-lib", files, branch="r1", message="r1")}


world = repos_fixture(build)


def pin(world: Repos, url: str | None = None) -> GitPin:
    commit = Commit(world.rev["lib"])
    return GitPin(
        name="lib", url=url or f"{world.servers.git}/files-lib.git", ref="r1", commit=commit
    )


KEYS = ["lib:requirements.txt", "lib:src/python/setup.py", "lib:absent.txt", "lib:src"]


def test_files_are_read_then_kept_and_read_again_without_a_server(
    world: Repos, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = read_files(KEYS, None, [pin(world)], [], cache)
    assert first == {"lib:requirements.txt": "numpy<2\n", "lib:src/python/setup.py": "# setup\n"}
    paths = [k.partition(":")[2] for k in KEYS]
    # absent files and folders are kept as absent, not as errors
    assert kept_files(cache, world.rev["lib"], paths) == {
        "requirements.txt": "numpy<2\n",
        "src/python/setup.py": "# setup\n",
        "absent.txt": None,
        "src": None,
    }
    # a server that does not answer: every file comes from the cache
    dead = pin(world, f"{world.servers.git}/no-such-repository.git")
    assert read_files(KEYS, None, [dead], [], cache) == first
    # without the cache the same read needs the server, and says so
    with pytest.raises(ResolveError, match=r"lib @ [0-9a-f]{12}: cannot read files"):
        read_files(KEYS, None, [dead], [], None)


def test_another_commit_is_not_taken_from_the_cache(world: Repos, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    read_files(KEYS[:1], None, [pin(world)], [], cache)
    other = "0" * 40
    assert kept_files(cache, other, ["requirements.txt"]) == {}


def test_a_damaged_entry_is_read_again(world: Repos, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    read_files(KEYS[:1], None, [pin(world)], [], cache)
    (entry,) = cache.iterdir()
    entry.write_text('{"commit": "x", "path": "requirements.txt", "text": "numpy\\n"}')
    assert kept_files(cache, world.rev["lib"], ["requirements.txt"]) == {}
    assert read_files(KEYS[:1], None, [pin(world)], [], cache) == {
        "lib:requirements.txt": "numpy<2\n"
    }
