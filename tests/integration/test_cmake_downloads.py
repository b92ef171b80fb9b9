"""The compile stage's CMake hook against the real ``cmake`` (Debian packages ``cmake``,
``make``): upstream's ``ExternalProject_Add`` / ``FetchContent_Declare`` URL downloads, hashed
or not, come from pinned files with no network, and every other argument reaches CMake as
written. The URLs are on a server on 127.0.0.1 that answers every request 404, so a download
that is not provided fails (at once: CMake retries only connection errors).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tritonlock.emit.downloads import cmake_hook, local_path
from tritonlock.model import Sha256, UrlPin

pytestmark = pytest.mark.integration

HASHED = "/release/1.79.0/source/boost_1_79_0.tar.gz"
UNHASHED = "/dl/payload-2.0.tar.gz"
CONTENT = "/dl/content-1.0.tar.gz"


@pytest.fixture(scope="module", name="nothing_served")
def nothing_served_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    empty = tmp_path_factory.mktemp("empty")
    handler = partial(SimpleHTTPRequestHandler, directory=str(empty))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _archive(path: Path, top: str, files: dict[str, str]) -> Sha256:
    src = path.parent / f"{top}-tree"
    for name, text in files.items():
        (src / top / name).parent.mkdir(parents=True, exist_ok=True)
        (src / top / name).write_text(text)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src / top, arcname=top)
    return Sha256("sha256:" + hashlib.sha256(path.read_bytes()).hexdigest())


PROJECT = """cmake_minimum_required(VERSION 3.21)
project(upstream LANGUAGES NONE)
include(ExternalProject)
include(FetchContent)
ExternalProject_Add(
  boostorg
  URL {hashed}
  URL_HASH SHA256={boost_sha}
  PREFIX "boost-src"
  CONFIGURE_COMMAND ${{CMAKE_COMMAND}} -E copy_directory
                    <SOURCE_DIR>/boost/ ${{CMAKE_BINARY_DIR}}/boost
  INSTALL_COMMAND ""
  BUILD_COMMAND ""
)
ExternalProject_Add(payload URL {unhashed} PREFIX payload
  CONFIGURE_COMMAND "" BUILD_COMMAND ""
  INSTALL_COMMAND ${{CMAKE_COMMAND}} -E copy <SOURCE_DIR>/payload.txt ${{CMAKE_BINARY_DIR}}/)
FetchContent_Declare(content URL {content})
FetchContent_MakeAvailable(content)
file(COPY ${{content_SOURCE_DIR}}/content.txt DESTINATION ${{CMAKE_BINARY_DIR}})
# Arguments a wrapper could mangle: a list, an empty one, quotes, a variable-like text.
ExternalProject_Add(tricky DOWNLOAD_COMMAND "" CONFIGURE_COMMAND "" INSTALL_COMMAND ""
  LIST_SEPARATOR |
  BUILD_COMMAND ${{CMAKE_COMMAND}} -E echo "a;b" "" "say \\"hi\\"" [=[${{NOT_EXPANDED}}]=] x|y)
"""


World = tuple[Path, Path, tuple[UrlPin, ...]]


@pytest.fixture(name="world")
def world_fixture(tmp_path: Path, nothing_served: str) -> World:
    downloads = tmp_path / "downloads"
    staged = tmp_path / "staged"
    staged.mkdir()
    boost = _archive(staged / "boost.tar.gz", "boost_1_79_0", {"boost/version.hpp": "1.79\n"})
    payload = _archive(staged / "payload.tar.gz", "payload-2.0", {"payload.txt": "payload\n"})
    content = _archive(staged / "content.tar.gz", "content-1.0", {"content.txt": "content\n"})
    pins = tuple(
        UrlPin(url=url, sha256=sha, found_in=(f"core:CMakeLists.txt:{n}",))
        for n, (url, sha) in enumerate(
            [
                (nothing_served + HASHED, boost),
                (nothing_served + UNHASHED, payload),
                (nothing_served + CONTENT, content),
            ]
        )
    )
    for pin, name in zip(pins, ("boost", "payload", "content"), strict=True):
        dest = Path(local_path(pin, str(downloads)))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((staged / f"{name}.tar.gz").read_bytes())
    project = tmp_path / "core"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(
        PROJECT.format(
            hashed=pins[0].url,
            unhashed=pins[1].url,
            content=pins[2].url,
            boost_sha=boost.split(":")[1],
        )
    )
    hook = tmp_path / "downloads.cmake"
    hook.write_text(cmake_hook(pins, str(downloads)))
    return project, hook, pins


def _cmake(build: Path, project: Path, hook: Path | None) -> tuple[int, str]:
    """Configure and build as cmake_build does; the exit code and all output."""
    env = {k: v for k, v in os.environ.items() if k != "CMAKE_TOOLCHAIN_FILE"}
    if hook is not None:
        env["CMAKE_TOOLCHAIN_FILE"] = str(hook)
    build.mkdir()
    done = subprocess.run(
        ["cmake", str(project)], cwd=build, env=env, capture_output=True, text=True, timeout=300
    )
    out = done.stdout + done.stderr
    if done.returncode == 0:
        done = subprocess.run(
            ["cmake", "--build", "."], cwd=build, env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        out += done.stdout + done.stderr
    return done.returncode, out


def test_hashed_unhashed_and_fetchcontent_urls_come_from_the_pinned_files(
    world: World, tmp_path: Path
) -> None:
    project, hook, pins = world
    build = tmp_path / "build"
    rc, out = _cmake(build, project, hook)
    assert rc == 0, out[-5000:]
    assert (build / "boost" / "version.hpp").read_text() == "1.79\n"
    assert (build / "payload.txt").read_text() == "payload\n"
    assert (build / "content.txt").read_text() == "content\n"
    for pin in pins[:2]:  # FetchContent's sub-build is quiet
        assert f"tritonlock: {pin.url} from the lock" in out


def test_without_the_hook_the_same_project_cannot_download(world: World, tmp_path: Path) -> None:
    project, _, _ = world
    rc, out = _cmake(tmp_path / "build", project, None)
    assert rc != 0
    assert "404" in out


@pytest.mark.parametrize("drop", [HASHED, UNHASHED, CONTENT])
def test_each_pin_is_needed(world: World, tmp_path: Path, drop: str) -> None:
    project, _, pins = world
    kept = tuple(p for p in pins if not p.url.endswith(drop))
    assert len(kept) == 2
    hook = tmp_path / "partial.cmake"
    hook.write_text(cmake_hook(kept, str(tmp_path / "downloads")))
    rc, out = _cmake(tmp_path / "build", project, hook)
    assert rc != 0
    assert drop in out and "404" in out


def test_other_arguments_reach_cmake_as_written(world: World, tmp_path: Path) -> None:
    project, hook, _ = world
    # A project with no download at all: the hook must leave its build rules as they are.
    local = tmp_path / "local"
    local.mkdir()
    text = (project / "CMakeLists.txt").read_text()
    head = text[: text.index("include(ExternalProject)")]
    (local / "CMakeLists.txt").write_text(
        head + "include(ExternalProject)\n" + text[text.index("# Arguments") :]
    )
    with_hook, without = tmp_path / "with", tmp_path / "without"
    assert _cmake(with_hook, local, hook)[0] == 0
    assert _cmake(without, local, None)[0] == 0
    rules = Path("CMakeFiles") / "tricky.dir" / "build.make"
    got = (with_hook / rules).read_text().replace(str(with_hook), "BUILD")
    assert got == (without / rules).read_text().replace(str(without), "BUILD")
    assert "NOT_EXPANDED" in got


def _fetch(tmp_path: Path, url: str, dest: Path, sha: str) -> subprocess.CompletedProcess[str]:
    from tritonlock.emit.downloads import FETCH_SCRIPT

    script = tmp_path / "fetch.py"
    script.write_text(FETCH_SCRIPT)
    argv = ["python3", str(script), url, str(dest), sha]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_fetch_script_keeps_only_the_pinned_bytes(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    data = os.urandom(3 << 20)  # several blocks
    (served / "f.tar.gz").write_bytes(data)
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/f.tar.gz"
        good = hashlib.sha256(data).hexdigest()
        dest = tmp_path / "out" / good / "f.tar.gz"
        done = _fetch(tmp_path, url, dest, good)
        assert done.returncode == 0, done.stderr
        assert dest.read_bytes() == data
        other = tmp_path / "other" / "f.tar.gz"
        done = _fetch(tmp_path, url, other, "0" * 64)
        assert done.returncode != 0
        assert f"is not the pinned {'0' * 64}" in done.stderr
        assert not other.exists() and not list(other.parent.iterdir())
        done = _fetch(tmp_path, url.replace("f.tar.gz", "missing"), tmp_path / "m" / "x", good)
        assert done.returncode != 0 and not (tmp_path / "m" / "x").exists()
        assert done.stderr.startswith("tritonlock: ") and "404" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        server.shutdown()
        server.server_close()
