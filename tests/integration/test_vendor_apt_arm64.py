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

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.fixtures.aptrepo import HttpServer, build_archive
from tests.fixtures.buildworld import arm64_rootfs, buildah_env, release_store
from tests.integration.test_vendor_apt import SNAPSHOT, _b, _suites, _unsigned
from tritonlock.emit import vendored
from tritonlock.emit.secrets import Use
from tritonlock.util import binfmt
from tritonlock.vendor import aptland, aptrun
from tritonlock.vendor.aptrepo import AptJob
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
    store = tmp_path / "buildah"
    env = buildah_env(store, "127.0.0.1:9")
    try:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        c = _b(env, "from", "scratch").strip()
        _b(env, "add", c, str(rootfs), "/")
        _b(env, "config", "--arch", "arm64", "--variant", "v8", "--os", "linux", c)
        _b(env, "commit", "-q", c, BASE)
        _b(env, "rm", c)
        layout = tmp_path / "images"
        _b(env, "push", "-q", BASE, f"oci:{layout}:base")
        yield env, layout
    finally:
        release_store(store, env)
        shutil.rmtree(tmp_path / "images", ignore_errors=True)


def test_an_arm64_closure_is_vendored_on_this_machine_and_installs_offline_under_emulation(
    tmp_path: Path, store: tuple[dict[str, str], Path]
) -> None:
    env, layout = store
    root = tmp_path / "http"
    build_archive(root / "ubuntu", SNAPSHOT, ARCHIVE, DEPENDS)
    _unsigned(root / "ubuntu" / SNAPSHOT / "dists")
    server = HttpServer(root, tmp_path / "http.log")
    try:
        url = f"{server.url}/ubuntu/{SNAPSHOT}/"
        job = AptJob(
            step="buildbase",
            role="base",
            image="nvcr.io/nvidia/tritonserver:25.04-py3-igpu-min",
            digest=json.loads((layout / "index.json").read_text())["manifests"][0]["digest"],
            platform=PLATFORM,
            sources=tuple(f"deb [trusted=yes] {url} {s} main" for s in _suites()),
            packages=PINS,
        )
        out = tmp_path / "bundle"
        closure = partial(aptrun.closure, tls_verify=True, timeout=900)
        journal: dict[str, str] = {}
        entries, _, ran = aptland.land(
            out,
            [job],
            lambda j, work: closure(j, aptrun.layout_view(layout, j.digest, work / "image"), work),
            journal=journal,
            record=journal.__setitem__,
            scratch=tmp_path / "scratch",
            progress=lambda _: None,
        )
    finally:
        server.stop()
    assert ran
    debs = {e.what: e for e in entries if e.path.endswith(".deb")}
    assert set(debs) == {"tool=1.0-1 (arm64)", "libtool-x=2.0-1 (arm64)", "other=1:3.0 (all)"}
    assert sorted(os.listdir(out / "apt")) == [
        "Packages", "apt.conf", "libtool-x_2.0-1_arm64.deb", "other_3.0_all.deb",
        "sources.list", "tool_1.0-1_arm64.deb",
    ]  # fmt: skip
    for e in debs.values():  # the manifest's sha256 is the file's, and it is the arm64 build
        assert e.sha256 == "sha256:" + _sha256(out / e.path)
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
    run = (
        f"RUN {' '.join(vendored.mounts(Use.APT))} {vendored.prologue(Use.APT)}; "
        f"echo 'deb {url} noble main' > /etc/apt/sources.list.d/gone.list && "
        f"apt-get update && apt-get install -y --allow-downgrades {' '.join(PINS)} && "
        "dpkg-query -W -f '${Package}=${Version}:${Architecture}\\n' tool libtool-x other "
        "> /installed && uname -m >> /installed"
    )
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {BASE}\n{run}\n")
    _b(
        env, "bud", "--network=none", "--pull=never", "--platform", PLATFORM, "--build-context",
        f"{vendored.CONTEXT}={out}", "-t", "localhost/tritonlock-apt-arm64-built",
        str(tmp_path / "ctx"),
    )  # fmt: skip
    c = _b(env, "from", "localhost/tritonlock-apt-arm64-built").strip()
    installed = _b(env, "run", c, "--", "cat", "/installed").split()
    assert sorted(installed) == [
        "aarch64", "libtool-x=2.0-1:arm64", "other=1:3.0:all", "tool=1.0-1:arm64",
    ]  # fmt: skip


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dpkg_field(deb: Path, field: str) -> str:
    done = subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    return done.stdout.strip()
