"""The pipeline's git stage against a real git daemon on 127.0.0.1, on the shapes real
upstream mirrors have: a server repo whose test suite (``qa/``) holds a blob the mirror
lacks, and Triton repos whose CMake files fetch repos that cannot be reached."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.fixtures.gitserver import GitServers
from tritonlock.model import Inputs, Unresolved
from tritonlock.resolve import pipeline
from tritonlock.resolve.context import Ctx, ResolveOptions
from tritonlock.resolve.trees import checkout
from tritonlock.upstream.floating import FloatingInputs, GitUse

pytestmark = pytest.mark.integration

ORG = "https://github.com/triton-inference-server"
ELSEWHERE = "https://github.com/elsewhere"
UNREACHABLE_FETCH = """FetchContent_Declare(
  dep
  GIT_REPOSITORY https://github.com/elsewhere/dep.git
  GIT_TAG v1.0
)
"""


def _drop_blob(world_repo: Path, blob: str) -> None:
    """Delete a loose object: the repo now lacks it, like a snapshot without big blobs."""
    (world_repo / "objects" / blob[:2] / blob[2:]).unlink()


def test_checkout_leaves_out_qa_so_a_missing_test_blob_does_not_matter(
    git_servers: GitServers,
    tmp_path: Path,
) -> None:
    world = git_servers.world
    sha = world.commit(
        "server-qa",
        {"build.py": "print('dryrun')\n", "TRITON_VERSION": "2.57.0\n", "qa/L0_x/test": "ELF"},
    )
    _drop_blob(world.path("server-qa"), world.git("server-qa", "rev-parse", f"{sha}:qa/L0_x/test"))
    whole = subprocess.run(
        ["git", "clone", "-q", "--depth=1", f"{git_servers.git}/server-qa", str(tmp_path / "c")],
        capture_output=True,
    )
    assert whole.returncode != 0  # the mirror cannot serve the whole tree

    tree = tmp_path / "tree"
    checkout(f"{ORG}/server-qa", sha, tree, ((ORG, git_servers.git),))

    assert (tree / "build.py").read_text() == "print('dryrun')\n"
    assert (tree / "TRITON_VERSION").read_text() == "2.57.0\n"
    assert not (tree / "qa").exists()


def test_partial_git_pins_repos_whose_cmake_fetches_fail(
    git_servers: GitServers,
    tmp_path: Path,
) -> None:
    world = git_servers.world
    server = world.commit("server", {"build.py": "print()\n"}, branch="r25.04")
    core = world.commit("core", {"CMakeLists.txt": UNREACHABLE_FETCH}, branch="r25.04")
    common = world.commit("common", {"CMakeLists.txt": "project(common)\n"}, branch="r25.04")
    mirrors = ((ORG, git_servers.git), (ELSEWHERE, f"{git_servers.git}/nowhere"))
    ctx = Ctx(
        inputs=Inputs(release="25.04", target="x86_64"),
        opts=ResolveOptions(allow_partial=True, git_mirrors=mirrors, cache_dir=tmp_path, jobs=2),
        say=lambda _m: None,
        notes=lambda _m: None,
    )
    floating = FloatingInputs(
        git=tuple(
            GitUse(name=n, url=f"{ORG}/{n}.git", ref="r25.04", found_in=("cmake_build:1",))
            for n in ("core", "common", "absent")
        )
    )

    pin = pipeline._server_pin(ctx)
    got = pipeline._git(ctx, pin, floating)

    assert {p.name: p.commit for p in got.pins} == {
        "server": server,
        "core": core,
        "common": common,
    }
    assert [(u.kind, u.what) for u in ctx.unresolved] == [
        ("git", "core: what its CMake files fetch"),
        ("git", "absent"),
    ]
    core_why = ctx.unresolved[0].why
    assert "dep" in core_why and "elsewhere/dep.git" in core_why
    assert all(isinstance(u, Unresolved) and "\n" not in u.why for u in ctx.unresolved)


TWO_UNREACHABLE = "\n".join(
    f"FetchContent_Declare(\n  {n}\n  GIT_REPOSITORY {ELSEWHERE}/{n}.git\n  GIT_TAG v1\n)\n"
    for n in ("zeta", "alpha", "mid")
)


def test_partial_git_reason_is_the_first_failure_in_cmake_order_every_time(
    git_servers: GitServers,
    tmp_path: Path,
) -> None:
    """The reason is part of the lock, so of its content hash: the same inputs must give
    the same lock, whichever of several unreachable fetches a parallel run met first."""
    world = git_servers.world
    world.commit("server", {"build.py": "print()\n"}, branch="r25.04")
    world.commit("third_party", {"CMakeLists.txt": TWO_UNREACHABLE}, branch="r25.04")
    mirrors = ((ORG, git_servers.git), (ELSEWHERE, f"{git_servers.git}/nowhere"))
    floating = FloatingInputs(
        git=(GitUse(name="third_party", url=f"{ORG}/third_party.git", ref="r25.04"),)
    )
    reasons = set()
    for run in range(4):
        ctx = Ctx(
            inputs=Inputs(release="25.04", target="x86_64"),
            opts=ResolveOptions(
                allow_partial=True, git_mirrors=mirrors, cache_dir=tmp_path / str(run), jobs=8
            ),
            say=lambda _m: None,
            notes=lambda _m: None,
        )
        pipeline._git(ctx, pipeline._server_pin(ctx), floating)
        (entry,) = ctx.unresolved
        assert entry.what == "third_party: what its CMake files fetch"
        reasons.add(entry.why)
    assert len(reasons) == 1
    assert reasons.pop().startswith("zeta:")
