"""End-to-end: ``tritonlock resolve`` then ``tritonlock build --run --builder buildx --network
host`` against the world on 127.0.0.1 (registry, git daemon, PyPI), building for real with
``docker buildx`` 0.13 on a private dockerd 26.1 (BuildKit v0.13, docker driver, overlay2 or
vfs). The daemon has no bridge, so the build uses the host network; the compile RUNs ask for
none.
Results are checked in the built image: its files, its git checkouts, its labels and every
byte of its layers, config and history (``docker save``, ``docker history``, ``inspect``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fixtures.buildworld import BuildWorld
from tests.integration._image import (
    TOKENS,
    Built,
    assert_archive_free_of,
    assert_built_from_the_lock,
    resolve_and_build,
)
from tritonlock.emit.dockerfile import Translator
from tritonlock.model import Sha256, UrlPin

pytestmark = pytest.mark.integration

TAG = "tritonlock/tritonserver:25.04-cpu"


@pytest.fixture(scope="module", name="built")
def built_fixture(
    build_world: BuildWorld, buildx_docker: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    base = tmp_path_factory.mktemp("buildx-e2e")
    env = {**buildx_docker, "BUILDKIT_PROGRESS": "plain"}
    builder = ("--builder", "buildx", "--network", "host")
    built = resolve_and_build(build_world, base, *builder, env=env)
    built = dataclasses.replace(built, env=buildx_docker)
    built.docker("save", "--output", str(built.archive), TAG)
    container = built.docker("create", TAG, "/bin/true").strip()
    try:
        built.docker("export", "--output", str(base / "rootfs.tar"), container)
    finally:
        built.docker("rm", container)
    built.rootfs.mkdir()
    subprocess.run(["tar", "-xf", str(base / "rootfs.tar"), "-C", str(built.rootfs)], check=True)
    yield built


def test_build_sh_holds_exactly_what_ran(built: Built) -> None:
    *_, last = (built.out / "build.sh").read_text().splitlines()
    words = shlex.split(last)
    assert words[:2] == ["EXPERIMENTAL_BUILDKIT_SOURCE_POLICY=source-policy.json", "exec"]
    ran = [shlex.split(line[2:]) for line in built.build.stderr.splitlines() if line[:2] == "+ "]
    assert ran == [words[2:]]
    assert words[2:5] == ["docker", "buildx", "build"]
    assert words[words.index("--network") + 1] == "host"


def test_image_is_built_from_the_lock(built: Built) -> None:
    """Compile offline on the pinned sources, pinned wheels, every checkout at its pin."""
    assert_built_from_the_lock(built.rootfs, built.lock)


def test_image_carries_the_locks_labels_and_time(built: Built) -> None:
    image = json.loads(built.docker("inspect", TAG))[0]
    created = datetime.fromtimestamp(built.lock_epoch(), tz=UTC)
    assert datetime.fromisoformat(image["Created"]) == created  # SOURCE_DATE_EPOCH
    labels = image["Config"]["Labels"]
    assert labels["io.tritonlock.content-hash"] == built.lock.content_hash
    assert labels["io.tritonlock.release"] == "25.04"
    assert labels["io.tritonlock.target"] == "cpu"
    server = next(p for p in built.lock.git if p.name == "server")
    assert labels["org.opencontainers.image.revision"] == server.commit


def test_no_secret_in_any_layer_config_or_history(built: Built) -> None:
    assert_archive_free_of(built.archive)
    history = built.docker("history", "--no-trunc", TAG)
    inspect = built.docker("inspect", TAG)
    output = built.build.stdout + built.build.stderr
    for text in (history, inspect, output):
        assert not any(t.decode() in text for t in TOKENS)
    assert "--require-hashes" in history


def test_bake_file_is_read_by_buildx_as_build_sh_builds(built: Built) -> None:
    """``bake --print`` gives build.sh's options. buildx 0.13 drops a target's ``network``
    (HCL support came in 0.17), so the bake file is not built here; its header says so."""
    words = shlex.split((built.out / "build.sh").read_text().splitlines()[-1])
    printed = json.loads(built.docker("buildx", "bake", "--print", cwd=built.out))
    (target,) = printed["target"].values()
    assert target["tags"] == _pairs(words, "--tag") == [TAG]
    assert target["platforms"] == _pairs(words, "--platform")
    assert target["secret"] == _pairs(words, "--secret")
    build_args = dict(a.split("=", 1) for a in _pairs(words, "--build-arg"))
    assert target["args"] == build_args == {"SOURCE_DATE_EPOCH": str(built.lock_epoch())}
    assert "buildx >= 0.17" in (built.out / "docker-bake.hcl").read_text()


def _pairs(words: list[str], flag: str) -> list[str]:
    return [words[i + 1] for i, w in enumerate(words) if w == flag]


def _download(built: Built, world: BuildWorld, ctx: Path, sha256: Sha256) -> tuple[int, str, str]:
    """The emitter's translation of ``wget URL`` (``ADD --checksum`` + ``cp``), built for real;
    the URL is a wheel on the world's index. Returns (exit status, build output, file name)."""
    wheel = next(w for w in built.lock.wheel if w.name == "attrs").files[0]
    url = world.pypi_url.removesuffix("simple/") + f"packages/{wheel.name}"
    lock = dataclasses.replace(built.lock, url=(UrlPin(url=url, sha256=sha256, size=wheel.size),))
    recipe = f"FROM {world.base_ref}\nRUN wget -q -O /opt/{wheel.name} {url}\n"
    body = Translator(lock, "Dockerfile", "final", allow_git=True).run(recipe).body
    assert any(line.startswith(f"ADD --checksum={sha256} ") for line in body)
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("\n".join(body) + "\n")
    proc = subprocess.run(
        ["docker", "buildx", "build", "--network", "host", "--progress", "plain",
         "--tag", "tritonlock-test/download:1", "--load", str(ctx)],
        env={**os.environ, **built.env}, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    return proc.returncode, proc.stderr, wheel.name


def test_add_checksum_downloads_are_checked_by_buildkit(
    built: Built, build_world: BuildWorld, tmp_path: Path
) -> None:
    wheel = next(w for w in built.lock.wheel if w.name == "attrs").files[0]
    code, log, name = _download(built, build_world, tmp_path / "good", wheel.sha256)
    assert code == 0, log[-3000:]
    container = built.docker("create", "tritonlock-test/download:1", "/bin/true").strip()
    try:
        copied = tmp_path / name
        built.docker("cp", f"{container}:/opt/{name}", str(copied))
    finally:
        built.docker("rm", container)
    assert "sha256:" + hashlib.sha256(copied.read_bytes()).hexdigest() == wheel.sha256
    hexdigits = wheel.sha256.removeprefix("sha256:")
    wrong = Sha256("sha256:" + ("0" if hexdigits[0] != "0" else "1") + hexdigits[1:])
    code, log, _ = _download(built, build_world, tmp_path / "bad", wrong)
    assert code != 0
    assert f"digest mismatch {wheel.sha256}: {wrong}" in log, log[-3000:]


def test_source_policy_is_applied_by_the_docker_driver(
    built: Built, build_world: BuildWorld, tmp_path: Path
) -> None:
    """The emitted image rule, with its pin swapped for a digest no registry has, must make a
    build ``FROM`` the tag fail on that digest: buildx sends the file and BuildKit's selector
    is spelled as the emitter spells it."""
    decoy = "sha256:" + "0" * 64
    rules = json.loads((built.out / "source-policy.json").read_text())["rules"]
    images = {r["selector"]["identifier"]: r for r in rules}
    (base,) = [im for im in built.lock.image if im.role == "base"]
    rule = images[f"docker-image://{build_world.base_ref}"]
    pinned = rule["updates"]["identifier"]
    assert pinned == f"docker-image://{build_world.base_ref}@{base.digest}"
    rule["updates"]["identifier"] = pinned.rsplit("@", 1)[0] + "@" + decoy
    (tmp_path / "policy.json").write_text(json.dumps({"rules": [rule]}))
    (tmp_path / "Dockerfile").write_text(f"FROM {build_world.base_ref}\nLABEL x=1\n")
    argv = ["docker", "buildx", "build", "--progress", "plain", str(tmp_path)]
    env = {**os.environ, **built.env, "EXPERIMENTAL_BUILDKIT_SOURCE_POLICY": "policy.json"}
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert decoy in proc.stderr, proc.stderr[-3000:]


def test_provenance_subject_is_the_image_docker_holds(built: Built) -> None:
    """After --run the statement names the image ID docker reports for the tag."""
    image_id = built.docker("image", "inspect", "--format", "{{.Id}}", TAG).strip()
    doc = json.loads((built.out / "provenance.intoto.json").read_text())
    (subject,) = doc["subject"]
    assert (subject["name"], subject["digest"]) == (
        TAG,
        {"sha256": image_id.removeprefix("sha256:")},
    )
    assert f"built {TAG} ({image_id}) with buildx" in built.build.stdout
