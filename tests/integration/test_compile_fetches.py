"""tools/compile_fetches.py against real git servers on 127.0.0.1: a small world of our own
with a submodule, an ExternalProject git dependency, a hooked download, a script that
curls and a blob the server lacks; every fetch listed and classified, exit 1 for what is
NOT PROVIDED."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.gitserver import GitServers, GitWorld
from tritonlock import lockfile
from tritonlock.emit import provides
from tritonlock.model import Commit, GitPin, Inputs, Lock, Sha256, Submodule, UrlPin

pytestmark = pytest.mark.integration

TOOL = Path(__file__).resolve().parent.parent.parent / "tools" / "compile_fetches.py"
GH = "https://github.com"
SHA = "5" * 64
SERVER = f"""\
cmake_minimum_required(VERSION 3.18)
project(srv)
include(ExternalProject)
ExternalProject_Add(dep GIT_REPOSITORY {GH}/audit/dep.git GIT_TAG v1)
ExternalProject_Add(blob URL https://dl.invalid/blob.tgz URL_HASH SHA256={SHA})
add_custom_target(docs ALL COMMAND sh ${{CMAKE_CURRENT_SOURCE_DIR}}/scripts/docs.sh)
"""
DOCS = "#!/bin/sh\nset -e\ncurl -fsSLO https://dl.invalid/style.css\n"
DEP = "project(dep)\nadd_subdirectory(sub)\n"
SUB = "project(sub)\nif(SUB_EXTRAS)\n  file(DOWNLOAD https://dl.invalid/x.txt x.txt)\nendif()\n"
CMAKE_BUILD = f"""\
cmake -DSUB_EXTRAS=OFF /workspace
cmake --build . -t install
git clone --recursive -b v1 {GH}/audit/dep.git dep
"""


def world(w: GitWorld) -> dict[str, str]:
    rev = {"sub": w.commit("audit/sub", {"CMakeLists.txt": SUB})}
    rev["dep"] = w.commit(
        "audit/dep",
        {
            "CMakeLists.txt": DEP,
            ".gitmodules": '[submodule "sub"]\n\tpath = sub\n\turl = https://github.com/audit/sub.git\n',
            "data/big.bin": "a large file the served copy lacks\n" * 64,
        },
        gitlinks={"sub": rev["sub"]},
    )
    w.tag("audit/dep", "v1", rev["dep"])
    big = w.git("audit/dep", "rev-parse", f"{rev['dep']}:data/big.bin")
    os.remove(w.path("audit/dep") / "objects" / big[:2] / big[2:])  # like the upstream copies
    rev["server"] = w.commit(
        "audit/server", {"CMakeLists.txt": SERVER, "scripts/docs.sh": DOCS, "README": "x\n"}
    )
    return rev


def write_lock(path: Path, rev: dict[str, str]) -> None:
    lock = Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        git=(
            GitPin(
                name="dep",
                url=f"{GH}/audit/dep.git",
                ref="v1",
                commit=Commit(rev["dep"]),
                found_in=("server:CMakeLists.txt:4",),
                submodules=(
                    Submodule(path="sub", url=f"{GH}/audit/sub.git", commit=Commit(rev["sub"])),
                ),
            ),
            GitPin(
                name="server",
                url=f"{GH}/audit/server",
                ref="main",
                commit=Commit(rev["server"]),
                found_in=("inputs",),
                committed=1_700_000_000,
            ),
        ),
        url=(
            UrlPin(
                url="https://dl.invalid/blob.tgz",
                sha256=Sha256(f"sha256:{SHA}"),
                found_in=("server:CMakeLists.txt:5",),
                fixed_output=True,
            ),
        ),
    )
    lockfile.write(lock, path)


def test_every_fetch_of_a_served_world_is_listed_and_classified(
    git_servers: GitServers,
    tmp_path: Path,
) -> None:
    rev = world(git_servers.world)
    write_lock(tmp_path / "triton.lock", rev)
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    for name, text in (("cmake_build", CMAKE_BUILD), ("Dockerfile", "FROM x\n")):
        (recipe / name).write_text(text)
    (recipe / "Dockerfile.buildbase").write_text("FROM y\n")
    args = [
        sys.executable,
        str(TOOL),
        str(tmp_path / "triton.lock"),
        "--recipe",
        str(recipe),
        "--git-mirror",
        f"{GH}/={git_servers.git}/",
        "--cache-dir",
        str(tmp_path / "trees"),
        "--json",
    ]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    got = {(f["where"], f["status"]) for f in data["findings"]}
    # dep's submodule comes from its mirror only where git may fetch submodules by file://
    subs = (
        "provided"
        if provides.submodules_allowed(lockfile.load(tmp_path / "triton.lock"))
        else "NOT PROVIDED"
    )
    assert got == {
        ("server:CMakeLists.txt:4", subs),
        ("server:CMakeLists.txt:5", "provided"),
        ("server:scripts/docs.sh:3", "NOT PROVIDED"),
        ("dep:sub/CMakeLists.txt:3", "not reached"),
        ("cmake_build:3", subs),
    }
    assert data["counts"]["NOT PROVIDED"] == 1 + 2 * (subs == "NOT PROVIDED")
    rows = {f["where"]: f for f in data["findings"]}
    for where in ("server:CMakeLists.txt:4", "cmake_build:3"):
        detail = rows[where]["detail"]
        assert ("its 1 submodules" if subs == "provided" else "protocol.file.allow") in detail
    assert rows["server:scripts/docs.sh:3"]["via"] == "server:CMakeLists.txt:6"
    assert rows["dep:sub/CMakeLists.txt:3"]["detail"] == "if(SUB_EXTRAS) at line 2 is false"
    # a second run reuses the checkouts and says the same
    again = subprocess.run(args, capture_output=True, text=True, check=False)
    assert json.loads(again.stdout) == data
