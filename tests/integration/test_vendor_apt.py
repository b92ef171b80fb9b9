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

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.buildworld import base_rootfs
from tests.integration._aptvendor import apt_run, buildah, image_store, land
from tritonlock.emit import vendored
from tritonlock.util.store import Store
from tritonlock.vendor import manifest
from tritonlock.vendor.manifest import Manifest

pytestmark = pytest.mark.integration

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


@pytest.fixture(name="store")
def store_fixture(
    tmp_path: Path, pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[dict[str, str], Path]]:
    """A private buildah store holding the Debian base image, and the same image as an OCI
    layout named ``base`` (as a bundle holds it); removed at the end."""
    rootfs = base_rootfs(pytestconfig.cache.mkdir("tritonlock-buildworld"))
    with image_store(tmp_path, rootfs, BASE, ("--arch", "amd64"), monkeypatch) as made:
        yield made


def test_apt_vendors_the_closure_and_a_build_installs_it_with_no_network(
    tmp_path: Path, store: tuple[dict[str, str], Path]
) -> None:
    env, layout = store
    image = "nvcr.io/nvidia/tritonserver:25.04-py3-min"
    cache = Store(tmp_path / "cache")
    entries, ran, url = land(
        tmp_path, layout, ARCHIVE, DEPENDS, image=image, platform="linux/amd64", pins=PINS,
        timeout=600, store=cache, again=tmp_path / "again",
    )  # fmt: skip
    out = tmp_path / "bundle"
    assert ran
    debs = {e.what for e in entries if e.path.endswith(".deb")}
    assert debs == {"tool=1.0-1 (amd64)", "libtool-x=2.0-1 (amd64)", "other=1:3.0 (all)"}
    assert "other_3.0_all.deb" in os.listdir(out / "apt")
    # the packages went into the shared cache, and a second bundle's apt took them from
    # there: it asked the archive for its indexes, not for one package
    landed = [e for e in entries if e.path.endswith(".deb")]
    assert all(cache.get("deb", e.sha256) is not None for e in landed)
    first, second = (tmp_path / "http.log").read_text().split("-- again\n")
    assert first.count(".deb HTTP") == 3
    assert "Release HTTP" in second and ".deb HTTP" not in second
    assert sorted(os.listdir(tmp_path / "again" / "apt")) == sorted(os.listdir(out / "apt"))
    found = Manifest(content_hash="sha256:" + "1" * 64, release="25.04", target="x86_64",
                     files=tuple(entries))  # fmt: skip
    assert manifest.check(out, found) == []
    assert not (tmp_path / "scratch" / "apt-0").exists()
    # the archive is stopped; the build's RUN reads the bundle only
    query = "dpkg-query -W -f '${Package}=${Version}\\n' tool libtool-x other > /installed"
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {BASE}\n{apt_run(url, PINS, query)}\n")
    buildah(
        env, "bud", "--network=none", "--pull=never", "--build-context",
        f"{vendored.CONTEXT}={out}", "-t", "localhost/tritonlock-apt-built", str(tmp_path / "ctx"),
    )  # fmt: skip
    c = buildah(env, "from", "localhost/tritonlock-apt-built").strip()
    installed = buildah(env, "run", c, "--", "cat", "/installed").split()
    assert sorted(installed) == ["libtool-x=2.0-1", "other=1:3.0", "tool=1.0-1"]
    # one changed byte in a package is found before any build
    deb = out / "apt" / "tool_1.0-1_amd64.deb"
    data = deb.read_bytes()
    deb.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    (problem,) = manifest.check(out, found)
    assert "tool_1.0-1_amd64.deb: sha256 is" in problem
