"""The mirror-collision replay against real git (issue 14), without a builder.

Each case adds crafted entries to a lock that pins ``core`` at r25.04, entries ``verify``
lets pass because they name other repositories or other refs, however they are spelled.
The emitted sources stage (every mirror's fetch script, as the Dockerfile runs it) is then
run with real git against a git daemon on 127.0.0.1, the compile stage's ``insteadOf``
script after it, and the compile's clones (``git clone -b r25.04`` of each spelling the
build may use, with only ``file://`` allowed, as offline) must yield the pinned commit.
A lock that would move the pinned ref cannot even be emitted.

The unit side (every respelling at another commit refused by ``verify`` and ``build``) is
``tests/unit/test_mirror_collision.py``; the real buildah build refusing such a lock is
``tests/integration/test_mirror_collision_e2e.py``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.fixtures.gitserver import GitServers, serve
from tritonlock import lockfile
from tritonlock.emit import sources
from tritonlock.emit.errors import EmitError
from tritonlock.lockfile import schema
from tritonlock.model import Commit, GitPin, Lock, Submodule
from tritonlock.resolve import rules

pytestmark = pytest.mark.integration

VALID = Path(__file__).parent.parent / "data" / "valid" / "complete.lock"
ORG = "https://github.com/triton-inference-server"
T = "triton-inference-server"


@dataclass
class World:
    servers: GitServers
    pinned: Commit  # core's r25.04
    later: Commit  # core's main, a commit of core the lock does not pin
    evil: dict[str, Commit]  # served path → its r25.04 (and main): the attacker's commit


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("collision")
    (base / "srv").mkdir()
    with serve(base / "srv", base / "state") as servers:
        w = servers.world
        pinned = Commit(
            w.release(f"{T}/core", {"who": "pinned\n"}, branch="r25.04", message="pinned")
        )
        later = Commit(w.rev(f"{T}/core", "refs/heads/main"))
        w.copy(f"{T}/core", f"{T}/CORE")  # a server that tells case apart
        evil: dict[str, Commit] = {}
        for path in (
            f"{T}/core-extra",
            f"{T}/CORE",
            "evil/github.com/triton-inference-server/core",
        ):
            sha = w.commit(path, {"who": f"attacker at {path}\n"}, message="evil")
            w.set_ref(path, "refs/heads/r25.04", sha)
            evil[path] = Commit(sha)
        w.commit("o/abc", {"who": "abc\n"}, message="abc")
        w.set_ref("o/abc", "refs/heads/r1", w.rev("o/abc", "refs/heads/main"))
        w.commit("o/abc", {"who": "abc later\n"}, message="abc main")
        yield World(servers, pinned, later, evil)


def _lock(world: World, *extra: GitPin) -> Lock:
    """A sealed lock that pins core (as build.py spells it) and ``extra``, and verifies."""
    lock = lockfile.load(VALID)
    core = GitPin(name="core", url=f"{ORG}/core.git", ref="r25.04", commit=world.pinned)
    sealed = lockfile.seal(replace(lock, git=(core, *extra)))
    assert schema.problems(sealed.to_dict()) == []
    assert [p for p in rules.check(sealed) if p.startswith("git[")] == []
    return sealed


def _git(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _replay(
    lock: Lock,
    world: World,
    base: Path,
    monkeypatch: pytest.MonkeyPatch,
    clones: list[str],
    ref: str = "r25.04",
) -> dict[str, str]:
    """Run the emitted sources stage and the compile stage's routing for ``lock`` here, then
    clone each of ``clones`` at ``ref`` as the offline compile would: URL → HEAD commit."""
    monkeypatch.setattr(sources, "GIT_ROOT", str(base / "tritonlock-git"))
    home = base / "home"
    home.mkdir()
    daemon = world.servers.git
    (base / "sources.gitconfig").write_text(
        f'[url "{daemon}/"]\n\tinsteadOf = https://github.com/\n'
        f'[url "{daemon}/evil/"]\n\tinsteadOf = https://evil.example/\n'
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(base / "sources.gitconfig"),
    }
    for mirror in sources.mirrors(lock):
        done = subprocess.run(
            ["bash", "-c", sources.fetch_script(mirror)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (mirror.url, done.stderr)
    env["GIT_CONFIG_GLOBAL"] = str(base / "compile.gitconfig")
    env["GIT_ALLOW_PROTOCOL"] = "file"  # offline: only the mirrors
    done = subprocess.run(
        ["bash", "-c", sources.insteadof_script(lock)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    heads = {}
    for n, url in enumerate(clones):
        dest = base / f"clone{n}"
        cloned = _git(
            ["clone", "-q", "--single-branch", "--depth=1", "-b", ref, url, str(dest)],
            env,
            base,
        )
        assert cloned.returncode == 0, (url, cloned.stderr)
        heads[url] = _git(["rev-parse", "HEAD"], env, dest).stdout.strip()
    return heads


# What upstream's build.py and CMake clone, and the file:// URL emit rewrites a literal
# `git clone` of core to.
CORE_CLONES = [f"{ORG}/core.git", f"{ORG}/core", f"{ORG}/core/"]


def _cases(world: World) -> dict[str, tuple[GitPin, ...]]:
    evil_host = "https://evil.example/github.com/triton-inference-server/core"
    extra = world.evil[f"{T}/core-extra"]
    elsewhere = world.evil["evil/github.com/triton-inference-server/core"]
    return {
        # one repository under other spellings, at other refs: the mirror gains refs only
        "respelled, another ref, first in the lock": (
            GitPin(name="aa-evil", url=f"{ORG}/core", ref="main", commit=world.later),
        ),
        "percent-encoded, another ref": (
            GitPin(name="zz-evil", url=f"{ORG}/%63ore", ref="main", commit=world.later),
        ),
        "another case, another ref, its own folder": (
            GitPin(name="zz-evil", url=f"{ORG}/CORE", ref="main", commit=world.evil[f"{T}/CORE"]),
        ),
        # other repositories whose URLs start like core's, at r25.04
        "a longer name": (
            GitPin(name="aa-evil", url=f"{ORG}/core-extra", ref="r25.04", commit=extra),
        ),
        "another host, core's path after it": (
            GitPin(name="ab-evil", url=evil_host, ref="r25.04", commit=elsewhere),
        ),
        # a submodule (no ref) spelling core, at a commit of core the lock does not pin
        "a submodule spelling core": (
            GitPin(
                name="aa-evil",
                url=f"{ORG}/core-extra",
                ref="r25.04",
                commit=world.evil[f"{T}/core-extra"],
                submodules=(Submodule(path="s", url=f"{ORG}/core.git/", commit=world.later),),
            ),
        ),
    }  # fmt: skip


CASES = [
    "respelled, another ref, first in the lock",
    "percent-encoded, another ref",
    "another case, another ref, its own folder",
    "a longer name",
    "another host, core's path after it",
    "a submodule spelling core",
]


@pytest.mark.parametrize("case", CASES)
def test_the_compile_clones_the_pinned_commit(
    case: str, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = _lock(world, *_cases(world)[case])
    heads = _replay(lock, world, tmp_path, monkeypatch, CORE_CLONES)
    assert heads == dict.fromkeys(CORE_CLONES, world.pinned)


def test_the_attackers_own_spellings_reach_the_attackers_commits(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The routing is not simply "everything goes to core": each URL goes to its own."""
    extra = _cases(world)["a longer name"] + _cases(world)["another host, core's path after it"]
    lock = _lock(world, *extra)
    evil_host = "https://evil.example/github.com/triton-inference-server/core.git"
    heads = _replay(
        lock, world, tmp_path, monkeypatch, [*CORE_CLONES, f"{ORG}/core-extra", evil_host]
    )
    assert heads == {
        **dict.fromkeys(CORE_CLONES, world.pinned),
        f"{ORG}/core-extra": world.evil[f"{T}/core-extra"],
        evil_host: world.evil["evil/github.com/triton-inference-server/core"],
    }


def test_a_percent_in_a_pinned_url_reaches_its_own_mirror(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Git decodes ``file://`` URLs: ``…/a%62c``'s mirror must not be taken for ``…/abc``'s,
    which another entry fills (here without r1)."""
    r1 = Commit(world.servers.world.rev("o/abc", "refs/heads/r1"))
    main = Commit(world.servers.world.rev("o/abc", "refs/heads/main"))
    lock = _lock(
        world,
        GitPin(name="pct", url="https://github.com/o/a%62c", ref="r1", commit=r1),
        GitPin(name="zz-abc", url="https://github.com/o/abc", ref="main", commit=main),
    )
    assert sources.mirror_url("https://github.com/o/a%62c").endswith("/github.com/o/a%2562c.git")
    clone = "https://github.com/o/a%62c"
    heads = _replay(lock, world, tmp_path, monkeypatch, [clone], ref="r1")
    assert heads == {clone: r1}


@pytest.mark.parametrize("url", [f"{ORG}/core.git.git", f"{ORG}/core/.git", f"{ORG}/core.git/"])
def test_a_lock_that_moves_the_pinned_ref_cannot_be_emitted(world: World, url: str) -> None:
    """Past verify (refused there), emit refuses too: the spelling shares core's mirror."""
    lock = lockfile.load(VALID)
    core = GitPin(name="core", url=f"{ORG}/core.git", ref="r25.04", commit=world.pinned)
    evil = GitPin(name="aa-evil", url=url, ref="r25.04", commit=world.later)
    with pytest.raises(EmitError, match=r"ref 'r25.04' of .* is pinned to two commits"):
        sources.mirrors(lockfile.seal(replace(lock, git=(core, evil))))


def test_every_spelling_in_the_lock_is_routed_to_the_mirror(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A legitimate second spelling (another scheme, host case) reaches the pinned commit
    offline too; before, only the first spelling of a mirror was routed."""
    spellings = [
        "http://github.com/triton-inference-server/core",
        "https://GitHub.com/triton-inference-server/core.git/",
    ]
    extra = [
        GitPin(name=f"zz-{n}", url=url, ref="r25.04", commit=world.pinned)
        for n, url in enumerate(spellings)
    ]
    lock = _lock(world, *extra)
    heads = _replay(lock, world, tmp_path, monkeypatch, [*CORE_CLONES, *spellings])
    assert heads == dict.fromkeys([*CORE_CLONES, *spellings], world.pinned)
