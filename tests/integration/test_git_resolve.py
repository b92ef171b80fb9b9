"""resolve_git against real git servers on 127.0.0.1 (git daemon and lighttpd smart HTTP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.gitserver import GitWorld, Repos, free_port, repos_fixture
from tritonlock.errors import ResolveError, SourceError
from tritonlock.lockfile import seal
from tritonlock.lockfile.schema import problems
from tritonlock.model import Commit, GitPin, Inputs, Lock
from tritonlock.resolve.git import GitRequest, resolve_git
from tritonlock.sources.gitclient import SubprocessGit

pytestmark = pytest.mark.integration

GH = "https://github.com"
ORG = f"{GH}/triton-inference-server"
TAGS = {f"TRITON_{c}_REPO_TAG": "r25.04" for c in ("COMMON", "CORE", "BACKEND", "THIRD_PARTY")}
VARS = {"TRITON_REPO_ORGANIZATION": ORG, **TAGS}

FETCH = """FetchContent_Declare(
  repo-{name}
  GIT_REPOSITORY ${{TRITON_REPO_ORGANIZATION}}/{name}.git
  GIT_TAG ${{TRITON_{upper}_REPO_TAG}}
)
"""
HEADER = """cmake_minimum_required(VERSION 3.17)
set(TRITON_REPO_ORGANIZATION "https://github.com/triton-inference-server" CACHE STRING "org")
set(TRITON_CORE_REPO_TAG "main" CACHE STRING "core")
set(TRITON_COMMON_REPO_TAG "main" CACHE STRING "common")
set(TRITON_BACKEND_REPO_TAG "main" CACHE STRING "backend")
set(TRITON_THIRD_PARTY_REPO_TAG "main" CACHE STRING "third_party")
"""
THIRD_PARTY = """include(ExternalProject)
ExternalProject_Add(grpc-repo
  PREFIX grpc-repo
  GIT_REPOSITORY "https://github.com/grpc/grpc.git"
  GIT_TAG "v1.54.3"
  SOURCE_DIR "${CMAKE_CURRENT_BINARY_DIR}/grpc-repo/src/grpc"
)
ExternalProject_Add(boost
  URL https://archives.example/boost_1_80_0.tar.gz
  URL_HASH SHA256=273f1be93238a068aba4f9735a4a2b003019af067b9c183ed227780b8f36062c
)
"""
GTEST = """FetchContent_Declare(
  googletest
  URL https://github.com/google/googletest/archive/9406a60c.zip
)
"""


def fetch(name: str) -> str:
    return FETCH.format(name=name, upper=name.upper())


def modules(*entries: tuple[str, str]) -> str:
    return "".join(f'[submodule "{p}"]\n\tpath = {p}\n\turl = {u}\n' for p, u in entries)


def build(w: GitWorld) -> dict[str, str]:
    rev: dict[str, str] = {}
    t = "triton-inference-server"
    rev["abseil1"] = w.commit("abseil/abseil-cpp", {"CMakeLists.txt": "project(absl)\n"})
    w.copy("abseil/abseil-cpp", "partial/abseil/abseil-cpp")
    rev["abseil"] = w.commit("abseil/abseil-cpp", {"README": "2\n"})
    rev["protobuf"] = w.commit(
        "protocolbuffers/protobuf",
        {".gitmodules": modules(("third_party/abseil-cpp", "../../abseil/abseil-cpp.git"))},
        gitlinks={"third_party/abseil-cpp": rev["abseil"]},
    )
    rev["grpc"] = w.commit(
        "grpc/grpc",
        {
            ".gitmodules": modules(
                ("third_party/abseil-cpp", "https://github.com/abseil/abseil-cpp.git"),
                ("third_party/protobuf", "../../protocolbuffers/protobuf.git"),
            )
        },
        gitlinks={"third_party/abseil-cpp": rev["abseil"], "third_party/protobuf": rev["protobuf"]},
    )
    w.tag("grpc/grpc", "v1.54.3", rev["grpc"])
    w.commit("grpc/grpc", {"later": "x\n"})  # the tag is no branch tip
    w.commit(f"{t}/third_party", {"CMakeLists.txt": "project(old)\n"})
    rev["third_party"] = w.commit(
        f"{t}/third_party", {"CMakeLists.txt": THIRD_PARTY}, branch="r25.04"
    )
    common = {
        "CMakeLists.txt": "add_subdirectory(src)\n",  # reached as in upstream's common
        "src/CMakeLists.txt": "add_subdirectory(test)\n",
        "src/test/CMakeLists.txt": GTEST,
    }
    rev["common"] = w.commit(f"{t}/common", common, branch="r25.04")
    w.commit(f"{t}/common", {"x": "main\n"})
    rev["core"] = w.commit(
        f"{t}/core",
        {
            "CMakeLists.txt": HEADER + fetch("third_party") + "add_subdirectory(src)\n",
            "src/CMakeLists.txt": fetch("common"),
        },
        branch="r25.04",
    )
    w.commit(f"{t}/core", {"x": "main\n"})
    rev["core_pr"] = w.commit(f"{t}/core", {"pr": "1\n"}, branch="pr-work")
    w.set_ref(f"{t}/core", "refs/pull/1/head", rev["core_pr"])
    rev["backend"] = w.commit(
        f"{t}/backend",
        {"CMakeLists.txt": HEADER + fetch("common") + fetch("core")},
        branch="r25.04",
    )
    rev["server"] = w.commit(
        f"{t}/server",
        {
            "CMakeLists.txt": HEADER
            + fetch("core")
            + fetch("third_party")
            + "add_subdirectory(src)\n",
            "src/CMakeLists.txt": fetch("common") + fetch("core") + fetch("backend"),
        },
        branch="r25.04",
    )
    rev["python_backend"] = w.commit(
        f"{t}/python_backend", {"CMakeLists.txt": HEADER + fetch("core")}, branch="r25.04"
    )
    w.tag(f"{t}/python_backend", "v1.0", rev["python_backend"], annotated=False)
    return rev


world = repos_fixture(build)


def requests(*names: str, ref: str = "r25.04") -> list[GitRequest]:
    return [GitRequest(name=n, url=f"{ORG}/{n}", ref=ref) for n in names]


RELEASE = ("server", "core", "common", "backend", "third_party", "python_backend")


@pytest.mark.parametrize("proto", ["git", "http"])
def test_release_resolves_through_a_mirror(world: Repos, proto: str, tmp_path: Path) -> None:
    base = world.servers.git if proto == "git" else world.servers.http
    res = resolve_git(
        requests(*RELEASE), mirrors=[(GH, base)], cache_dir=tmp_path, variables=VARS, jobs=4
    )
    pins = {p.name: p for p in res.pins}
    assert sorted(pins) == sorted([*RELEASE, "grpc"])
    for name in RELEASE:
        assert pins[name].commit == world.rev[name], name
        assert pins[name].url == f"{ORG}/{name}"
    assert pins["core"].found_in == (
        "inputs",
        "backend:CMakeLists.txt:12",
        "python_backend:CMakeLists.txt:7",
        "server:CMakeLists.txt:7",
        "server:src/CMakeLists.txt:6",
    )
    assert pins["third_party"].found_in == (
        "inputs",
        "core:CMakeLists.txt:7",
        "server:CMakeLists.txt:12",
    )
    grpc = pins["grpc"]
    assert (grpc.url, grpc.ref, grpc.commit) == (
        f"{GH}/grpc/grpc.git",
        "v1.54.3",
        world.rev["grpc"],
    )
    assert grpc.found_in == ("third_party:CMakeLists.txt:2",)
    assert [(s.path, s.url, s.commit) for s in grpc.submodules] == [
        ("third_party/abseil-cpp", f"{GH}/abseil/abseil-cpp.git", world.rev["abseil"]),
        ("third_party/protobuf", f"{GH}/protocolbuffers/protobuf.git", world.rev["protobuf"]),
        (
            "third_party/protobuf/third_party/abseil-cpp",
            f"{GH}/abseil/abseil-cpp.git",
            world.rev["abseil"],
        ),
    ]
    assert res.url_requests == (
        (
            "https://github.com/google/googletest/archive/9406a60c.zip",
            "common:src/test/CMakeLists.txt:1",
        ),
    )
    assert all(p.committed and p.committed > 1_700_000_000 for p in res.pins)
    lock = Lock(inputs=Inputs(release="25.04", target="x86_64"), git=res.pins)
    assert problems(seal(lock).to_dict()) == []


def test_direct_urls_tags_and_pull_refs(world: Repos, tmp_path: Path) -> None:
    s = world.servers
    reqs = [
        GitRequest(name="pb", url=f"{s.git}/triton-inference-server/python_backend", ref="v1.0"),
        GitRequest(
            name="core", url=f"{s.http}/triton-inference-server/core.git", ref="pull/1/head"
        ),
    ]
    res = resolve_git(reqs, cache_dir=tmp_path, follow_cmake=False)
    assert {p.name: p.commit for p in res.pins} == {
        "pb": world.rev["python_backend"],
        "core": world.rev["core_pr"],
    }


def test_missing_release_branch_names_repo_and_ref(world: Repos, tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as err:
        resolve_git(
            requests("third_party", ref="r25.08"),
            mirrors=[(GH, world.servers.http)],
            cache_dir=tmp_path,
        )
    msg = str(err.value)
    assert "third_party" in msg and "'r25.08'" in msg and "\n" not in msg


def test_cmake_tag_that_disagrees_with_the_inputs_is_an_error(world: Repos, tmp_path: Path) -> None:
    pattern = r"core: .* for the inputs \(r25.04\) but to \w{12} at \w+:[\w/.]+:\d+ \(main\)"
    with pytest.raises(ResolveError, match=pattern):
        resolve_git(
            requests("server", "core"),
            mirrors=[(GH, world.servers.git)],
            cache_dir=tmp_path,
            variables={**VARS, "TRITON_CORE_REPO_TAG": "main"},
        )


def test_branch_moves_between_resolves_and_cache_skips_unchanged(
    world: Repos, tmp_path: Path
) -> None:
    w = world.w
    first = w.commit("moving/repo", {"CMakeLists.txt": "project(a)\n"}, branch="r25.04")
    req = [GitRequest(name="moving", url=f"{GH}/moving/repo", ref="r25.04")]
    said: list[str] = []
    kw = {"mirrors": [(GH, world.servers.http)], "cache_dir": tmp_path, "progress": said.append}
    assert resolve_git(req, **kw).pins[0].commit == first  # type: ignore[arg-type]
    assert any(m.startswith("fetch moving") for m in said)
    said.clear()
    assert resolve_git(req, **kw).pins[0].commit == first  # type: ignore[arg-type]
    assert not any(m.startswith("fetch") for m in said), said
    second = w.commit("moving/repo", {"CMakeLists.txt": "project(b)\n"}, branch="r25.04")
    assert resolve_git(req, **kw).pins[0].commit == second  # type: ignore[arg-type]
    assert any(m.startswith("fetch moving") for m in said)


class _RetagAfterListing(SubprocessGit):
    """Moves the tag after ls-remote answered, as a force-push between the two would."""

    def __init__(self, cache: Path, w: GitWorld, target: str) -> None:
        super().__init__(cache, timeout=30)
        self.w, self.target = w, target

    def ls_remote(self, fetch_url: str, patterns: list[str]) -> list[tuple[str, str]]:
        out = super().ls_remote(fetch_url, patterns)
        self.w.tag("retag/repo", "v1", self.target)
        return out


def test_tag_moved_between_ls_remote_and_fetch(world: Repos, tmp_path: Path) -> None:
    w = world.w
    one = w.commit("retag/repo", {"a": "1\n"})
    two = w.commit("retag/repo", {"a": "2\n"})
    w.tag("retag/repo", "v1", one)
    req = [GitRequest(name="retag", url=f"{GH}/retag/repo", ref="v1")]
    src = _RetagAfterListing(tmp_path, w, two)
    with pytest.raises(ResolveError, match=r"retag v1: refs/tags/v1 .* moved during the resolve"):
        resolve_git(req, mirrors=[(GH, world.servers.git)], cache_dir=tmp_path, source=src)


def test_tag_moved_since_previous_lock(world: Repos, tmp_path: Path) -> None:
    old = GitPin(name="grpc", url=f"{GH}/grpc/grpc.git", ref="v1.54.3", commit=Commit("1" * 40))
    req = [GitRequest(name="grpc", url=f"{GH}/grpc/grpc.git", ref="v1.54.3")]
    with pytest.raises(ResolveError, match="previous lock pinned 1111"):
        resolve_git(req, mirrors=[(GH, world.servers.git)], cache_dir=tmp_path, previous=[old])


def test_mirror_lacking_a_pinned_commit_is_an_error(world: Repos, tmp_path: Path) -> None:
    s = world.servers
    mirrors = [(GH, s.http), (f"{GH}/abseil", f"{s.git}/partial/abseil")]
    req = [GitRequest(name="grpc", url=f"{GH}/grpc/grpc.git", ref="v1.54.3")]
    with pytest.raises(ResolveError) as err:
        resolve_git(req, mirrors=mirrors, cache_dir=tmp_path)
    msg = str(err.value)
    assert "submodule third_party/abseil-cpp" in msg and world.rev["abseil"] in msg
    assert "mirror" in msg and "no fallback" in msg


def _fault(url: str, tmp_path: Path, timeout: float = 20) -> str:
    req = [GitRequest(name="victim", url=url, ref="r25.04")]
    with pytest.raises(ResolveError) as err:
        resolve_git(req, cache_dir=tmp_path, timeout=timeout)
    msg = str(err.value)
    assert "victim" in msg and "r25.04" in msg and "\n" not in msg
    return msg


def test_unreachable_host(tmp_path: Path) -> None:
    assert "unreachable" in _fault(f"git://127.0.0.1:{free_port()}/x.git", tmp_path)


def test_authentication_required(world: Repos, tmp_path: Path) -> None:
    url = f"{world.servers.auth}/triton-inference-server/core.git"
    assert "authentication required" in _fault(url, tmp_path)


def test_timeout(world: Repos, tmp_path: Path) -> None:
    url = f"http://{world.servers.blackhole}/x.git"
    assert "timed out" in _fault(url, tmp_path, timeout=1.5)


@pytest.mark.parametrize("where", ["static", "daemon"])
def test_not_a_git_repository(world: Repos, tmp_path: Path, where: str) -> None:
    s = world.servers
    url = f"{s.static}/index.html" if where == "static" else f"{s.git}/no/such.git"
    assert "not a git repository" in _fault(url, tmp_path)


def _bad_world(w: GitWorld, name: str, gitmodules: str, links: dict[str, str]) -> str:
    return w.commit(f"bad/{name}", {".gitmodules": gitmodules}, gitlinks=links, branch="r25.04")


@pytest.mark.parametrize(
    ("name", "path", "url", "match"),
    [
        ("escape", "../escape", "../lib.git", "escapes the work tree"),
        ("absolute", "/etc/x", "../lib.git", "absolute"),
        ("inject", "lib", "--upload-pack=touch /tmp/pwned", "unsafe url"),
        ("extinject", "lib", "ext::sh -c touch% /tmp/pwned", "unsafe url"),
    ],
)
def test_bad_submodules(
    world: Repos, tmp_path: Path, name: str, path: str, url: str, match: str
) -> None:
    w = world.w
    lib = w.commit("bad/lib", {"a": "1\n"})
    _bad_world(w, name, f'[submodule "x"]\n\tpath = {path}\n\turl = {url}\n', {"lib": lib})
    req = [GitRequest(name=name, url=f"{GH}/bad/{name}", ref="r25.04")]
    with pytest.raises(SourceError, match=match):
        resolve_git(req, mirrors=[(GH, world.servers.git)], cache_dir=tmp_path)
    assert not Path("/tmp/pwned").exists()


def test_submodule_commit_its_url_cannot_serve(world: Repos, tmp_path: Path) -> None:
    w = world.w
    w.commit("bad/lib", {"a": "1\n"})
    _bad_world(w, "ghost", modules(("lib", "../lib.git")), {"lib": "7" * 40})
    req = [GitRequest(name="ghost", url=f"{GH}/bad/ghost", ref="r25.04")]
    with pytest.raises(ResolveError, match=r"submodule lib: cannot fetch 7{40}"):
        resolve_git(req, mirrors=[(GH, world.servers.http)], cache_dir=tmp_path)


def test_submodule_cycle(world: Repos, tmp_path: Path) -> None:
    w = world.w
    first = w.commit("bad/loop", {"a": "1\n"}, branch="r25.04")
    w.commit(
        "bad/loop",
        {".gitmodules": modules(("self", "../loop.git"))},
        gitlinks={"self": first},
        branch="r25.04",
    )
    req = [GitRequest(name="loop", url=f"{GH}/bad/loop", ref="r25.04")]
    with pytest.raises(SourceError, match="submodule cycle at self"):
        resolve_git(req, mirrors=[(GH, world.servers.git)], cache_dir=tmp_path)


DEP_TESTS = """set(DEP_EIGEN_VERSION_AND_HASH "3.4.0;{sha}")
list(GET DEP_EIGEN_VERSION_AND_HASH 1 DEP_EIGEN_VERSION_HASH)
FetchContent_Declare(eigen GIT_REPOSITORY https://gitlab.com/libeigen/eigen.git
  GIT_TAG ${{DEP_EIGEN_VERSION_HASH}})
"""


def test_partial_keeps_reachable_deps_and_skips_third_party_tests(
    world: Repos, tmp_path: Path
) -> None:
    """A Triton repo whose CMake fetches one reachable third-party repo (whose own test
    CMake, not reached, pins a repo this world lacks; whose top-level CMake, reached, uses
    a variable nobody sets) and one unreachable repo."""
    w = world.w
    pyb = w.commit(
        "pyb/pyb",
        {
            "CMakeLists.txt": "FetchContent_Declare(x GIT_REPOSITORY ${PYB_UNSET}/x.git)\n",
            "tests/CMakeLists.txt": DEP_TESTS.format(sha="3" * 40),
        },
        branch="v2",
    )
    fetches = (
        f"FetchContent_Declare(pyb GIT_REPOSITORY {GH}/pyb/pyb.git GIT_TAG v2)\n"
        f"FetchContent_Declare(gone GIT_REPOSITORY {GH}/nowhere/gone.git GIT_TAG v1)\n"
    )
    core = w.commit("triton-inference-server/pcore", {"CMakeLists.txt": fetches}, branch="r25.04")
    said: list[str] = []
    args = {"mirrors": [(GH, world.servers.git)], "cache_dir": tmp_path, "progress": said.append}
    with pytest.raises(ResolveError, match="gone: cannot list 'v1'"):
        resolve_git(requests("pcore"), **args)  # type: ignore[arg-type]
    res = resolve_git(requests("pcore"), strict=False, **args)  # type: ignore[arg-type]
    assert {p.name: p.commit for p in res.pins} == {"pcore": core, "pyb": pyb}
    (what, why), (what2, why2) = res.failures
    assert what == "pcore: what its CMake files fetch"
    assert why.startswith("gone: cannot list 'v1' of https://github.com/nowhere/gone.git")
    # Reached but undecidable: unresolved, no longer skipped (issue 12, defect 2).
    assert what2 == "pyb: what its CMake files fetch" and "${PYB_UNSET}" in why2
    skips = sorted(m.split(" (")[0] for m in said if m.startswith("skip "))
    assert skips == ["skip pyb:tests/CMakeLists.txt:3"]
