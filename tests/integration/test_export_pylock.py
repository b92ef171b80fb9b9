"""`tritonlock export pylock` against a real pypiserver on 127.0.0.1: the written
``pylock.toml`` loads with ``packaging.pylock`` and installs with uv and with pip (both read
PEP 751 files), with every other host behind a proxy that does not exist; a file whose bytes
are not the pinned ones is refused by both."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from tests.fixtures.pypi import PyPI, build_wheel, serve_pypi
from tritonlock import lockfile
from tritonlock.model import Inputs, Lock, Release
from tritonlock.resolve.wheels import IndexSpec, InstallStep, resolve_wheels
from tritonlock.util.programs import uv_binary

pytestmark = pytest.mark.integration
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
DEAD_PROXY = "http://127.0.0.1:9"  # discard: nothing listens, so no host but 127.0.0.1 answers


def offline_env() -> dict[str, str]:
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "UV_NO_CONFIG": "1"}
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env[key] = DEAD_PROXY
    return env | {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}


def host_lock(index_url: str, cache: Path, *requirements: str) -> Lock:
    """A lock whose step ``s0`` is resolved for this machine's CPython on x86_64, so that it
    installs here."""
    pins, idx = resolve_wheels(
        [InstallStep(name="s0", image="base", requirements=requirements)],
        python_version=HOST_PYTHON,
        machine="x86_64",
        indexes=[IndexSpec(name="local", url=index_url)],
        allow_sdist=False,
        cache_dir=cache,
        jobs=2,
    )
    return lockfile.seal(
        Lock(
            inputs=Inputs(release="25.04", target="x86_64"),
            release=Release(facts=(("python", f"{HOST_PYTHON}.1"),)),
            wheel=tuple(pins),
            index=idx,
        )
    )


def export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tritonlock", "export", "pylock", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def install(tool: str, pylock: Path, target: Path) -> subprocess.CompletedProcess[str]:
    argv = (
        [uv_binary(), "pip", "install", "--no-cache", "--python", sys.executable]
        if tool == "uv"
        else [sys.executable, "-m", "pip", "install", "--no-cache-dir"]
    )
    argv += ["--target", str(target), "-r", str(pylock)]
    return subprocess.run(
        argv, env=offline_env(), capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_the_exported_step_installs_from_the_local_index_only(
    pypi: PyPI, tmp_path: Path, tool: str
) -> None:
    lock = host_lock(pypi.url, tmp_path / "cache", "attrs", "six", "idna")
    path = tmp_path / "triton.lock"
    lockfile.write(lock, path)
    out = tmp_path / "pylock.toml"
    done = export("--step", "s0", str(path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    doc = Pylock.from_dict(tomllib.loads(out.read_text()))
    assert {p.name for p in doc.packages} == {"attrs", "six", "idna"}
    for pkg in doc.packages:
        assert pkg.wheels is not None
        for wheel in pkg.wheels:
            assert wheel.url is not None and wheel.url.startswith(pypi.url.removesuffix("simple/"))
            assert "sha256:" + wheel.hashes["sha256"] == pypi.sha256(wheel.filename)
            assert wheel.size == pypi.size(wheel.filename)
    done = install(tool, out, tmp_path / "t")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t" / "six.py").is_file() and (tmp_path / "t" / "attrs").is_dir()
    six = next(p for p in doc.packages if p.name == "six")
    assert six.wheels is not None
    bad = out.read_text().replace(six.wheels[0].hashes["sha256"], "0" * 64)
    out.write_text(bad)
    done = install(tool, out, tmp_path / "t2")
    assert done.returncode != 0 and "hash" in (done.stdout + done.stderr).lower()
    assert not (tmp_path / "t2" / "six.py").exists()


def test_an_index_that_now_serves_other_bytes_is_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    build_wheel(first, "alpha", "1.0", "py3-none-any", [])
    build_wheel(second, "alpha", "1.0", "py3-none-any", [], code=b"changed = True\n")
    with serve_pypi(first) as url:
        lock = host_lock(url, tmp_path / "cache", "alpha")
    path = tmp_path / "triton.lock"
    lockfile.write(lock, path)
    with serve_pypi(second) as url:
        done = export("--step", "s0", str(path), "--index-url", f"local={url}")
        assert done.returncode == 1
        assert "alpha-1.0-py3-none-any.whl" in done.stderr and "verify --deep" in done.stderr
        assert done.stderr.count("\n") == 1
        shutil.rmtree(second)
        second.mkdir()
        done = export("--step", "s0", str(path), "--index-url", f"local={url}")
        assert done.returncode == 1 and "no longer lists" in done.stderr
    nameless = lockfile.seal(Lock(inputs=lock.inputs, release=lock.release, wheel=lock.wheel))
    lockfile.write(nameless, path)
    done = export("--step", "s0", str(path))
    assert done.returncode == 2 and "--index-url local=URL" in done.stderr
