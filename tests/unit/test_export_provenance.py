"""The build folder's ``provenance.intoto.json``: an in-toto Statement v1 with a SLSA
provenance v1 predicate, parsed strictly with in-toto's own library (its protobuf messages
refuse unknown fields; ``Statement.validate`` checks what the statement spec requires)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from tests.fixtures.emit_world import make_lock, recipe
from tritonlock.emit import emit
from tritonlock.emit.buildplan import Builder
from tritonlock.emit.secrets import SecretSpec
from tritonlock.export.provenance import FILE, with_subject_digest
from tritonlock.runner import BuildFailed, image_id, record_image

TAG = "tritonlock/tritonserver:25.04-x86_64"
IMAGE_ID = "sha256:" + "c" * 64


def folder(builder: Builder = "buildah") -> dict[str, bytes]:
    secrets = [SecretSpec.parse("id=pip-conf,env=PIP_CONF")]
    return emit(make_lock("x86_64"), recipe("x86_64"), builder=builder, secrets=secrets)


def parsed(blob: bytes) -> tuple[Statement, dict[str, Any]]:
    """The statement as in-toto's library reads it, and its predicate as plain data."""
    doc = json.loads(blob)
    stmt = Statement.copy_from_pb(json_format.ParseDict(doc, statement_pb2.Statement()))
    json_format.ParseDict(doc["predicate"], provenance_pb2.Provenance())  # strict: no extras
    predicate: dict[str, Any] = doc["predicate"]
    return stmt, predicate


def test_the_statement_is_complete_once_the_image_digest_is_known() -> None:
    blob = folder()[FILE]
    stmt, _ = parsed(blob)
    with pytest.raises(ValueError, match=r"At least one digest required \(subject 0\)"):
        stmt.validate()  # before the build, the one thing missing
    done = with_subject_digest(blob, IMAGE_ID)
    stmt, _ = parsed(done)
    stmt.validate()
    (subject,) = json.loads(done)["subject"]
    assert (subject["name"], subject["digest"]) == (TAG, {"sha256": "c" * 64})
    assert json.loads(done)["predicateType"] == "https://slsa.dev/provenance/v1"


def test_every_pin_and_every_emitted_file_is_a_resolved_dependency() -> None:
    lock = make_lock("x86_64")
    files = folder()
    _, predicate = parsed(files[FILE])
    definition = predicate["buildDefinition"]
    deps = {d["name"]: d for d in definition["resolvedDependencies"]}
    for g in lock.git:
        assert deps[f"git:{g.name}"]["digest"] == {"gitCommit": g.commit}
        assert deps[f"git:{g.name}"]["uri"] == f"git+{g.url}@{g.ref}"
        for s in g.submodules:
            assert deps[f"submodule:{g.name}:{s.path}"]["digest"] == {"gitCommit": s.commit}
    for w in lock.wheel:
        for f in w.files:
            d = deps[f"wheel:{w.step}:{f.name}"]
            assert d["digest"] == {"sha256": f.sha256[7:]} and d["uri"].startswith("pkg:pypi/")
    for u in lock.url:
        assert deps[f"url:{u.url}"] == {
            "name": f"url:{u.url}",
            "uri": u.url,
            "digest": {"sha256": u.sha256[7:]},
        }
    assert deps["image:base"]["digest"] == {"sha256": lock.image[0].digest[7:]}
    assert lock.apt is not None
    assert all(f"apt:{a.step}:{a.name}" in deps for a in lock.apt.packages)
    for name, data in files.items():
        if name != FILE:
            assert deps[name]["digest"] == {"sha256": hashlib.sha256(data).hexdigest()}
    external = definition["externalParameters"]
    assert external["lock"]["contentHash"] == lock.content_hash
    assert (external["builder"], external["secrets"]) == ("buildah", ["pip-conf"])
    argv = [i["argv"] for i in definition["internalParameters"]["invocations"]]
    assert argv[-1][:2] == ["buildah", "bud"] and TAG in argv[-1]
    assert predicate["runDetails"]["builder"]["id"].endswith("/buildah")


def test_buildx_folders_name_their_builder_and_one_command() -> None:
    _, predicate = parsed(folder("buildx")[FILE])
    (only,) = predicate["buildDefinition"]["internalParameters"]["invocations"]
    assert only["argv"][:3] == ["docker", "buildx", "build"]
    assert only["env"] == {"EXPERIMENTAL_BUILDKIT_SOURCE_POLICY": "source-policy.json"}


def test_record_image_fills_in_what_the_builder_reports(tmp_path: Path) -> None:
    (tmp_path / FILE).write_bytes(folder()[FILE])
    asked: list[list[str]] = []

    def run(argv: list[str]) -> str:
        asked.append(argv)
        return IMAGE_ID + "\n"

    assert record_image(tmp_path, "buildah", TAG, run) == IMAGE_ID
    assert asked == [["buildah", "images", "--no-trunc", "--format", "{{.ID}}", TAG]]
    parsed((tmp_path / FILE).read_bytes())[0].validate()
    assert image_id("buildx", TAG, lambda argv: "c" * 64) == IMAGE_ID
    with pytest.raises(BuildFailed, match="not an image ID"):
        image_id("buildx", TAG, lambda argv: "Error: no such image")
