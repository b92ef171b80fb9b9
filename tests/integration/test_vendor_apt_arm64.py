"""The apt half of `vendor` for an arm64 lock (igpu, sbsa) on an x86_64 machine: apt runs in
a real arm64 Debian image (bookworm minbase, in a private buildah store) under qemu's binfmt
handler, against a dated archive on 127.0.0.1 that has each package for both arm64 and
amd64.

As in test_vendor_apt.py, the closure is computed as `tritonlock vendor` does it
(:func:`aptland.land` with :func:`aptrun.closure`, the image read from an OCI layout as
from a bundle, ``buildah from --platform`` of the pinned platform): apt lands the arm64
(and ``all``) packages, the manifest records their sha256 and `tritonlock vendor --check`
passes; then, with the archive stopped, the vendored build's apt RUN installs them under
emulation with ``buildah bud --network=none``.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.buildworld import arm64_rootfs
from tests.integration._aptvendor import apt_run, buildah, image_store, land
from tritonlock.emit import vendored
from tritonlock.util import binfmt
from tritonlock.vendor.manifest import Manifest

pytestmark = pytest.mark.integration

PLATFORM = "linux/arm64/v8"
# Each package for both architectures: apt in the arm64 image must take the arm64 ones.
ARCHIVE = {
    ("noble", "main"): [
        ("tool", "1.0-1", "arm64", ""),
        ("tool", "1.0-1", "amd64", ""),
        ("tool", "2.0-1", "arm64", ""),
        ("libtool-x", "1.0-1", "arm64", ""),
    ],
    ("noble-updates", "main"): [
        ("libtool-x", "2.0-1", "arm64", ""),
        ("libtool-x", "2.0-1", "amd64", ""),
        ("other", "1:3.0", "all", ""),
    ],
    ("noble-security", "main"): [],
}
DEPENDS = {"tool": "libtool-x (>= 1.0), dpkg"}  # dpkg: already in the image
PINS = ("tool=1.0-1", "other=1:3.0")
BASE = "localhost/tritonlock-apt-arm64"


@pytest.fixture(name="store")
def store_fixture(
    tmp_path: Path, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[dict[str, str], Path]]:
    """A private buildah store holding the arm64 Debian image, and the same image as an OCI
    layout named ``base``; removed at the end."""
    said = binfmt.problem(PLATFORM, machine=platform.machine(), binfmt=binfmt.read_handlers())
    assert said is None, f"{said} (.ci/run installs qemu-user-static and registers it)"
    rootfs = arm64_rootfs(pytestconfig.cache.mkdir("tritonlock-buildworld"))
    arch = ("--arch", "arm64", "--variant", "v8")
    with image_store(tmp_path, rootfs, BASE, arch, monkeypatch) as made:
        yield made


def test_an_arm64_closure_is_vendored_on_this_machine_and_installs_offline_under_emulation(
    tmp_path: Path, store: tuple[dict[str, str], Path]
) -> None:
    env, layout = store
    image = "nvcr.io/nvidia/tritonserver:25.04-py3-igpu-min"
    entries, ran, url = land(
        tmp_path, layout, ARCHIVE, DEPENDS, image=image, platform=PLATFORM, pins=PINS
    )
    out = tmp_path / "bundle"
    assert ran
    debs = {e.what: e for e in entries if e.path.endswith(".deb")}
    assert set(debs) == {"tool=1.0-1 (arm64)", "libtool-x=2.0-1 (arm64)", "other=1:3.0 (all)"}
    assert sorted(os.listdir(out / "apt")) == [
        "Packages", "apt.conf", "libtool-x_2.0-1_arm64.deb", "other_3.0_all.deb",
        "sources.list", "tool_1.0-1_arm64.deb",
    ]  # fmt: skip
    for e in debs.values():  # the manifest's sha256 is the file's, and it is the arm64 build
        assert e.sha256 == "sha256:" + hashlib.sha256((out / e.path).read_bytes()).hexdigest()
        arch = _dpkg_field(out / e.path, "Architecture")
        assert arch == ("all" if e.path.endswith("_all.deb") else "arm64")
    found = Manifest(content_hash="sha256:" + "1" * 64, release="25.04", target="igpu",
                     files=tuple(entries))  # fmt: skip
    (out / "manifest.json").write_text(found.dumps())
    checked = subprocess.run(
        [sys.executable, "-m", "tritonlock", "vendor", "--check", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith(f"OK {out}: sha256:{'1' * 64} (6 files, ")
    # the archive is stopped; the build's RUN reads the bundle only, apt and dpkg emulated
    query = (
        "dpkg-query -W -f '${Package}=${Version}:${Architecture}\\n' tool libtool-x other "
        "> /installed && uname -m >> /installed"
    )
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {BASE}\n{apt_run(url, PINS, query)}\n")
    buildah(
        env, "bud", "--network=none", "--pull=never", "--platform", PLATFORM, "--build-context",
        f"{vendored.CONTEXT}={out}", "-t", "localhost/tritonlock-apt-arm64-built",
        str(tmp_path / "ctx"),
    )  # fmt: skip
    c = buildah(env, "from", "localhost/tritonlock-apt-arm64-built").strip()
    installed = buildah(env, "run", c, "--", "cat", "/installed").split()
    assert sorted(installed) == [
        "aarch64", "libtool-x=2.0-1:arm64", "other=1:3.0:all", "tool=1.0-1:arm64",
    ]  # fmt: skip


def _dpkg_field(deb: Path, field: str) -> str:
    done = subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    return done.stdout.strip()
