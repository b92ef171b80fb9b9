"""The emitter and the resolver agree on pip step names; the recipe is checked against the
lock; ``build --run`` runs exactly build.sh's commands; buildah's compile refuses a network."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import dockerfile
import pytest

from tests.fixtures.emit_world import RECIPE_NAMES, RECIPES, make_lock
from tests.fixtures.wheel_runs import FIND_XARGS, LOOP, final
from tritonlock import lockfile, runner
from tritonlock.cli import main
from tritonlock.emit import OFFLINE_CHECK, emit, pip_step_names
from tritonlock.emit.buildplan import Builder, Step
from tritonlock.emit.dockerfile import Translator
from tritonlock.emit.errors import EmitError
from tritonlock.model import Lock, Sha256, WheelFile, WheelPin
from tritonlock.resolve.recipe import read_folder, stale
from tritonlock.upstream import floating_inputs
from tritonlock.upstream.recipe import digest
from tritonlock.upstream.steps import plan_pip_steps, step_names

# stage-named wheels of make_lock -> the names the resolver gives the same installs
RESOLVER_STEP = {
    ("buildbase", "*"): "buildbase-build",
    ("final", "fastapi"): "final-openai",
    ("final", "vllm"): "final-vllm",
    ("final", "*"): "final-numpy",
}


def recipe(target: str) -> dict[str, str]:
    return {n: (RECIPES / target / n).read_text() for n in RECIPE_NAMES}


def resolver_named(lock: Lock) -> Lock:
    wheels = []
    for w in lock.wheel:
        step = RESOLVER_STEP.get((w.step, w.name)) or RESOLVER_STEP.get((w.step, "*"), w.step)
        wheels.append(replace(w, step=step))
    vllm_numpy = [replace(w, step="final-vllm") for w in lock.wheel if w.name == "numpy"]
    return replace(lock, wheel=tuple(wheels + vllm_numpy))


def test_step_names_are_the_plans_names_by_instruction() -> None:
    pip = floating_inputs(recipe("x86_64")).pip
    names = step_names(pip)
    assert names["Dockerfile.buildbase:29"] == ("buildbase-build",)
    assert names["Dockerfile:57"] == ("final-mkl", "final-secrets", "final-vllm")
    plan = plan_pip_steps(pip, files={}, machine="x86_64")
    located = {s.name: s.found_in for s in plan.steps}
    for where, steps in names.items():
        for step in steps:
            assert step not in located or located[step] == (where,)
    assert {s.name for s in plan.steps} <= {s for v in names.values() for s in v}


def test_emitter_uses_the_resolvers_step_of_each_instruction() -> None:
    lock = resolver_named(make_lock("x86_64"))
    out = emit(lock, recipe("x86_64"))
    reqs = sorted(k for k in out if k.startswith("requirements/"))
    assert reqs == [
        "requirements/buildbase-build.txt",
        "requirements/compile.txt",
        "requirements/final-numpy.txt",
        "requirements/final-openai.txt",
        "requirements/final-vllm.txt",
    ]
    lines = out["Dockerfile"].decode().splitlines()
    for step, needle in (
        ("final-numpy", "pip3 install --upgrade"),
        ("final-openai", "/tritonlock/requirements/final-openai.txt"),
        ("final-vllm", "/tritonlock/requirements/final-vllm.txt"),
    ):
        copy = lines.index(
            f'COPY ["requirements/{step}.txt", "/tritonlock/requirements/{step}.txt"]'
        )
        assert any(needle in line for line in lines[copy + 1 : copy + 4]), step
    vllm_run = next(
        line for line in lines if "final-vllm.txt" in line and "--require-hashes" in line
    )
    assert "final-numpy.txt" not in vllm_run


def test_a_wheel_of_another_instructions_step_is_not_taken() -> None:
    lock = resolver_named(make_lock("x86_64"))
    wheels = tuple(w for w in lock.wheel if w.step != "final-openai")
    with pytest.raises(Exception, match="final-openai"):
        emit(replace(lock, wheel=wheels), recipe("x86_64"))


def test_stale_recipe_checks() -> None:
    lock = make_lock("cpu")
    files = recipe("cpu")
    assert stale(lock, files, "r", complete=False) == []
    changed = {**files, "Dockerfile": files["Dockerfile"] + "RUN true\n"}
    (problem,) = stale(lock, changed, "r", complete=False)
    assert problem.startswith("r/Dockerfile: sha256 " + digest(changed["Dockerfile"]))
    assert "stale" in problem
    extra = {**files, "docker_build": "#!/bin/sh\n"}
    assert stale(lock, extra, "r", complete=False) == []
    assert any("docker_build" in p for p in stale(lock, extra, "r", complete=True))
    fewer = {k: v for k, v in files.items() if k != "cmake_build"}
    assert any("cmake_build: missing" in p for p in stale(lock, fewer, "r", complete=True))


def test_read_folder_reads_the_lock_files_only(tmp_path: Path) -> None:
    for name, text in recipe("cpu").items():
        (tmp_path / name).write_text(text)
    (tmp_path / "unrelated").write_text("x")
    assert read_folder(tmp_path, make_lock("cpu")) == recipe("cpu")


def test_buildah_compile_refuses_to_run_with_a_network() -> None:
    lock = make_lock("cpu")
    cases: tuple[tuple[Builder, bool], ...] = (("buildah", True), ("buildx", False))
    for builder, checked in cases:
        text = emit(lock, recipe("cpu"), builder=builder)["Dockerfile"].decode()
        cmds = dockerfile.parse_string(text)
        compile_ = [c for c in cmds if c.cmd == "RUN"]
        runs = [c.original for c in compile_ if "/workspace/build/cmake_build" in c.original]
        assert len(runs) == 1
        assert (OFFLINE_CHECK in runs[0]) is checked


def test_detect_prefers_buildx_when_it_works() -> None:
    assert runner.detect(lambda argv: 0) == "buildx"
    assert runner.detect(lambda argv: 1) == "buildah"


def test_build_run_executes_build_sh_commands_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock_path = tmp_path / "triton.lock"
    lockfile.write(make_lock("cpu"), lock_path)
    ran: list[tuple[list[Step], Path]] = []
    monkeypatch.setattr(runner, "execute", lambda steps, cwd: ran.append((list(steps), cwd)))
    bin_dir = tmp_path / "bin"  # a buildah on PATH: build --run checks for it before any work
    bin_dir.mkdir()  # and asks it for the image's ID afterwards, for the provenance
    image_id = "sha256:" + "d" * 64
    (bin_dir / "buildah").write_text(f'#!/bin/sh\n[ "$1" = images ] && echo {image_id}\n')
    (bin_dir / "buildah").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    out = tmp_path / "out"
    args = ["build", "--lock", str(lock_path), "--recipe", str(RECIPES / "cpu"), "-o", str(out)]
    assert main([*args, "--run", "--builder", "buildah"]) == 0
    ((steps, cwd),) = ran
    assert cwd == out.resolve()
    script = (out / "build.sh").read_text().splitlines()[-3:]
    assert [argv[-1] for _, argv in steps] == ["."] * 3
    assert [" ".join(argv) for _, argv in steps] == [
        line.removeprefix("exec ").replace("'", "") for line in script
    ]
    subject = json.loads((out / "provenance.intoto.json").read_text())["subject"]
    assert subject[0]["digest"] == {"sha256": "d" * 64}


def test_build_run_with_a_failing_builder_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lock_path = tmp_path / "triton.lock"
    lockfile.write(make_lock("cpu"), lock_path)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    fake = tmp_path / "nothing"
    fake.mkdir()
    (fake / "buildah").write_text("#!/bin/sh\nexit 3\n")
    (fake / "buildah").chmod(0o755)
    args = ["build", "--lock", str(lock_path), "--recipe", str(RECIPES / "cpu")]
    code = main([*args, "-o", str(tmp_path / "out"), "--run", "--builder", "buildah"])
    assert code == 1
    assert "status 3" in capsys.readouterr().err


def test_git_mirror_needs_prefix_and_target(tmp_path: Path) -> None:
    lock_path = tmp_path / "triton.lock"
    lockfile.write(make_lock("cpu"), lock_path)
    assert main(["build", "--lock", str(lock_path), "--git-mirror", "nope"]) == 2


def test_pip_installs_of_cmake_build_get_a_wheelhouse() -> None:
    files = recipe("cpu")
    files["cmake_build"] += "pip3 install setuptools==75.1.0\n"
    lock = make_lock("cpu")
    compile_wheels = [replace(w, step="cmake_build-setuptools") for w in lock.wheel]
    lock = replace(lock, wheel=tuple(w for w in lock.wheel if w.step != "compile"))
    lock = replace(
        lock, wheel=(*lock.wheel, *[w for w in compile_wheels if w.name == "setuptools"])
    )
    text = emit(lock, files)["Dockerfile"].decode()
    assert 'COPY ["requirements/cmake_build-setuptools.txt"' in text
    assert "pip3 download --require-hashes --no-deps" in text
    assert "ENV PIP_NO_INDEX=1" in text


def _wheel_steps_lock(*steps: str) -> Lock:
    """The emit world's lock with one wheel in each of ``steps`` (named as the resolver
    names the in-tree wheels' steps)."""
    lock = make_lock("cpu")
    wheels = []
    for k, step in enumerate(steps):
        name = f"dep{k}"
        file = WheelFile(
            name=f"{name}-1.0-py3-none-any.whl", sha256=Sha256(f"sha256:{k:064x}"), size=9
        )
        wheels.append(
            WheelPin(step=step, image="base", name=name, version="1.0", index="pypi", files=(file,))
        )
    return replace(lock, wheel=tuple(wheels))


def _final_body(lock: Lock, text: str) -> list[str]:
    steps = pip_step_names({"Dockerfile": text})
    return Translator(lock, "Dockerfile", "final", allow_git=True, pip_steps=steps).run(text).body


def _hashed(lines: list[str]) -> list[str]:
    return [line.rsplit("; ", 1)[1] for line in lines if "--require-hashes" in line]


def test_the_r26_06_wheel_loop_installs_each_wheels_pinned_step() -> None:
    """The loop runs its xargs once per wheel: both steps' hashed sets are installed before
    it, as for the older RUN per wheel; the wheels themselves offline, without deps, and
    upstream's check that each wheel exists is kept."""
    lock = _wheel_steps_lock("final-tritonserver", "final-tritonfrontend", "final-openai")
    body = _final_body(lock, final(LOOP))
    assert _hashed(body) == _hashed(_final_body(lock, final(FIND_XARGS)))
    assert _hashed(body)[:2] == [
        f"pip install --upgrade --require-hashes --no-deps -r /tritonlock/requirements/{step}.txt"
        for step in ("final-tritonserver", "final-tritonfrontend")
    ]
    (loop,) = [line for line in body if "for pkg in" in line]
    assert body.index(loop) > body.index(
        'COPY ["requirements/final-tritonfrontend.txt", '
        '"/tritonlock/requirements/final-tritonfrontend.txt"]'
    )
    assert "for pkg in tritonserver tritonfrontend; do" in loop
    assert (
        'wheels=$(find /opt/tritonserver/python -maxdepth 1 -type f -name "${pkg}-*.whl")' in loop
    )
    assert 'if [ -z "$wheels" ]; then' in loop and "exit 1;" in loop
    assert (
        "printf '%s\\n' \"$wheels\" | xargs -I '{}' pip install --upgrade --no-deps --no-index {}"
        in loop
    )
    assert "--require-hashes" not in loop


def test_a_pinned_step_no_command_of_its_run_installs_is_an_error() -> None:
    lock = _wheel_steps_lock("final-tritonserver", "final-tritonfrontend", "final-openai")
    once = LOOP.replace("tritonserver tritonfrontend", "tritonserver")
    text = final(once)
    steps = {**pip_step_names({"Dockerfile": text})}
    steps["Dockerfile:7"] += ("final-tritonfrontend",)
    translator = Translator(lock, "Dockerfile", "final", allow_git=True, pip_steps=steps)
    with pytest.raises(
        EmitError, match=r"line 7: no command of this RUN installs .*tritonfrontend"
    ):
        translator.run(text)


def test_a_pip_install_in_a_loop_over_unknown_words_is_refused() -> None:
    lock = _wheel_steps_lock("final-tritonserver", "final-openai")
    text = final(LOOP.replace("tritonserver tritonfrontend", "$WHEELS"))
    with pytest.raises(EmitError, match="line 7: pip install in a `for` loop over words"):
        _final_body(lock, text)
