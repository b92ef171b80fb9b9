"""resolve_wheels against public PyPI (marked ``network``): the real cases from the issue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tritonlock.errors import ResolveError
from tritonlock.resolve.wheels import IndexSpec, InstallStep, resolve_wheels

pytestmark = pytest.mark.network

PYPI = [IndexSpec(name="pypi", url="https://pypi.org/simple/")]
NUMPY_AARCH64 = "numpy-1.26.4-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"


def _resolve(req: str, machine: str, cache: Path) -> dict[str, object]:
    pins, _ = resolve_wheels(
        [InstallStep(name="final", image="base", requirements=(req,))],
        python_version="3.12",
        machine=machine,
        indexes=PYPI,
        cache_dir=cache,
    )
    return {p.name: p for p in pins}


def test_vllm_081_has_no_aarch64_wheel_and_the_error_says_what_exists(tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as err:
        _resolve("vllm==0.8.1", "aarch64", tmp_path)
    msg = str(err.value)
    assert "vllm-0.8.1-cp38-abi3-manylinux1_x86_64.whl" in msg
    assert "vllm-0.8.1.tar.gz" in msg and "--allow-sdist" in msg and "\n" not in msg


def test_numpy_1264_cp312_aarch64_is_the_one_file_with_its_hash(tmp_path: Path) -> None:
    pin = _resolve("numpy==1.26.4", "aarch64", tmp_path)["numpy"]
    files = pin.files  # type: ignore[attr-defined]
    assert [f.name for f in files] == [NUMPY_AARCH64]
    assert files[0].sha256 == (
        "sha256:9fad7dcb1aac3c7f0584a5a8133e3a43eeb2fe127f47e3632d43d677c66c102b"
    )
    assert files[0].size > 10_000_000
