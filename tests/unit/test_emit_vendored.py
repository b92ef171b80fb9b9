"""`tritonlock build --vendor DIR`: the emitted build takes every input from the bundle (a
named build context) and no RUN reaches a network; the builder plan loads the bundle's
images and builds offline; a bundle that does not match is refused before anything is
written."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures.emit_world import RECIPES, make_lock, recipe
from tests.unit.test_vendor import FakeSources, small_lock
from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.emit import emit
from tritonlock.emit.buildplan import LOAD, OFFLINE, Plan, Vendored, commands
from tritonlock.emit.sources import mirrors
from tritonlock.emit.vendored import CONTEXT, ROOT
from tritonlock.model import Lock
from tritonlock.vendor.layout import bundle_path
from tritonlock.vendor.run import vendor

VENDOR = Vendored(
    path="/srv/bundle",
    images=(("ubuntu:tritonlock-0123", "sha256:" + "1" * 64),),
    pulled=("docker.io/library/other@sha256:" + "2" * 64,),
)


def without_apt(target: str) -> dict[str, str]:
    """The world's recipe with its apt installs made no-ops (lines kept where they were)."""
    return {
        name: re.sub(r"\bapt(-get)? install\b", "echo install", text)
        for name, text in recipe(target).items()
    }


def runs(dockerfile: str) -> list[str]:
    """Every RUN instruction, continuation lines joined."""
    text = dockerfile.replace("\\\n", " ")
    return [line for line in text.splitlines() if line.startswith("RUN ")]


@pytest.fixture(name="vendored")
def vendored_fixture() -> str:
    lock = make_lock("cpu")
    return emit(lock, without_apt("cpu"), builder="buildah", vendor=VENDOR)["Dockerfile"].decode()


def test_no_run_of_a_vendored_build_has_a_secret_an_index_or_a_remote_url(vendored: str) -> None:
    assert "type=secret" not in vendored and "/run/secrets" not in vendored
    assert "PIP_INDEX_URL" not in vendored and "ADD " not in vendored
    for run in runs(vendored):
        fetches = re.findall(r"(?:fetch\.py|fetch -q --no-tags) (\S+)", run)
        assert all(
            f.startswith(("file:///tritonlock/vendor/", "/tritonlock/vendor/")) for f in fetches
        )


def test_every_pip_run_reads_the_bundles_wheelhouse_only(vendored: str) -> None:
    pips = [r for r in runs(vendored) if re.search(r"\bpip3? (install|download)\b", r)]
    assert len(pips) >= 3
    mount = f"--mount=type=bind,from={CONTEXT},source=wheels,target={ROOT}/wheels"
    for run in pips:
        assert mount in run and f"PIP_NO_INDEX=1 PIP_FIND_LINKS={ROOT}/wheels" in run, run
        if "-r /tritonlock/requirements/" in run:
            assert "--require-hashes" in run


def test_every_repository_comes_from_its_bundle(vendored: str) -> None:
    lock = make_lock("cpu")
    fetches = [r for r in runs(vendored) if "git init -q --bare" in r]
    assert len(fetches) == len(mirrors(lock))
    for m in mirrors(lock):
        assert any(f"{ROOT}/{bundle_path(m.url)} " in r for r in fetches), m.url
    assert all(f"from={CONTEXT},source=git," in r for r in fetches)


def test_downloads_are_copied_from_the_bundle_and_checked(vendored: str) -> None:
    lock = make_lock("cpu")
    boost = next(u for u in lock.url if "boost" in u.url)
    hexd = boost.sha256.split(":", 1)[1]
    (run,) = [r for r in runs(vendored) if "fetch.py" in r and hexd in r]
    assert f"file://{ROOT}/downloads/{hexd}/boost_1_80_0.tar.gz" in run
    assert run.endswith(f" {hexd}")  # the script keeps nothing that does not hash to the pin


def test_every_apt_command_reads_the_bundles_flat_repository_only() -> None:
    out = emit(make_lock("cpu"), recipe("cpu"), builder="buildah", vendor=VENDOR)
    text = out["Dockerfile"].decode()
    apts = [r for r in runs(text) if re.search(r"\bapt(-get)? ", r)]
    assert any(" install " in r for r in apts)
    mount = f"--mount=type=bind,from={CONTEXT},source=apt,target={ROOT}/apt"
    for run in apts:
        assert mount in run and f"export APT_CONFIG={ROOT}/apt/apt.conf" in run, run
    installs = [r for r in apts if " install " in r]
    assert all("--allow-downgrades" in r for r in installs)
    pins = make_lock("cpu").apt
    assert pins is not None and pins.packages
    assert all(any(f"{p.name}={p.version}" in r for r in installs) for p in pins.packages)


def test_vendored_emit_is_deterministic_and_the_plain_one_unchanged() -> None:
    lock, files = make_lock("cpu"), without_apt("cpu")
    a = emit(lock, files, builder="buildah", vendor=VENDOR)
    assert a == emit(lock, files, builder="buildah", vendor=VENDOR)
    plain = emit(lock, files, builder="buildah")
    assert CONTEXT not in plain["Dockerfile"].decode()
    assert set(a) == set(plain)


# -- the builder plan ---------------------------------------------------------------------


def test_a_vendored_build_pulls_left_out_images_then_runs_everything_offline() -> None:
    plan = Plan(platform="linux/amd64", source_date_epoch=7, tag="t:1", vendor=VENDOR)
    steps = [argv for _, argv in commands("buildah", plan)]
    pull, load, build = steps
    assert pull == ["buildah", "pull", "-q", VENDOR.pulled[0]]
    assert load[: len(OFFLINE)] == list(OFFLINE)
    assert load[len(OFFLINE) : len(OFFLINE) + len(LOAD)] == list(LOAD)
    assert load[-3:] == ["/srv/bundle/images", "1" * 64, "ubuntu:tritonlock-0123"]
    assert build[: len(OFFLINE)] == list(OFFLINE)
    assert f"{CONTEXT}=/srv/bundle" in build and "--network=none" in build
    assert "--pull=never" in build and build[-3:] == ["--tag", "t:1", "."]


def test_a_vendored_plan_is_for_buildah_only() -> None:
    plan = Plan(platform="linux/amd64", source_date_epoch=7, tag="t:1", vendor=VENDOR)
    with pytest.raises(ValueError, match="buildah"):
        commands("buildx", plan)


# -- the command --------------------------------------------------------------------------


def _bundle(tmp_path: Path, lock: Lock) -> tuple[Path, Path]:
    lock_path = tmp_path / "triton.lock"
    lockfile.write(lock, lock_path)
    out = tmp_path / "bundle"
    vendor(lock, lock_path.read_bytes(), out, FakeSources(), jobs=2)
    return lock_path, out


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--builder", "buildx"], "builds with buildah"),
        (["--network", "host"], "drop --network"),
        (["--secret", "id=pip-conf,env=X"], "drop --secret"),
    ],
)
def test_options_a_vendored_build_cannot_honour_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    lock_path, bundle = _bundle(tmp_path, small_lock())
    out = tmp_path / "out"
    args = ["build", str(lock_path), "--vendor", str(bundle), "-o", str(out), *extra]
    assert main([*args, "--recipe", str(RECIPES / "cpu")]) == 2
    assert said in capsys.readouterr().err and not out.exists()


def test_a_missing_bundle_folder_and_two_locks_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default -o ./build must not be someone else's folder
    lock_path = tmp_path / "triton.lock"
    lockfile.write(small_lock(), lock_path)
    assert main(["build", str(lock_path), "--vendor", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
    two = ["build", str(lock_path), str(lock_path), "--vendor", str(tmp_path)]
    assert main(two) == 2
    assert "builds one lock" in capsys.readouterr().err


def test_a_bundle_with_one_byte_changed_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = small_lock()
    lock_path, bundle = _bundle(tmp_path, lock)
    wheel = next((bundle / "wheels").iterdir())
    data = bytearray(wheel.read_bytes())
    data[0] ^= 1
    wheel.write_bytes(bytes(data))
    out = tmp_path / "out"
    args = ["build", str(lock_path), "--vendor", str(bundle), "-o", str(out), "--run"]
    assert main([*args, "--recipe", str(RECIPES / "cpu")]) == 1
    err = capsys.readouterr().err
    assert f"{wheel}: sha256 is" in err and "FAILED: nothing was written" in err
    assert "+ " not in err and not out.exists()


def test_a_bundle_of_another_lock_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = small_lock()
    _, bundle = _bundle(tmp_path, lock)
    other = lockfile.seal(replace(lock, url=()))
    other_path = tmp_path / "other.lock"
    lockfile.write(other, other_path)
    out = tmp_path / "out"
    args = ["build", str(other_path), "--vendor", str(bundle), "-o", str(out)]
    assert main([*args, "--recipe", str(RECIPES / "cpu")]) == 1
    assert f"not from {other.content_hash}" in capsys.readouterr().err and not out.exists()
