"""With --allow-partial, a wheel step that cannot be pinned costs only itself and the later
steps of its image: the first steps and other images' steps are still pinned (vllm==0.8.1
has no aarch64 wheel, but numpy installed before it and the build image's tools do). A pip
install that cannot be planned at all is an error, or with --allow-partial unresolved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.fixtures.emit_world import make_lock
from tests.fixtures.wheel_runs import LOOP, LOOP_LINE, final
from tritonlock.errors import ResolveError, Unreachable
from tritonlock.model import Index, Inputs, WheelPin
from tritonlock.resolve import wheels as whlres
from tritonlock.resolve.context import Ctx, ResolveOptions, Wheels
from tritonlock.resolve.wheels import InstallStep
from tritonlock.resolve.wheelsteps import pin_wheels, wheel_steps
from tritonlock.upstream import floating_inputs

STEPS = [
    InstallStep(name=n, image="final", requirements=(f"{n}==1",))
    for n in ("numpy", "vllm", "extra")
]
INDEX = Index(name="pypi", url="https://pypi.org/simple")


def ctx(tmp_path: Path, *, partial: bool, notes: list[str] | None = None) -> Ctx:
    return Ctx(
        inputs=Inputs(release="25.04", target="igpu"),
        opts=ResolveOptions(allow_partial=partial, cache_dir=tmp_path),
        say=lambda _m: None,
        notes=(notes if notes is not None else []).append,
    )


def failing_at(name: str, calls: list[list[str]]) -> Callable[[Sequence[InstallStep]], Wheels]:
    def pin(steps: Sequence[InstallStep]) -> Wheels:
        calls.append([s.name for s in steps])
        if any(s.name == name for s in steps):
            raise ResolveError(f"step {name!r}: {name}==1 has no file for cp312 aarch64")
        pins = tuple(
            WheelPin(step=s.name, image=s.image, name=s.name, version="1", index="pypi", files=())
            for s in steps
        )
        return pins, (INDEX,)

    return pin


def test_first_steps_are_pinned_and_the_failing_one_is_unresolved(tmp_path: Path) -> None:
    c = ctx(tmp_path, partial=True)
    calls: list[list[str]] = []

    pins, indexes = wheel_steps(c, STEPS, failing_at("vllm", calls))

    assert [p.name for p in pins] == ["numpy"]
    assert indexes == (INDEX,)
    assert [(u.kind, u.what) for u in c.unresolved] == [
        ("wheel", "python requirements of steps vllm, extra")
    ]
    assert "vllm==1 has no file" in c.unresolved[0].why
    assert calls == [["numpy", "vllm", "extra"], ["numpy", "vllm"], ["numpy"]]


def test_later_steps_of_other_images_are_still_pinned(tmp_path: Path) -> None:
    build = InstallStep(name="build", image="buildbase", requirements=("build==1",))
    c = ctx(tmp_path, partial=True)
    calls: list[list[str]] = []

    pins, _ = wheel_steps(c, [*STEPS, build], failing_at("vllm", calls))

    assert [p.name for p in pins] == ["numpy", "build"]
    assert [u.what for u in c.unresolved] == ["python requirements of steps vllm, extra"]
    assert calls[-1] == ["numpy", "build"]


def test_last_step_failing_names_only_itself(tmp_path: Path) -> None:
    c = ctx(tmp_path, partial=True)
    pins, _ = wheel_steps(c, STEPS, failing_at("extra", []))
    assert [p.name for p in pins] == ["numpy", "vllm"]
    assert [u.what for u in c.unresolved] == ["python requirements of step extra"]


def test_first_step_failing_keeps_other_images(tmp_path: Path) -> None:
    build = InstallStep(name="build", image="buildbase", requirements=("build==1",))
    c = ctx(tmp_path, partial=True)
    pins, _ = wheel_steps(c, [*STEPS, build], failing_at("numpy", []))
    assert [p.name for p in pins] == ["build"]
    assert [u.what for u in c.unresolved] == ["python requirements of steps numpy, vllm, extra"]


def test_nothing_resolving_or_no_partial_raises(tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match="numpy"):
        wheel_steps(ctx(tmp_path, partial=True), STEPS, failing_at("numpy", []))
    calls: list[list[str]] = []
    with pytest.raises(ResolveError, match="vllm"):
        wheel_steps(ctx(tmp_path, partial=False), STEPS, failing_at("vllm", calls))
    assert calls == [["numpy", "vllm", "extra"]]


def test_an_unreachable_index_is_not_searched_step_by_step(tmp_path: Path) -> None:
    """Retries already ran out: trying shorter prefixes would only wait for them again."""
    c = ctx(tmp_path, partial=True)
    calls: list[list[str]] = []

    def down(steps: Sequence[InstallStep]) -> Wheels:
        calls.append([s.name for s in steps])
        raise Unreachable("index 'pypi': answered HTTP 503 (gave up after 4 attempts)")

    assert wheel_steps(c, STEPS, down) == ((), ())
    assert calls == [["numpy", "vllm", "extra"]]
    assert [(u.kind, u.what) for u in c.unresolved] == [
        ("wheel", "python requirements of steps numpy, vllm, extra")
    ]


def test_a_pip_install_that_cannot_be_planned_is_unresolved_not_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = final(LOOP.replace("tritonserver tritonfrontend", "$TRITON_WHEELS"))
    text += "RUN pip3 install --upgrade $EXTRA_PACKAGES\n"
    floating = floating_inputs({"Dockerfile": text})
    texts = {"server:python/openai/requirements.txt": "fastapi==0.115.6\n"}
    asked: list[list[str]] = []

    def resolve_wheels(steps: Sequence[InstallStep], **_kw: object) -> Wheels:
        asked.append([s.name for s in steps])
        return (), ()

    monkeypatch.setattr(whlres, "resolve_wheels", resolve_wheels)
    notes: list[str] = []
    c = ctx(tmp_path, partial=True, notes=notes)

    pin_wheels(c, make_lock(), floating, texts, "x86_64")

    loop_at = f"pip install at Dockerfile:{LOOP_LINE}: final-pip"
    extra_at = "pip install at Dockerfile:17: final-pip-2: $EXTRA_PACKAGES"
    assert [(u.kind, u.what) for u in c.unresolved] == [("wheel", loop_at), ("wheel", extra_at)]
    assert "each word of `for pkg in $TRITON_WHEELS`" in c.unresolved[0].why
    assert c.unresolved[1].why == "a shell variable, known only at build time"
    assert not any("final-pip" in n for n in notes)
    assert asked == [["final-openai"]]
    with pytest.raises(ResolveError) as err:
        pin_wheels(ctx(tmp_path, partial=False), make_lock(), floating, texts, "x86_64")
    assert str(err.value) == (
        f"{loop_at}: {c.unresolved[0].why} (and 1 more); --allow-partial locks the rest without it"
    )
    assert asked == [["final-openai"]]
