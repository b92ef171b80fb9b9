"""Apt packages vendored by apt itself, then installed with no network: a real apt in a
real image (the build world's Debian minbase rootfs, in a private buildah store) against a
dated archive on 127.0.0.1.

`vendor`'s apt half runs as `tritonlock vendor` runs it (:func:`aptland.land` with
:func:`aptrun.closure`, the image read from an OCI layout's blobs as from a bundle): apt
downloads the pinned package and the dependency apt picks for it, not what the image
already has. Then the archive is stopped and the emitted RUN of a vendored build (its
mount and ``APT_CONFIG``) installs the pins with buildah and ``--network=none``, ignoring
a source the recipe adds; a changed ``.deb`` is caught by the manifest check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.fixtures.aptrepo import HttpServer, build_archive
from tests.fixtures.buildworld import base_rootfs, buildah_env, release_store
from tritonlock.emit import vendored
from tritonlock.emit.secrets import Use
from tritonlock.vendor import aptland, aptrun, manifest
from tritonlock.vendor.aptrepo import AptJob
from tritonlock.vendor.manifest import Manifest

pytestmark = pytest.mark.integration

SNAPSHOT = "20250415T000000Z"
# tool 1.0-1 is pinned; it needs libtool-x, which apt takes at its candidate (2.0-1).
ARCHIVE = {
    ("noble", "main"): [
        ("tool", "1.0-1", "amd64", ""),
        ("tool", "2.0-1", "amd64", ""),
        ("libtool-x", "1.0-1", "amd64", ""),
    ],
    ("noble-updates", "main"): [("libtool-x", "2.0-1", "amd64", ""), ("other", "1:3.0", "all", "")],
    # gz-only in the fixture, which apt does not read: Ubuntu's Release lists the plain index
    ("noble-security", "main"): [],
}
DEPENDS = {"tool": "libtool-x (>= 1.0), dpkg"}  # dpkg: already in the image
PINS = ("tool=1.0-1", "other=1:3.0")
BASE = "localhost/tritonlock-apt-base"


def _b(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    done = subprocess.run(
        ["buildah", *args], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"buildah {args[0]}: {done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(name="store")
def store_fixture(
    tmp_path: Path, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[dict[str, str], Path]]:
    """A private buildah store holding the Debian base image, and the same image as an OCI
    layout named ``base`` (as a bundle holds it); removed at the end."""
    rootfs = base_rootfs(pytestconfig.cache.mkdir("tritonlock-buildworld"))
    store = tmp_path / "buildah"
    env = buildah_env(store, "127.0.0.1:9")
    try:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        c = _b(env, "from", "scratch").strip()
        _b(env, "add", c, str(rootfs), "/")
        _b(env, "config", "--arch", "amd64", "--os", "linux", c)
        _b(env, "commit", "-q", c, BASE)
        _b(env, "rm", c)
        layout = tmp_path / "images"
        _b(env, "push", "-q", BASE, f"oci:{layout}:base")
        yield env, layout
    finally:
        release_store(store, env)
        shutil.rmtree(tmp_path / "images", ignore_errors=True)


def test_apt_vendors_the_closure_and_a_build_installs_it_with_no_network(
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
            image="nvcr.io/nvidia/tritonserver:25.04-py3-min",
            digest=json.loads((layout / "index.json").read_text())["manifests"][0]["digest"],
            platform="linux/amd64",
            sources=tuple(f"deb [trusted=yes] {url} {s} main" for s in _suites()),
            packages=PINS,
        )
        out = tmp_path / "bundle"
        closure = partial(aptrun.closure, tls_verify=True, timeout=600)
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
    debs = {e.what for e in entries if e.path.endswith(".deb")}
    assert debs == {"tool=1.0-1 (amd64)", "libtool-x=2.0-1 (amd64)", "other=1:3.0 (all)"}
    assert "other_3.0_all.deb" in os.listdir(out / "apt")
    found = Manifest(content_hash="sha256:" + "1" * 64, release="25.04", target="x86_64",
                     files=tuple(entries))  # fmt: skip
    assert manifest.check(out, found) == []
    assert not (tmp_path / "scratch" / "apt-0").exists()
    # the archive is stopped; the build's RUN reads the bundle only
    run = (
        f"RUN {' '.join(vendored.mounts(Use.APT))} {vendored.prologue(Use.APT)}; "
        f"echo 'deb {url} noble main' > /etc/apt/sources.list.d/gone.list && "
        f"apt-get update && apt-get install -y --allow-downgrades {' '.join(PINS)} && "
        "dpkg-query -W -f '${Package}=${Version}\\n' tool libtool-x other > /installed"
    )
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {BASE}\n{run}\n")
    _b(
        env, "bud", "--network=none", "--pull=never", "--build-context",
        f"{vendored.CONTEXT}={out}", "-t", "localhost/tritonlock-apt-built", str(tmp_path / "ctx"),
    )  # fmt: skip
    c = _b(env, "from", "localhost/tritonlock-apt-built").strip()
    installed = _b(env, "run", c, "--", "cat", "/installed").split()
    assert sorted(installed) == ["libtool-x=2.0-1", "other=1:3.0", "tool=1.0-1"]
    # one changed byte in a package is found before any build
    deb = out / "apt" / "tool_1.0-1_amd64.deb"
    data = deb.read_bytes()
    deb.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    (problem,) = manifest.check(out, found)
    assert "tool_1.0-1_amd64.deb: sha256 is" in problem


def _unsigned(dists: Path) -> None:
    """The fixture's InRelease carries a made-up signature, which apt (unlike tritonlock's
    reader) refuses as malformed even with ``trusted=yes``: give apt its plain Release."""
    for inrelease in dists.glob("*/InRelease"):
        body = inrelease.read_text().split("\n\n", 1)[1]
        body = body.split("-----BEGIN PGP SIGNATURE-----", 1)[0]
        (inrelease.parent / "Release").write_text(body.replace("\n- -", "\n-"))
        inrelease.unlink()


def _suites() -> tuple[str, ...]:
    return ("noble", "noble-updates", "noble-security")
