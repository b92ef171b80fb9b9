"""tools/standins.py's servers satisfy tritonlock's own resolvers: a stand-in apt archive,
download and image on 127.0.0.1 (a file server and Debian's docker-registry) are read through
the mirror options the tool prints, and what is pinned is what the stand-ins hold."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from tritonlock.resolve.images import ImageRequest, parse_registry_mirror, resolve_images
from tritonlock.sources.apt import AptRequest, AptSource, resolve_apt
from tritonlock.sources.urls import parse_url_mirror, resolve_urls_partial

ROOT = Path(__file__).parent.parent.parent
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import standin_servers as servers  # noqa: E402
import standins as S  # noqa: E402

pytestmark = pytest.mark.integration

BASE = "https://snapshot.example/ubuntu-ports/20250415T000000Z"
SUITES = ("noble", "noble-updates", "noble-security")
CUDA = "deb https://dl.example/cuda/repos/ubuntu2404/sbsa/ /"
KITWARE = "deb [signed-by=/k.gpg] https://apt.example/ubuntu/ $UBUNTU_CODENAME main"
REF = "nvcr.io/nvidia/tritonserver:25.04-py3-igpu-min"
KEY = "https://dl.example/keys/cuda-keyring_1.1-1_all.deb"
REQUESTS = (
    AptRequest(step="buildbase", packages=(("curl", None), ("cmake", "3.28.3*"))),
    AptRequest(
        step="final", packages=(("datacenter-gpu-manager", "1:3.3.6"),), repositories=(CUDA,)
    ),
    AptRequest(step="buildbase", packages=(("cmake-data", "3.28.3*"),), repositories=(KITWARE,)),
)


def _values(options: list[str], flag: str) -> list[str]:
    return S.option_values(options, flag)


def test_resolvers_read_the_stand_ins_through_the_printed_mirror_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = S.CellRecipe(images=(REF,), apt=REQUESTS, arch="arm64", apt_base=BASE, suites=SUITES)
    monkeypatch.setattr(S, "read_recipe", lambda _lock, _passed: recipe)
    lock = tmp_path / "cell.lock"
    lock.write_text("read_recipe is replaced: only its presence counts\n")
    entries = [("image", "base images"), ("url", KEY), ("apt", "apt packages")]
    with S.Standins(tmp_path / "standins", reachable=lambda _host: False) as standins:
        options = standins.prepare("25.04-igpu-python", lock, entries, [])
        assert options is not None
        assert standins.prepare("25.04-igpu-python", lock, entries, []) is None  # nothing new
        assert "image " + REF in standins.labels("25.04-igpu-python")
        url_mirrors = [parse_url_mirror(v) for v in _values(options, "--url-mirror")]
        assert "--allow-http" in options

        apt = resolve_apt(
            REQUESTS,
            arch="arm64",
            base=AptSource(url=BASE, suites=SUITES),
            snapshot="20250415T000000Z",
            mirrors=url_mirrors,
        )
        assert {(p.step, p.name, p.version) for p in apt.packages} == {
            ("buildbase", "curl", "0~standin"),
            ("buildbase", "cmake", "3.28.3-0~standin"),
            ("buildbase", "cmake-data", "3.28.3-0~standin"),
            ("final", "datacenter-gpu-manager", "1:3.3.6"),
        }

        pins, failures = resolve_urls_partial(
            [(KEY, "Dockerfile:72")], allow_http=True, mirrors=url_mirrors
        )
        assert not failures
        body = S.standin_bytes(KEY)
        assert pins[0].url == KEY and pins[0].sha256 == "sha256:" + hashlib.sha256(body).hexdigest()

        registry = _values(options, "--insecure-registry")
        images = resolve_images(
            [ImageRequest(role="base", ref=REF)],
            platform="linux/arm64/v8",
            mirrors=[parse_registry_mirror(v) for v in _values(options, "--registry-mirror")],
            insecure_registries=registry,
        )
    index, children = servers.image_blobs(REF)
    (pin,) = images.pins
    assert pin.ref == REF and pin.platform == "linux/arm64/v8"
    assert pin.index_digest == servers.digest(index)
    assert pin.digest == servers.digest(children["linux/arm64/v8"][0])


def test_a_cell_without_a_lock_or_without_unreachable_inputs_gets_no_stand_ins(
    tmp_path: Path,
) -> None:
    with S.Standins(tmp_path / "standins", reachable=lambda _host: False) as standins:
        assert standins.prepare("c", tmp_path / "missing.lock", [("url", KEY)], []) is None
        assert standins.prepare("c", tmp_path / "missing.lock", [("git", "grpc")], []) is None
        assert standins.labels("c") == ()
