"""`tritonlock export requirements`: pip requirements with hashes, from an intact lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock import cli, lockfile
from tritonlock.errors import UsageError
from tritonlock.export.requirements import export_requirements, select_pins
from tritonlock.model import Index, Inputs, Lock, Sha256, WheelFile, WheelPin

H1, H2, H3 = (Sha256("sha256:" + c * 64) for c in "123")


def pin(step: str, name: str, version: str, *hashes: Sha256, sdist: bool = False) -> WheelPin:
    ext = ".tar.gz" if sdist else "-py3-none-any.whl"
    files = tuple(
        WheelFile(name=f"{name}-{version}{'' if sdist else f'-{i}'}{ext}", sha256=h, size=1)
        for i, h in enumerate(hashes)
    )
    return WheelPin(
        step=step, image="base", name=name, version=version, index="pypi", files=files, sdist=sdist
    )


def lock(*pins: WheelPin) -> Lock:
    return lockfile.seal(
        Lock(
            inputs=Inputs(release="25.04", target="x86_64"), index=(Index(name="pypi"),), wheel=pins
        )
    )


LOCK = lock(
    pin("final", "six", "1.16.0", H1),
    pin("final", "attrs", "24.2.0", H2, H3),
    pin("vllm", "six", "1.16.0", H1),
)


def test_one_step_with_every_hash_sorted_by_name() -> None:
    text = export_requirements(LOCK, "final")
    body = text.split("--only-binary=:all:\n", 1)[1]
    assert body == (
        f"attrs==24.2.0 \\\n    --hash={H2} \\\n    --hash={H3}\nsix==1.16.0 \\\n    --hash={H1}\n"
    )
    assert LOCK.content_hash is not None and LOCK.content_hash in text


def test_all_steps_when_they_agree_else_ask_for_a_step() -> None:
    assert "six==1.16.0" in export_requirements(LOCK, None)
    clash = lock(pin("a", "six", "1.16.0", H1), pin("b", "six", "1.17.0", H2))
    with pytest.raises(UsageError, match="--step"):
        export_requirements(clash, None)
    with pytest.raises(UsageError, match="has no install step 'c'; it has a, b"):
        select_pins(clash, "c")
    with pytest.raises(UsageError, match="no wheel pins"):
        select_pins(lock(), None)


def test_sdist_pins_allow_source_installs() -> None:
    text = export_requirements(lock(pin("s", "onlysdist", "1.0", H1, sdist=True)), "s")
    assert "--only-binary" not in text and f"onlysdist==1.0 \\\n    --hash={H1}" in text


@given(st.lists(st.sampled_from(["a", "b-c", "d.e"]), unique=True, min_size=1))
def test_export_is_deterministic_and_names_every_pin(names: list[str]) -> None:
    pins = [pin("s", n.replace(".", "-"), "1.0", H1) for n in names]
    one, two = (
        export_requirements(lock(*pins), "s"),
        export_requirements(lock(*reversed(pins)), "s"),
    )
    assert one == two
    assert all(f"{p.name}==1.0 \\" in one for p in pins)


def run_cli(*argv: str) -> int:
    return cli.main(list(argv))


def test_command_writes_atomically_and_refuses_an_edited_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "triton.lock"
    lockfile.write(LOCK, path)
    out = tmp_path / "req.txt"
    assert (
        run_cli("export", "requirements", "--lock", str(path), "--step", "final", "-o", str(out))
        == 0
    )
    assert out.read_text() == export_requirements(lockfile.load(path), "final")
    assert run_cli("export", "requirements", "--lock", str(path), "--step", "vllm") == 0
    assert capsys.readouterr().out == export_requirements(LOCK, "vllm")
    path.write_text(path.read_text().replace("24.2.0", "24.3.0"))
    out.unlink()
    assert run_cli("export", "requirements", "--lock", str(path), "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert "content-hash" in err and err.count("\n") == 1 and not out.exists()
    assert run_cli("export", "requirements", "--lock", str(path) + ".nope") == 2
