"""`tritonlock build`: verify first, refuse without writing, write the folder atomically."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.fixtures.emit_world import RECIPE_NAMES, RECIPES, Values, make_lock
from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.emit import emit, policy
from tritonlock.emit.buildplan import OFFLINE, Plan, commands
from tritonlock.emit.folder import MARKER
from tritonlock.model import Lock, Unresolved


def write_lock(tmp: Path, lock: Lock, name: str = "triton.lock") -> Path:
    path = tmp / name
    lockfile.write(lock, path)
    return path


def build(*args: str) -> int:
    return main(["build", *args])


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_build_writes_the_folder_and_is_byte_identical(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, make_lock("x86_64"))
    rec = str(RECIPES / "x86_64")
    assert build("--lock", str(lock), "--recipe", rec, "-o", str(tmp_path / "a")) == 0
    assert build("--lock", str(lock), "--recipe", rec, "-o", str(tmp_path / "b")) == 0
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a == b
    expected = {"Dockerfile", "build.sh", "cmake_build", "docker-bake.hcl", "source-policy.json"}
    assert expected | {MARKER, "requirements/final.txt"} <= set(a)
    assert (tmp_path / "a" / "build.sh").stat().st_mode & 0o111
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_rebuild_replaces_its_own_folder(tmp_path: Path) -> None:
    rec = str(RECIPES / "cpu")
    out = tmp_path / "out"
    first = write_lock(tmp_path, make_lock("cpu"), "a.lock")
    second = write_lock(tmp_path, make_lock("cpu", Values(apt_version="9.9")), "b.lock")
    assert build("--lock", str(first), "--recipe", rec, "-o", str(out)) == 0
    (out / "stale-file").write_text("x")
    assert build("--lock", str(second), "--recipe", rec, "-o", str(out)) == 0
    assert not (out / "stale-file").exists()
    assert b"=9.9" in (out / "Dockerfile").read_bytes()


def test_foreign_folder_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    lock = write_lock(tmp_path, make_lock("cpu"))
    code = build("--lock", str(lock), "--recipe", str(RECIPES / "cpu"), "-o", str(out))
    assert code == 2 and (out / "mine.txt").read_text() == "keep"


def _refused(tmp_path: Path, lock: Path, rec: Path, capsys: pytest.CaptureFixture[str]) -> str:
    out = tmp_path / "out"
    assert build("--lock", str(lock), "--recipe", str(rec), "-o", str(out)) == 1
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    return capsys.readouterr().err


def test_tampered_lock_is_refused_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = write_lock(tmp_path, make_lock("x86_64"))
    server = make_lock("x86_64").git[-1].commit
    text = lock.read_text().replace(server, "f" * 40)
    lock.write_text(text)
    err = _refused(tmp_path, lock, RECIPES / "x86_64", capsys)
    assert "content-hash" in err and "FAILED" in err


def test_partial_lock_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dataclasses import replace

    partial = replace(make_lock("cpu"), unresolved=(Unresolved(kind="url", what="x", why="y"),))
    lock = write_lock(tmp_path, partial)
    assert "partial" in _refused(tmp_path, lock, RECIPES / "cpu", capsys)


def test_schema_invalid_lock_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = write_lock(tmp_path, make_lock("cpu"))
    text = lock.read_text().replace('ref = "r25.04"', 'ref = "r25.04; rm -rf /"', 2)
    lock.write_text(text)
    err = _refused(tmp_path, lock, RECIPES / "cpu", capsys)
    assert err.count(".ref") >= 2


def test_stale_recipe_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = write_lock(tmp_path, make_lock("cpu"))
    rec = tmp_path / "recipe"
    rec.mkdir()
    for name in RECIPE_NAMES:
        (rec / name).write_bytes((RECIPES / "cpu" / name).read_bytes())
    (rec / "Dockerfile").write_text((rec / "Dockerfile").read_text() + "RUN true\n")
    (rec / "cmake_build").unlink()
    err = _refused(tmp_path, lock, rec, capsys)
    assert "Dockerfile: sha256" in err and "stale" in err and "cmake_build: missing" in err


def test_emit_refusal_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    full = make_lock("cpu")
    lock = write_lock(tmp_path, replace(full, url=full.url[1:]))
    out = str(tmp_path / "o")
    assert build("--lock", str(lock), "--recipe", str(RECIPES / "cpu"), "-o", out) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not pinned by the lock" in err
    assert not (tmp_path / "o").exists()


def test_several_locks_give_subfolders_and_a_bake_matrix(tmp_path: Path) -> None:
    a = write_lock(tmp_path, make_lock("x86_64"), "a.lock")
    b = write_lock(tmp_path, make_lock("igpu"), "b.lock")
    out = tmp_path / "out"
    code = build(
        "--lock",
        str(a),
        "--recipe",
        str(RECIPES / "x86_64"),
        "--lock",
        str(b),
        "--recipe",
        str(RECIPES / "igpu"),
        "-o",
        str(out),
    )
    assert code == 0
    assert (out / "25.04-x86_64" / "Dockerfile").is_file()
    assert (out / "25.04-igpu" / "Dockerfile").is_file()
    hcl = (out / "docker-bake.hcl").read_text()
    assert "matrix" in hcl and '"25.04-igpu"' in hcl and '"linux/arm64"' in hcl


def test_build_sh_holds_the_exact_builder_command(tmp_path: Path) -> None:
    lock = write_lock(tmp_path, make_lock("igpu"))
    out = tmp_path / "out"
    args = ["--lock", str(lock), "--recipe", str(RECIPES / "igpu"), "-o", str(out)]
    assert build(*args, "--secret", "id=pip-conf,env=PIP_CONF", "--builder", "buildah") == 0
    last = (out / "build.sh").read_text().splitlines()[-1]
    words = shlex.split(last)
    assert words[:3] == ["exec", "buildah", "bud"]
    assert words[words.index("--secret") :][:2] == ["--secret", "id=pip-conf,env=PIP_CONF"]
    assert words[words.index("--platform") + 1] == "linux/arm64"
    assert words[-1] == "."


def test_runner_commands_for_both_builders() -> None:
    plan = Plan(platform="linux/amd64", source_date_epoch=5, tag="t:1")
    ((env, argv),) = commands("buildx", plan)
    assert env == {"EXPERIMENTAL_BUILDKIT_SOURCE_POLICY": "source-policy.json"}
    assert argv[:3] == ["docker", "buildx", "build"] and "SOURCE_DATE_EPOCH=5" in argv
    steps = commands("buildah", plan)
    assert [e for e, _ in steps] == [{}, {}, {}]
    argvs = [a for _, a in steps]
    # the compile build runs in an empty network namespace (chroot isolation ignores --network)
    assert argvs[1][: len(OFFLINE)] == list(OFFLINE)
    argvs[1] = argvs[1][len(OFFLINE) :]
    assert all(a[:2] == ["buildah", "bud"] and a[a.index("--timestamp") + 1] == "5" for a in argvs)
    assert argvs[0][-3:] == ["--target", "tritonlock-sources", "."]
    assert argvs[1][-4:] == ["--network=none", "--target", "tritonlock-compile", "."]
    assert "--network=none" not in argvs[2] and argvs[2][-3:] == ["--tag", "t:1", "."]


def test_source_policy_pins_images_and_git() -> None:
    lock = make_lock("cpu")
    data = json.loads(policy.render(lock))
    rules = data["rules"]
    assert all(r["action"] == "CONVERT" for r in rules)
    image = lock.image[0]
    assert {
        "action": "CONVERT",
        "selector": {"identifier": "docker-image://docker.io/library/ubuntu:24.04"},
        "updates": {"identifier": f"docker-image://docker.io/library/ubuntu:24.04@{image.digest}"},
    } in rules
    for g in lock.git:
        ids = {r["updates"]["identifier"] for r in rules}
        assert f"{g.url}#{g.commit}" in ids
        assert "git://" + g.url.split("://", 1)[1] + f"#{g.commit}" in ids
    assert emit(lock, {n: (RECIPES / "cpu" / n).read_text() for n in RECIPE_NAMES})[
        "source-policy.json"
    ] == policy.render(lock)


def test_a_lock_with_a_credential_in_an_index_url_is_refused_and_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from tritonlock.model import Index

    good = make_lock("x86_64")
    secret = "tlk0a1b2c3d4e5f6a7b8"
    bad = replace(good, index=(Index(name="pypi", url=f"https://pypi.org/simple/?t={secret}"),))
    path = write_lock(tmp_path, bad)  # write seals it: the hash is right, the URL is not
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr()
    assert "index[0].url: looks like it carries a credential" in out.out + out.err
    assert secret not in out.out + out.err
