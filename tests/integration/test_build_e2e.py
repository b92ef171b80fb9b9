"""End-to-end: ``tritonlock resolve`` then ``tritonlock build --run --builder buildah`` against
a world on 127.0.0.1 (registry, git daemon, PyPI), building for real with buildah 1.28 (vfs
storage, chroot isolation). Results are checked in the built image itself: its files, its
git checkouts, and every byte of its layers, config and history.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from tests.fixtures.buildworld import (
    GIT_TOKEN,
    PIP_TOKEN,
    BuildWorld,
)
from tests.integration._image import (
    Built,
    assert_archive_free_of,
    assert_built_from_the_lock,
    cli,
    resolve_and_build,
)

pytestmark = pytest.mark.integration

TAG = "tritonlock/tritonserver:25.04-cpu"


@pytest.fixture(scope="module", name="built")
def built_fixture(
    build_world: BuildWorld, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    base = tmp_path_factory.mktemp("build-e2e")
    built = resolve_and_build(build_world, base, "--builder", "buildah", env=build_world.env)
    build_world.buildah("push", TAG, f"oci-archive:{built.archive}")
    container = build_world.buildah("from", "--pull-never", TAG).strip()
    try:
        rootfs = Path(build_world.buildah("mount", container).strip())
        yield dataclasses.replace(built, rootfs=rootfs)
    finally:
        build_world.buildah("rm", container)


def test_resolved_lock_names_steps_as_the_planner(built: Built) -> None:
    steps = {w.step for w in built.lock.wheel}
    compiled = {"compile-core-wheel", "cmake_build-requirements-compile"}
    assert steps == {"buildbase-pinnedpkg", "final-attrs"} | compiled
    reqs = sorted(p.name for p in (built.out / "requirements").iterdir())
    assert reqs == sorted(f"{s}.txt" for s in steps)
    dockerfile = (built.out / "Dockerfile").read_text()
    assert "/tritonlock/requirements/final-attrs.txt" in dockerfile
    assert "--require-hashes" in dockerfile


def test_image_is_built_from_the_lock(built: Built) -> None:
    """Compile offline on the pinned sources, pinned wheels, every checkout at its pin."""
    assert_built_from_the_lock(built.rootfs, built.lock)


def test_no_secret_in_any_layer_config_or_history(built: Built, build_world: BuildWorld) -> None:
    tokens = [GIT_TOKEN.encode(), PIP_TOKEN.encode()]
    assert_archive_free_of(built.archive, tokens)
    inspect = build_world.buildah("inspect", TAG)
    assert not any(t.decode() in inspect for t in tokens)
    assert not any(t.decode() in built.build.stdout + built.build.stderr for t in tokens)


def test_a_lock_changed_by_one_byte_is_refused_before_any_build(
    built: Built, build_world: BuildWorld, tmp_path: Path
) -> None:
    text = built.lock_path.read_text()
    core = next(p for p in built.lock.git if p.name == "core").commit
    flipped = core[:-1] + ("0" if core[-1] != "0" else "1")
    bad = tmp_path / "triton.lock"
    bad.write_text(text.replace(core, flipped, 1))
    assert len(bad.read_bytes()) == len(text.encode())
    before = sorted(build_world.images())
    out = tmp_path / "out"
    args = [a if a != str(built.lock_path) else str(bad) for a in built.args]
    args[args.index(str(built.out))] = str(out)
    done = cli(*args, cwd=tmp_path, env=build_world.env)
    assert done.returncode == 1, done.stderr
    assert "content-hash" in done.stderr or "hash" in done.stderr
    assert "+ buildah" not in done.stderr
    assert not out.exists()
    assert sorted(build_world.images()) == before


def test_provenance_names_the_built_image_and_every_pin(
    built: Built, build_world: BuildWorld
) -> None:
    """After --run the statement is complete: in-toto's library validates it, its subject is
    the image buildah made, and every pin of the lock is a resolved dependency."""
    doc = json.loads((built.out / "provenance.intoto.json").read_bytes())
    stmt = Statement.copy_from_pb(json_format.ParseDict(doc, statement_pb2.Statement()))
    json_format.ParseDict(doc["predicate"], provenance_pb2.Provenance())
    stmt.validate()
    image_id = build_world.buildah("images", "--no-trunc", "--format", "{{.ID}}", TAG).strip()
    (subject,) = doc["subject"]
    assert (subject["name"], subject["digest"]) == (TAG, {"sha256": image_id[7:]})
    assert f"built {TAG} ({image_id}) with buildah" in built.build.stdout
    deps = {d["name"]: d for d in doc["predicate"]["buildDefinition"]["resolvedDependencies"]}
    assert {f"git:{g.name}": {"gitCommit": g.commit} for g in built.lock.git} == {
        k: d["digest"] for k, d in deps.items() if k.startswith("git:")
    }
    files = {w.name for w in built.lock.wheel}
    assert files and all(
        any(k.startswith("wheel:") and f in d["uri"] for k, d in deps.items()) for f in files
    )
    lock_hash = doc["predicate"]["buildDefinition"]["externalParameters"]["lock"]["contentHash"]
    assert lock_hash == built.lock.content_hash


def test_the_resolved_lock_exports_a_valid_sbom(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    done = cli("export", "sbom", str(built.lock_path), "-o", str(out), cwd=tmp_path, env={})
    assert done.returncode == 0, done.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out.read_text()) is None
    refs = {c["bom-ref"] for c in json.loads(out.read_text())["components"]}
    assert {f"git:{g.name}" for g in built.lock.git} | {
        f"image:{i.role}" for i in built.lock.image
    } <= refs
