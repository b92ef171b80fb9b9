"""tools/compile_fetches.py's pure parts: scanning scripts and CMake commands, why a
command is not reached, which targets the build builds, and the classification of every
fetch of a small tree of our own (no upstream code, no network)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

from tritonlock.model import (
    Commit,
    GitPin,
    Inputs,
    Lock,
    Sha256,
    Unresolved,
    UrlPin,
    WheelFile,
    WheelPin,
)
from tritonlock.upstream import cmake
from tritonlock.upstream.cmake.blocks import group

TOOLS = Path(__file__).resolve().parent.parent.parent / "tools"
sys.path.insert(0, str(TOOLS))
import fetchaudit as audit  # noqa: E402
from fetchaudit import report, scan  # noqa: E402

from tritonlock.upstream.cmake import targets  # noqa: E402

# -- scripts --------------------------------------------------------------------------

PY_SCRIPT = '''"""Build a wheel: runs pip install and wget (words in a docstring are not code)."""
import subprocess
import urllib.request

# pip install something  (a comment)
subprocess.run(["python3", "-m", "build"], check=True)
subprocess.run([sys.executable, "-m", "pip", "install", "extra==1.0"])
data = urllib.request.urlopen("https://example.invalid/x").read()
subprocess.run(["git", "clone", "https://example.invalid/r.git"])
subprocess.run(["python3", "helper.py"])
shutil.copy("other.py", dest)
'''


def test_script_hits_skip_comments_and_docstrings() -> None:
    hits = [(h.line, h.kind) for h in scan.script_hits("build.py", PY_SCRIPT)]
    assert hits == [(6, "build"), (7, "pip"), (8, "urllib"), (9, "git")]


def test_a_build_with_no_isolation_installs_nothing() -> None:
    text = 'subprocess.run(["python3", "-m", "build", "--no-isolation"])\n'
    assert [h.kind for h in scan.script_hits("b.py", text)] == ["build-no-isolation"]
    assert [h.kind for h in scan.script_hits("b.sh", "python3 -m build -n .\n")] == [
        "build-no-isolation"
    ]


def test_shell_scripts_download_and_install() -> None:
    text = "#!/bin/sh\n# wget in a comment\nwget -q https://e.invalid/f\npip3 install -r r.txt\n"
    assert [(h.line, h.kind) for h in scan.script_hits("get.sh", text)] == [
        (3, "download"),
        (4, "pip"),
    ]
    assert scan.script_hits("plain.sh", "echo curling is a sport; cp a b\n") == []
    assert scan.script_hits("doc.sh", 'echo "see the curl manual"\n') == []
    assert [h.kind for h in scan.script_hits("g.sh", "if x; then curl -O u; fi\n")] == ["download"]


def test_perl_downloads_are_commands_or_http_libraries_not_the_word() -> None:
    text = (
        "#!/usr/bin/perl\n"
        "=head1 NAME\n"
        "system('wget http://x') in pod\n"
        "=cut\n"
        'print "curl $opt\\n";\n'
        'system("curl -sO https://e.invalid/f");\n'
        "use LWP::Simple;\n"
    )
    assert [(h.line, h.kind) for h in scan.script_hits("gen.pl", text)] == [
        (6, "download"),
        (7, "download"),
    ]


def test_scripts_named_are_only_those_a_line_runs() -> None:
    assert scan.scripts_named("build.py", PY_SCRIPT) == ["helper.py"]
    assert scan.scripts_named("run.sh", "./tools/gen.sh out\nbash x/y.sh\ncat z.sh\n") == [
        "./tools/gen.sh",
        "x/y.sh",
    ]


def test_setup_requires_is_what_makes_setup_py_fetch() -> None:
    assert scan.setup_requires("setup(name='x', setup_requires=['cython'])")
    assert not scan.setup_requires("setup(name='x', install_requires=['numpy'])")


# -- CMake commands -------------------------------------------------------------------


def test_command_lists_of_each_kind_of_call() -> None:
    words = ["COMMAND", "python3", "gen.py", "WORKING_DIRECTORY", "/w", "COMMAND", "touch", "x"]
    assert scan.command_lists("execute_process", words) == [["python3", "gen.py"], ["touch", "x"]]
    custom = ["OUTPUT", "o", "COMMAND", "python3", "ARGS", "a.py", "--out", "o", "DEPENDS", "d"]
    assert scan.command_lists("add_custom_command", custom) == [["python3", "a.py", "--out", "o"]]
    target = ["wheel", "ALL", "sh", "mk.sh", "COMMAND", "echo", "done", "DEPENDS", "x"]
    assert scan.command_lists("add_custom_target", target) == [["sh", "mk.sh"], ["echo", "done"]]
    ep = ["dep", "URL", "u", "PATCH_COMMAND", "python3", "p.py", "COMMAND", "true", "DEPENDS", "a"]
    assert scan.command_lists("ExternalProject_Add", ep) == [["python3", "p.py"], ["true"]]


def test_command_use_says_what_a_command_does_offline() -> None:
    def kinds(argv: list[str]) -> list[tuple[str, str, str]]:
        return [(u.kind, u.path, u.url) for u in scan.command_use(argv)]

    assert kinds(["python3", "-m", "pip", "install", "six"]) == [("pip", "", "")]
    assert kinds(["python3", "-m", "pip", "list"]) == []
    assert kinds(["python3", "-m", "build", "-n"]) == [("build-no-isolation", "", "")]
    assert kinds(["/usr/bin/python3", "/src/tools/x.py", "--v"]) == [
        ("script", "/src/tools/x.py", "")
    ]
    assert kinds(["cmake", "-P", "/b/u.cmake"]) == [("cmake-script", "/b/u.cmake", "")]
    assert kinds(["cmake", "-E", "copy", "a", "b"]) == []
    assert kinds(["git", "clone", "-b", "v1", "https://h.invalid/r.git"]) == [
        ("git", "", "https://h.invalid/r.git")
    ]
    assert kinds(["curl", "-LO", "https://h.invalid/f"]) == [("download", "", "")]
    assert kinds(["python3", "setup.py", "bdist_wheel"]) == [("setup.py", "setup.py", "")]
    assert kinds(["make", "-j8"]) == []
    # an interpreter CMake finds is unknown to the walk: written as its variable
    assert kinds(["${Python3_EXECUTABLE}", "../gen.py", "x"]) == [("script", "../gen.py", "")]
    assert kinds(["${PERL_EXECUTABLE}", "/s/mk.pl"]) == [("script", "/s/mk.pl", "")]
    assert kinds(["${PYTHON_EXECUTABLE}", "-c", "import os"]) == [("inline", "import os", "")]
    assert kinds(["${GIT_EXECUTABLE}", "describe", "--always"]) == []
    # options after the script are the script's: this -c is no inline code
    assert kinds(["python3", "tool.py", "-c", "cfg.json"]) == [("script", "tool.py", "")]


def test_recipe_uses_follow_cmake_build_line_by_line() -> None:
    script = (
        "set -e\n"
        "if [[ ! -e py ]]; then\n"
        "  git clone --recursive --depth=1 -b r1 https://h.invalid/o/py.git py;\n"
        "fi\n"
        "pip3 install \\\n"
        "   six==1.0\n"
        "wget https://h.invalid/f.tgz\n"
        "cmake -DX=1 ..\n"
    )
    uses = [
        (u.line, u.use.kind, u.use.url, u.use.ref, u.recursive) for u in scan.recipe_uses(script)
    ]
    assert uses == [
        (3, "git", "https://h.invalid/o/py.git", "r1", True),
        (5, "pip", "", None, False),
        (7, "download", "", None, False),
    ]


WHY = """\
option(WITH_EXTRA "extra" OFF)
if(WITH_EXTRA)
  file(DOWNLOAD https://e.invalid/a a)
elseif(WIN32)
  file(DOWNLOAD https://e.invalid/b b)
else()
  message(STATUS "plain")
endif()
if(UNIX)
  message(STATUS "unix")
else()
  file(DOWNLOAD https://e.invalid/c c)
endif()
function(fetch_it)
  file(DOWNLOAD https://e.invalid/d d)
endfunction()
foreach(x IN ITEMS)
  file(DOWNLOAD https://e.invalid/e e)
endforeach()
return()
file(DOWNLOAD https://e.invalid/f f)
"""


def test_why_not_reached_names_the_construct_that_stops_it() -> None:
    ran: set[int] = set()

    def observe(path: str, cmd: cmake.Command, scope: cmake.Scope) -> None:
        ran.add(cmd.line)

    project = cmake.configure({"CMakeLists.txt": WHY}, {}, observe=observe)
    assert project.fetches == ()
    nodes = group(list(cmake.commands(WHY)))
    why = {n: scan.why_not_reached(nodes, n, ran) for n in (3, 5, 12, 15, 18, 21)}
    assert why[3] == "if(WITH_EXTRA) at line 2 is false"
    assert (
        why[5]
        == "elseif(WIN32) of if(WITH_EXTRA) at line 2 is false, or an earlier branch is taken"
    )
    assert why[12] == "else() of if(UNIX) at line 9: an earlier branch is taken"
    assert why[15] == "function fetch_it() (line 14) is never called"
    assert why[18] == "foreach(x IN ITEMS) at line 17 runs no iteration"
    assert why[21] == "after return() at line 20"


# -- targets --------------------------------------------------------------------------


def V(*words: str) -> tuple[cmake.Value, ...]:
    return tuple(cmake.Value(w) for w in words)


def test_excluded_projects_build_only_when_a_built_target_depends_on_them() -> None:
    t = targets.graph(
        [
            ("ExternalProject_Add", V("a", "URL", "u", "EXCLUDE_FROM_ALL", "ON")),
            ("ExternalProject_Add", V("b", "URL", "u", "EXCLUDE_FROM_ALL", "ON")),
            ("ExternalProject_Add", V("c", "URL", "u", "EXCLUDE_FROM_ALL", "ON")),
            ("ExternalProject_Add", V("top", "SOURCE_DIR", "s", "DEPENDS", "a")),
            ("add_dependencies", V("mylib", "c")),
            ("add_custom_target", V("docs", "COMMAND", "make-docs")),
            ("add_custom_target", V("wheel", "ALL", "COMMAND", "mk")),
        ]
    )
    assert [n for n in ("a", "b", "c", "top", "docs", "wheel", "mylib") if t.is_built(n)] == [
        "a",
        "c",
        "top",
        "wheel",
        "mylib",
    ]
    assert "EXCLUDE_FROM_ALL" in t.why_not_built("b")
    assert "not in ALL" in t.why_not_built("docs")


def test_a_dependency_that_cannot_be_expanded_makes_every_target_built() -> None:
    unknown = cmake.Value("", missing=("DEPS",))
    t = targets.graph(
        [
            ("ExternalProject_Add", (*V("top", "DEPENDS"), unknown)),
            ("ExternalProject_Add", V("x", "URL", "u", "EXCLUDE_FROM_ALL", "1")),
        ]
    )
    assert t.built is None and t.is_built("x")


def test_fetchcontent_content_downloads_only_when_made_available() -> None:
    t = targets.graph(
        [("FetchContent_MakeAvailable", V("Dep", "other")), ("FetchContent_Populate", V("p", "x"))]
    )
    assert t.made_available("dep") and t.made_available("other") and t.made_available("p")
    assert not t.made_available("x")


# -- the audit of a small world -------------------------------------------------------------

SHA_A = Commit("a" * 40)
SHA_B = Commit("b" * 40)
SHA_C = Commit("c" * 40)
HOOKED = "1" * 64
SERVER_CMAKE = f"""\
cmake_minimum_required(VERSION 3.18)
project(srv)
option(WITH_EXTRA "extra" OFF)
include(ExternalProject)
include(FetchContent)
ExternalProject_Add(dep GIT_REPOSITORY ${{ORG}}/dep.git GIT_TAG v1.0)
ExternalProject_Add(blob URL https://dl.invalid/b.tgz URL_HASH SHA256={HOOKED})
ExternalProject_Add(lost URL https://dl.invalid/lost.tgz)
ExternalProject_Add(big GIT_REPOSITORY https://h.invalid/org/big.git GIT_TAG v2
  EXCLUDE_FROM_ALL ON)
if(WITH_EXTRA)
  file(DOWNLOAD https://dl.invalid/x.txt x.txt)
endif()
file(DOWNLOAD https://dl.invalid/y.txt y.txt)
FetchContent_Declare(never URL https://dl.invalid/never.zip)
add_custom_target(wheel ALL COMMAND python3 ${{CMAKE_CURRENT_SOURCE_DIR}}/tools/mk.py)
add_custom_target(docs COMMAND wget https://dl.invalid/docs.tgz)
"""
DEP_CMAKE = """\
project(dep)
include(FetchContent)
FetchContent_Declare(inner URL https://dl.invalid/inner.zip)
FetchContent_MakeAvailable(inner)
"""
MK = 'import subprocess\nsubprocess.run(["python3", "-m", "build"], check=True)\n'
PYPROJECT = '[build-system]\nrequires = ["setuptools==75.3.0"]\n'
RECIPE = {
    "cmake_build": (
        "cmake -DORG=https://h.invalid/org /workspace\n"
        "git clone --recursive -b v1.0 https://h.invalid/org/dep.git dep\n"
        "git clone -b r9 https://h.invalid/org/missing.git missing\n"
        "wget https://dl.invalid/tool.tgz\n"
    )
}


class Parts(TypedDict):
    trees: dict[str, audit.Tree]
    read: audit.Reader


def world(*, with_wheel: bool = True) -> tuple[Lock, Parts]:
    wheel = WheelPin(
        step="compile-server-wheel",
        image="compile-server-wheel",
        name="setuptools",
        version="75.3.0",
        index="pypi",
        files=(
            WheelFile(
                name="setuptools-75.3.0-py3-none-any.whl",
                sha256=Sha256("sha256:" + "2" * 64),
                size=1,
            ),
        ),
    )
    lock = Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        git=(
            GitPin(
                name="dep",
                url="https://h.invalid/org/dep.git",
                ref="v1.0",
                commit=SHA_A,
                found_in=("server:CMakeLists.txt:6",),
            ),
            GitPin(
                name="server",
                url="https://h.invalid/org/server",
                ref="r25.04",
                commit=SHA_B,
                found_in=("inputs",),
            ),
        ),
        url=(
            UrlPin(
                url="https://dl.invalid/b.tgz",
                sha256=Sha256(f"sha256:{HOOKED}"),
                found_in=("server:CMakeLists.txt:7",),
                fixed_output=True,
            ),
        ),
        wheel=(wheel,) if with_wheel else (),
        unresolved=(
            Unresolved(kind="url", what="https://dl.invalid/inner.zip", why="connection failed"),
            Unresolved(kind="git", what="missing", why="no branch r9"),
        ),
    )
    files = {
        "server": {"CMakeLists.txt": SERVER_CMAKE, "tools/mk.py": MK, "pyproject.toml": PYPROJECT},
        "dep": {"CMakeLists.txt": DEP_CMAKE},
    }
    trees = {
        name: audit.Tree(
            name,
            {p: t for p, t in fs.items() if cmake.is_cmake_file(p)},
            frozenset(fs),
        )
        for name, fs in files.items()
    }

    def read(name: str, path: str) -> str | None:
        return files.get(name, {}).get(path)

    return lock, {"trees": trees, "read": read}


def statuses(lock: Lock, parts: Parts) -> dict[tuple[str, str], tuple[str, str]]:
    a = audit.audit(lock, RECIPE, parts["trees"], parts["read"])
    return {(f.where, f.construct): (f.status, f.detail) for f in a.findings}


def test_every_fetch_of_the_world_is_classified() -> None:
    lock, parts = world()
    got = statuses(lock, parts)
    status = {k: v[0] for k, v in got.items()}
    assert status == {
        ("server:CMakeLists.txt:6", "ExternalProject_Add(dep) GIT_REPOSITORY"): "provided",
        ("server:CMakeLists.txt:7", "ExternalProject_Add(blob) URL"): "provided",
        ("server:CMakeLists.txt:8", "ExternalProject_Add(lost) URL"): "NOT PROVIDED",
        ("server:CMakeLists.txt:9", "ExternalProject_Add(big) GIT_REPOSITORY"): "not reached",
        ("server:CMakeLists.txt:12", "file(DOWNLOAD)"): "not reached",
        ("server:CMakeLists.txt:14", "file(DOWNLOAD)"): "NOT PROVIDED",
        ("server:CMakeLists.txt:15", "FetchContent_Declare(never) URL"): "not reached",
        ("server:tools/mk.py:2", "build"): "provided",
        ("server:CMakeLists.txt:17", "download"): "not reached",
        ("dep:CMakeLists.txt:3", "FetchContent_Declare(inner) URL"): "unresolved",
        ("cmake_build:2", "git"): "provided",
        ("cmake_build:3", "git"): "unresolved",
        ("cmake_build:4", "download"): "NOT PROVIDED",
    }
    assert (
        "hook: /tritonlock/downloads/1111"
        in got[("server:CMakeLists.txt:7", "ExternalProject_Add(blob) URL")][1]
    )
    assert "is not pinned" in got[("server:CMakeLists.txt:8", "ExternalProject_Add(lost) URL")][1]
    assert (
        "EXCLUDE_FROM_ALL"
        in got[("server:CMakeLists.txt:9", "ExternalProject_Add(big) GIT_REPOSITORY")][1]
    )
    assert (
        got[("server:CMakeLists.txt:12", "file(DOWNLOAD)")][1]
        == "if(WITH_EXTRA) at line 11 is false"
    )
    assert (
        "never made available"
        in got[("server:CMakeLists.txt:15", "FetchContent_Declare(never) URL")][1]
    )
    assert "not in ALL" in got[("server:CMakeLists.txt:17", "download")][1]
    assert "wheelhouse: step compile-server-wheel" in got[("server:tools/mk.py:2", "build")][1]


def test_a_target_cmake_build_builds_by_name_is_built() -> None:
    lock, parts = world()
    recipe = {"cmake_build": RECIPE["cmake_build"] + "cmake --build . -j8 -t big install\n"}
    a = audit.audit(lock, recipe, parts["trees"], parts["read"])
    (big,) = (f for f in a.findings if f.construct == "ExternalProject_Add(big) GIT_REPOSITORY")
    assert big.status == "NOT PROVIDED"  # built, so fetched, and the lock does not pin it


def test_an_isolated_build_without_its_wheel_step_is_not_provided() -> None:
    lock, parts = world(with_wheel=False)
    status, detail = statuses(lock, parts)[("server:tools/mk.py:2", "build")]
    assert status == "NOT PROVIDED" and "compile-server-wheel" in detail


def test_a_tree_that_could_not_be_read_is_unresolved_and_its_fetches_unexamined() -> None:
    lock, parts = world()
    trees = dict(parts["trees"])
    del trees["dep"]
    a = audit.audit(lock, RECIPE, trees, parts["read"], {"dep": "cannot check out"})
    rows = {f.where: f for f in a.findings}
    assert rows[f"dep@{SHA_A[:12]}"].status == "unresolved"
    assert "cannot check out" in rows[f"dep@{SHA_A[:12]}"].detail
    assert not any(f.where.startswith("dep:") for f in a.findings)


def test_the_report_counts_and_lists_every_finding() -> None:
    lock, parts = world()
    a = audit.audit(lock, RECIPE, parts["trees"], parts["read"])
    text = report.markdown(a, "x.lock")
    assert "| NOT PROVIDED | unresolved | provided | not reached | no fetch |" in text
    assert "| 3 | 2 | 4 | 4 | 0 |" in text
    assert "## NOT PROVIDED (3)" in text and "`https://dl.invalid/lost.tgz`" in text
    data = json.loads(report.to_json(a, "x.lock"))
    assert data["counts"]["NOT PROVIDED"] == 3
    assert len(data["findings"]) == len(a.findings)
    assert report.summary_row(a) == "4 | 4 | 3 | 2 | 0"


def test_the_tool_says_what_is_wrong_with_its_input_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(TOOLS / "compile_fetches.py"), str(tmp_path / "none.lock")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "none.lock" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unresolved_fetch_is_told_by_its_own_entry_before_its_owners() -> None:
    model = importlib.import_module("fetchaudit.model")
    lock = Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        unresolved=(
            Unresolved(kind="git", what="server: what its CMake files fetch", why="common: …"),
            Unresolved(kind="git", what="third_party", why="no branch r26.08"),
        ),
    )
    assert model.unresolved(lock, "server", ["third_party"]).why == "no branch r26.08"
    assert model.unresolved(lock, "server", ["core"]).why == "common: …"
    assert model.unresolved(lock, "core", ["x"]) is None
