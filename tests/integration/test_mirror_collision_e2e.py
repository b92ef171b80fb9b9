"""The mirror-collision replay end to end (issue 14): the e2e build world's own resolved lock,
with a crafted second ``[[git]]`` entry that spells core another way and pins its r25.04 to
another real commit of core, re-sealed as an attacker can. ``build --run --builder buildah``
refuses it with one line naming the entry, before any builder runs: no image, no output.

It shares the session's build world (no build of its own). What the compile stage clones
for the spellings ``verify`` lets pass is ``test_mirror_collision_clone.py``; the full
build of the unmodified lock is ``test_build_e2e.py``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures.buildworld import (
    BRANCH,
    ORG,
    BuildWorld,
)
from tests.integration._image import build_args, cli, resolve_lock
from tritonlock import lockfile
from tritonlock.model import Commit, GitPin

pytestmark = pytest.mark.integration

SPELLINGS = [
    f"{ORG}/core.git.git",  # got the compile's insteadOf rule for core.git before
    f"{ORG}/CORE",
    "https://github.com:443/triton-inference-server/%63ore/",
    "https://evil.example/../github.com/triton-inference-server/core",
]


def test_a_respelled_core_at_another_commit_is_refused_before_any_builder(
    build_world: BuildWorld, tmp_path: Path
) -> None:
    lock_path = resolve_lock(build_world, tmp_path)
    lock = lockfile.load(lock_path)
    core = next(g for g in lock.git if g.name == "core")
    moved = Commit(build_world.git.world.rev("core", "refs/heads/main"))  # core after the branch
    assert core.ref == BRANCH and moved != core.commit
    before = sorted(build_world.images())
    for n, url in enumerate(SPELLINGS):
        evil = GitPin(name="zz-evil", url=url, ref=BRANCH, commit=moved)
        bad = lockfile.write(replace(lock, git=(*lock.git, evil)), tmp_path / f"evil{n}.lock")
        i = next(k for k, g in enumerate(bad.git) if g.name == "zz-evil")
        out = tmp_path / f"out{n}"
        evil_path = tmp_path / f"evil{n}.lock"
        args = build_args(build_world, evil_path, out, tmp_path, "--builder", "buildah")
        done = cli(*args, cwd=tmp_path, env=build_world.env)
        assert done.returncode == 1, done.stderr
        named = [ln for ln in done.stderr.splitlines() if f": git[{i}]." in ln]
        assert len(named) == 1 and url in named[0], done.stderr
        assert "content-hash" not in done.stderr  # re-sealed: only the entry is wrong
        assert "FAILED: nothing was written" in done.stderr
        assert "+ buildah" not in done.stderr and "Traceback" not in done.stderr
        assert not out.exists()
    assert sorted(build_world.images()) == before
