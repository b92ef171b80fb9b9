"""What the apt vendoring tests share: a private buildah store holding a Debian rootfs as an
image (and as an OCI layout named ``base``, as a bundle holds it), a dated archive on
127.0.0.1 whose Release apt reads, the closure landed as `tritonlock vendor` lands it
(:func:`aptland.land` with :func:`aptrun.closure`), and the vendored build's apt RUN."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import pytest

from tests.fixtures.aptrepo import HttpServer, build_archive
from tests.fixtures.buildworld import buildah_env, release_store
from tritonlock.emit import vendored
from tritonlock.emit.secrets import Use
from tritonlock.util.store import Store
from tritonlock.vendor import aptland, aptrun
from tritonlock.vendor.aptrepo import AptJob
from tritonlock.vendor.manifest import Entry

SNAPSHOT = "20250415T000000Z"
SUITES = ("noble", "noble-updates", "noble-security")
Archive = dict[tuple[str, str], list[tuple[str, str, str, str]]]


def buildah(env: dict[str, str], *args: str, timeout: float = 900) -> str:
    done = subprocess.run(
        ["buildah", *args], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"buildah {args[0]}: {done.stderr[-2000:]}"
    return done.stdout


@contextlib.contextmanager
def image_store(
    tmp_path: Path, rootfs: Path, name: str, arch: Sequence[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[dict[str, str], Path]]:
    """A private buildah store holding ``rootfs`` as the image ``name`` (``arch``: buildah
    config's options, e.g. ``--arch arm64 --variant v8``), and that image as an OCI layout
    named ``base``; removed at the end."""
    store = tmp_path / "buildah"
    env = buildah_env(store, "127.0.0.1:9")
    try:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        c = buildah(env, "from", "scratch").strip()
        buildah(env, "add", c, str(rootfs), "/")
        buildah(env, "config", *arch, "--os", "linux", c)
        buildah(env, "commit", "-q", c, name)
        buildah(env, "rm", c)
        layout = tmp_path / "images"
        buildah(env, "push", "-q", name, f"oci:{layout}:base")
        yield env, layout
    finally:
        release_store(store, env)
        shutil.rmtree(tmp_path / "images", ignore_errors=True)


def land(
    tmp_path: Path,
    layout: Path,
    archive: Archive,
    depends: dict[str, str],
    *,
    image: str,
    platform: str,
    pins: Sequence[str],
    timeout: float = 900,
    store: Store | None = None,
    again: Path | None = None,
) -> tuple[list[Entry], bool, str]:
    """The closure of ``pins`` landed in ``tmp_path/bundle`` by apt in the layout's image,
    against ``archive`` served on 127.0.0.1 (requests logged in ``tmp_path/http.log``) and
    stopped afterwards: the manifest entries, whether apt ran, and the archive's (now dead)
    URL. ``store``: the shared cache, as `vendor` passes it; ``again``: a second bundle
    folder landed the same way after the first (the log's lines then marked by a line
    ``-- again``)."""
    root = tmp_path / "http"
    build_archive(root / "ubuntu", SNAPSHOT, archive, depends)
    _unsigned(root / "ubuntu" / SNAPSHOT / "dists")
    server = HttpServer(root, tmp_path / "http.log")
    try:
        url = f"{server.url}/ubuntu/{SNAPSHOT}/"
        job = AptJob(
            step="buildbase",
            role="base",
            image=image,
            digest=json.loads((layout / "index.json").read_text())["manifests"][0]["digest"],
            platform=platform,
            sources=tuple(f"deb [trusted=yes] {url} {s} main" for s in SUITES),
            packages=tuple(pins),
        )
        closure = partial(aptrun.closure, tls_verify=True, timeout=timeout)

        def once(out: Path) -> tuple[list[Entry], bool]:
            journal: dict[str, str] = {}
            entries, _, ran = aptland.land(
                out,
                [job],
                lambda j, w: closure(j, aptrun.layout_view(layout, j.digest, w / "image"), w),
                journal=journal,
                record=journal.__setitem__,
                scratch=tmp_path / "scratch",
                progress=lambda _: None,
                store=store,
            )
            return entries, ran

        entries, ran = once(tmp_path / "bundle")
        if again is not None:
            server.mark("-- again")
            once(again)
    finally:
        server.stop()
    return entries, ran, url


def apt_run(url: str, pins: Sequence[str], query: str) -> str:
    """The vendored build's RUN: the bundle's apt folder mounted, a source the recipe adds
    (``url``, stopped) in the way, the pins installed, then ``query`` (a shell command)."""
    return (
        f"RUN {' '.join(vendored.mounts(Use.APT))} {vendored.prologue(Use.APT)}; "
        f"echo 'deb {url} noble main' > /etc/apt/sources.list.d/gone.list && "
        f"apt-get update && apt-get install -y --allow-downgrades {' '.join(pins)} && {query}"
    )


def _unsigned(dists: Path) -> None:
    """The fixture's InRelease carries a made-up signature, which apt (unlike tritonlock's
    reader) refuses as malformed even with ``trusted=yes``: give apt its plain Release."""
    for inrelease in dists.glob("*/InRelease"):
        body = inrelease.read_text().split("\n\n", 1)[1]
        body = body.split("-----BEGIN PGP SIGNATURE-----", 1)[0]
        (inrelease.parent / "Release").write_text(body.replace("\n- -", "\n-"))
        inrelease.unlink()
