"""What the offline compile stage provides: git through insteadOf to mirrors at the lock's
refs, CMake URLs through the hook, Python through the wheelhouse (pure)."""

from __future__ import annotations

import shlex

import pytest

from tests.fixtures.emit_world import RECIPE_NAMES, RECIPES, make_lock
from tritonlock.emit import provides
from tritonlock.emit.sources import insteadof_script, mirror_url
from tritonlock.model import (
    Commit,
    GitPin,
    Inputs,
    Lock,
    Sha256,
    Submodule,
    UrlPin,
    WheelFile,
    WheelPin,
)

A = Commit("a" * 40)
B = Commit("b" * 40)
C = Commit("c" * 40)
SHA = Sha256("sha256:" + "1" * 64)
ALLOW = "git config --global protocol.file.allow always"


def lock(*, urls: tuple[UrlPin, ...] = (), wheels: tuple[WheelPin, ...] = ()) -> Lock:
    return Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        git=(
            GitPin(
                name="dep",
                url="https://github.com/org/dep.git",
                ref="v1.0",
                commit=A,
                found_in=("server:CMakeLists.txt:3",),
                submodules=(
                    Submodule(path="third/sub", url="https://github.com/org/sub", commit=C),
                ),
            ),
            GitPin(name="server", url="https://github.com/org/server", ref="r25.04", commit=B),
        ),
        url=urls,
        wheel=wheels,
    )


def wheel(step: str, name: str, version: str) -> WheelPin:
    f = WheelFile(name=f"{name}-{version}-py3-none-any.whl", sha256=SHA, size=1)
    return WheelPin(
        step=step, image="compile", name=name, version=version, index="pypi", files=(f,)
    )


def test_git_urls_route_to_their_mirror_in_every_spelling_git_would_rewrite() -> None:
    lk = lock()
    for url in (
        "https://github.com/org/dep",
        "https://github.com/org/dep.git",
        "https://github.com/org/dep/",
    ):
        m = provides.route(lk, url)
        assert m is not None and m.url == "https://github.com/org/dep.git", url
    # git rewrites by prefix: a longer name would go to a path that is no mirror
    assert provides.route(lk, "https://github.com/org/dep-extra") is None
    assert provides.route(lk, "https://github.com/ORG/dep") is None
    assert provides.route(lk, "https://gitlab.com/org/dep") is None


def test_a_clone_gets_the_pinned_commit_at_a_pinned_ref_only() -> None:
    lk = lock()
    ok = provides.git_clone(lk, "https://github.com/org/dep", "v1.0")
    assert ok.provided and ok.how == "mirror" and A[:12] in ok.detail
    assert provides.git_clone(lk, "https://github.com/org/dep", A).provided
    assert provides.git_clone(lk, "https://github.com/org/dep", A[:9]).provided
    assert provides.git_clone(lk, "https://github.com/org/dep", None).provided
    moved = provides.git_clone(lk, "https://github.com/org/dep", "v2.0")
    assert not moved.provided and "no ref 'v2.0'" in moved.detail
    stray = provides.git_clone(lk, "https://github.com/org/other", "v1.0")
    assert not stray.provided and "no mirror" in stray.detail


def test_a_submodule_commit_is_served_by_id_where_git_may_use_file_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lk = lock()
    script = insteadof_script(lk)
    monkeypatch.setattr(provides, "insteadof_script", lambda _lock: f"{script} && {ALLOW}")
    assert provides.submodule(lk, "https://github.com/org/sub", C).provided
    assert not provides.submodule(lk, "https://github.com/org/sub", A).provided
    # a submodule's mirror has no refs: its default branch is its one pinned commit
    m = provides.route(lk, "https://github.com/org/sub")
    assert m is not None and provides.clone_commit(m, None) == C
    monkeypatch.setattr(provides, "insteadof_script", lambda _lock: script.replace(ALLOW, "true"))
    refused = provides.submodule(lk, "https://github.com/org/sub", C)
    assert not refused.provided and "protocol.file.allow" in refused.detail


def test_the_routing_rules_are_the_compile_stages() -> None:
    lk = lock()
    script = insteadof_script(lk)
    pairs = provides.insteadof(lk)
    assert script.count(" --add ") == len(pairs) == 6
    for m, form in pairs:
        key = f"url.{mirror_url(m.url)}.insteadOf"
        assert f"--add {shlex.quote(key)} {shlex.quote(form)}" in script


def test_a_download_is_hooked_only_when_pinned_from_a_pinned_repo_as_spelled() -> None:
    boost = UrlPin(url="https://dl.example/b.tar.gz", sha256=SHA, found_in=("dep:x.cmake:4",))
    key = UrlPin(url="https://dl.example/key.asc", sha256=SHA, size=3, found_in=("Dockerfile:9",))
    lk = lock(urls=(boost, key))
    hooked = provides.download(lk, "https://dl.example/b.tar.gz")
    assert hooked.provided and hooked.how == "hook" and "/tritonlock/downloads/111" in hooked.detail
    assert not provides.download(lk, "https://dl.example/b.tar.gz?x=1").provided
    recipe_only = provides.download(lk, "https://dl.example/key.asc")
    assert not recipe_only.provided and "Dockerfile:9" in recipe_only.detail


def test_an_isolated_build_needs_every_build_requirement_in_its_step() -> None:
    house = {
        "compile-core-wheel": (
            wheel("compile-core-wheel", "setuptools", "75.3.0"),
            wheel("compile-core-wheel", "numpy", "1.26.4"),
        )
    }
    ok = provides.isolated_build(house, "core", ["setuptools==75.3.0", "numpy<2"])
    assert ok.provided and ok.how == "wheelhouse"
    short = provides.isolated_build(house, "core", ["setuptools==75.3.0", "wheel==0.44.0"])
    assert not short.provided and "wheel==0.44.0" in short.detail
    old = provides.isolated_build(house, "core", ["numpy>=2"])
    assert not old.provided and "step has 1.26.4" in old.detail
    other = provides.isolated_build(house, "server", ["setuptools"])
    assert not other.provided and "compile-server-wheel" in other.detail
    env = {"sys_platform": "linux"}
    assert provides.isolated_build(
        house, "core", ['pywin32; sys_platform == "win32"'], env
    ).provided


def test_a_pip_run_is_served_when_each_of_its_steps_is_in_the_wheelhouse() -> None:
    house = {"compile": (wheel("compile", "six", "1.0"),)}
    assert provides.pip_install(house, ["compile"], "cmake_build:3").provided
    no = provides.pip_install(house, ["compile", "compile-2"], "cmake_build:3")
    assert not no.provided and "compile-2" in no.detail
    assert not provides.pip_install(house, [], "x.py:3").provided


def test_the_wheelhouse_holds_the_compile_steps_of_the_lock() -> None:
    lk = make_lock("x86_64")
    files = {n: (RECIPES / "x86_64" / n).read_text() for n in RECIPE_NAMES}
    house = provides.wheelhouse(lk, files)
    assert set(house) == {"compile"}
    assert house["compile"] and all(w.step == "compile" for w in house["compile"])
