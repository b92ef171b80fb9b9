"""Install steps run in order, as pip runs them: a later step may move what an earlier one
installed; the lock records the order and the final environment, verify and diff say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tritonlock import cli, lockfile
from tritonlock.diff import diff_locks, render_markdown, render_text
from tritonlock.model import Index, Inputs, Lock, Sha256, WheelFile, WheelPin, environments

D = Sha256("sha256:" + "c" * 64)


def pin(step: str, name: str, version: str, image: str = "base") -> WheelPin:
    file = WheelFile(name=f"{name}-{version}-py3-none-any.whl", sha256=D, size=1)
    return WheelPin(step=step, image=image, name=name, version=version, index="pypi", files=(file,))


def lock(*wheels: WheelPin) -> Lock:
    return lockfile.seal(
        Lock(
            inputs=Inputs(release="25.10", target="x86_64"),
            index=(Index(name="pypi", url="https://pypi.org/simple/"),),
            wheel=wheels,
            environment=environments(wheels),
        )
    )


# install order is not alphabetical: "final-vllm" runs before "final-tritonfrontend"
VLLM_THEN_FRONTEND = (
    pin("final-vllm", "pydantic", "2.14.4"),
    pin("final-vllm", "vllm", "0.10.1"),
    pin("final-tritonfrontend", "pydantic", "2.10.6"),
)


def test_the_lock_keeps_install_order_and_the_final_environment(tmp_path: Path) -> None:
    path = tmp_path / "triton.lock"
    lockfile.write(lock(*VLLM_THEN_FRONTEND), path)
    text = path.read_text()
    assert text.index('"final-vllm"') < text.rindex('"final-tritonfrontend"')
    back = lockfile.loads(text)
    [env] = back.environment
    assert env.steps == ("final-vllm", "final-tritonfrontend")
    assert env.packages == ("pydantic==2.10.6", "vllm==0.10.1")


def test_verify_passes_and_notes_the_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "triton.lock"
    lockfile.write(lock(*VLLM_THEN_FRONTEND), path)
    assert cli.main(["verify", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "note: pydantic 2.14.4 → 2.10.6 in step final-tritonfrontend "
        "(image base; 2.14.4 from step final-vllm)"
    )
    assert out[-1].startswith("OK sha256:")
    assert cli.main(["verify", "--json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and len(report["notes"]) == 1


def test_a_hand_edited_environment_fails_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "triton.lock"
    good = lock(*VLLM_THEN_FRONTEND)
    [env] = good.environment
    from dataclasses import replace

    bad = replace(good, environment=(replace(env, packages=("pydantic==2.14.4", "vllm==0.10.1")),))
    lockfile.write(bad, path)
    assert cli.main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "environment[0].packages: lists pydantic==2.14.4 which its steps do not leave" in out


def test_without_recorded_order_one_version_per_image_still_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    path = tmp_path / "triton.lock"
    lockfile.write(lockfile.seal(replace(lock(*VLLM_THEN_FRONTEND), environment=())), path)
    assert cli.main(["verify", str(path)]) == 1
    assert "differs from" in capsys.readouterr().out


def test_diff_shows_a_new_change_between_steps() -> None:
    before = lock(
        pin("final-vllm", "pydantic", "2.10.6"), pin("final-tritonfrontend", "pydantic", "2.10.6")
    )
    after = lock(*VLLM_THEN_FRONTEND)
    changes = [c for c in diff_locks(before, after).changes if c.kind == "environment"]
    [change] = changes
    assert change.key == "base/pydantic" and change.op == "added"
    assert change.notes == (
        "changed between install steps: 2.14.4 (final-vllm) → 2.10.6 (final-tritonfrontend)",
    )
    text = render_text(diff_locks(before, after), "a", "b")
    assert "Versions changed between install steps:" in text
    assert "2.14.4 (final-vllm) → 2.10.6 (final-tritonfrontend)" in text
    assert "2.14.4 (final-vllm)" in render_markdown(diff_locks(before, after), "a", "b")
