"""`tritonlock build --network host`: the builder's own RUNs share the build machine's network
(a git/pip mirror on its loopback); the compile step stays offline for every builder."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.fixtures.emit_world import RECIPES, make_lock
from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.emit import bake, plan
from tritonlock.emit.buildplan import OFFLINE, Plan, commands

HOST = Plan(platform="linux/amd64", source_date_epoch=5, tag="t:1", network="host")
DEFAULT = Plan(platform="linux/amd64", source_date_epoch=5, tag="t:1")


def _pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, w in enumerate(argv) if w == flag]


def test_buildx_gets_network_host_once_and_only_when_asked() -> None:
    ((_, argv),) = commands("buildx", HOST)
    assert _pairs(argv, "--network") == ["host"]
    assert argv[-2:] == ["--load", "."] and argv[argv.index("--tag") + 1] == "t:1"
    ((_, plain),) = commands("buildx", DEFAULT)
    assert "--network" not in plain
    assert [w for w in argv if w not in ("--network", "host")] == plain


def test_buildah_compile_step_stays_offline_with_network_host() -> None:
    sources, compile_, final = (argv for _, argv in commands("buildah", HOST))
    assert _pairs(sources, "--network") == ["host"] and _pairs(final, "--network") == ["host"]
    assert compile_[: len(OFFLINE)] == list(OFFLINE)
    assert "--network=none" in compile_ and "host" not in compile_
    default = [argv for _, argv in commands("buildah", DEFAULT)]
    assert not any("host" in argv for argv in default)
    assert default[1] == compile_


def _bake(network: str, n: int) -> str:
    p = plan(make_lock("cpu"), (), "host" if network == "host" else "default")
    entries = [bake.Entry(name=f"t{i}", context=f"c{i}", plan=p) for i in range(n)]
    return bake.render(entries).decode()


@pytest.mark.parametrize("n", [1, 2])
def test_bake_target_has_network_host_only_when_asked(n: int) -> None:
    host = _bake("host", n)
    assert host.count('\n  network = "host"\n') == 1
    # buildx < 0.17 ignores `network` in HCL: the header says so and how to build
    assert "docker buildx bake --allow network.host" in host and "buildx >= 0.17" in host
    assert "network" not in _bake("default", n)


def test_a_matrix_bake_file_does_not_claim_one_policy_for_all_targets() -> None:
    """Each lock's folder has its own source policy; bake takes one for every target."""
    single, matrix = _bake("default", 1), _bake("default", 2)
    assert "EXPERIMENTAL_BUILDKIT_SOURCE_POLICY=source-policy.json docker buildx bake" in single
    assert "EXPERIMENTAL_BUILDKIT_SOURCE_POLICY" not in matrix
    assert "build each folder with its" in matrix and "without it" in matrix


def _build(tmp: Path, *extra: str) -> tuple[list[str], str]:
    lock = tmp / "triton.lock"
    lockfile.write(make_lock("cpu"), lock)
    out = tmp / "out"
    args = ["build", "--lock", str(lock), "--recipe", str(RECIPES / "cpu"), "-o", str(out)]
    assert main([*args, *extra]) == 0
    last = (out / "build.sh").read_text().splitlines()[-1]
    return shlex.split(last), (out / "docker-bake.hcl").read_text()


def test_build_network_host_reaches_build_sh_and_bake_file(tmp_path: Path) -> None:
    words, hcl = _build(tmp_path / "a", "--network", "host")
    assert words[2:5] == ["docker", "buildx", "build"] and _pairs(words, "--network") == ["host"]
    assert 'network = "host"' in hcl
    words, hcl = _build(tmp_path / "b")
    assert "--network" not in words and "network" not in hcl


def test_build_network_rejects_other_modes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--network", "bridge"]) == 2
    err = capsys.readouterr().err
    assert "--network" in err and "see `tritonlock build --help`" in err


def test_build_help_says_when_to_use_network_host(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--network {default,host}" in text
    assert "loopback" in text and "compile step stays offline" in text
