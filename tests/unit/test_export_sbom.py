"""`tritonlock export sbom`: every pin a component, validated by each library's own validator
(cyclonedx-python-lib's strict JSON schema validator, spdx-tools' parser and validator)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from tests.fixtures.emit_world import make_lock
from tritonlock import cli, lockfile
from tritonlock.export.inventory import inventory
from tritonlock.export.sbom import created_at, sbom
from tritonlock.model import Lock, Unresolved

LOCKS = Path(__file__).resolve().parents[2] / "locks"
WHEN = datetime(2025, 4, 15, 12, 0, tzinfo=UTC)


def cyclonedx(lock: Lock) -> dict[str, Any]:
    text = sbom(lock, "cyclonedx-json", WHEN)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    data: dict[str, Any] = json.loads(text)
    return data


def spdx(lock: Lock, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "sbom.spdx.json"
    path.write_text(sbom(lock, "spdx-json", WHEN))
    assert validate_full_spdx_document(parse_file(str(path))) == []
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def purls(components: list[dict[str, Any]], kind: str) -> dict[str, PackageURL]:
    """The purl of each component of ``kind`` that has one (a built image has none)."""
    return {
        c["bom-ref"]: PackageURL.from_string(c["purl"])
        for c in components
        if {"name": "tritonlock:kind", "value": kind} in c.get("properties", ()) and "purl" in c
    }


def test_cyclonedx_has_a_component_for_every_pin() -> None:
    lock = make_lock("igpu")
    doc = cyclonedx(lock)
    comps = doc["components"]
    hashes = {c["bom-ref"]: c.get("hashes", []) for c in comps}
    git = purls(comps, "git")
    assert {p.version for p in git.values()} == {g.commit for g in lock.git}
    assert purls(comps, "submodule")["submodule:grpc:third_party/abseil-cpp"].name == "abseil-cpp"
    wheels = purls(comps, "wheel")
    for w in lock.wheel:
        for f in w.files:
            ref = f"wheel:{w.step}:{f.name}"
            assert (wheels[ref].type, wheels[ref].version) == ("pypi", w.version)
            assert hashes[ref] == [{"alg": "SHA-256", "content": f.sha256[7:]}]
    (image,) = purls(comps, "image").values()
    assert (image.type, image.version) == ("oci", lock.image[0].digest)
    downloads = purls(comps, "download")
    assert {p.qualifiers["download_url"] for p in downloads.values()} == {u.url for u in lock.url}
    assert lock.apt is not None
    apt = purls(comps, "apt")
    assert len(apt) == len(lock.apt.packages)
    assert {(p.type, p.namespace, p.qualifiers["arch"]) for p in apt.values()} == {
        ("deb", "ubuntu", "arm64")
    }
    props = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert props["tritonlock:content-hash"] == lock.content_hash
    assert doc["metadata"]["timestamp"] == "2025-04-15T12:00:00+00:00"


def test_dependencies_go_build_image_step_component() -> None:
    lock = make_lock("x86_64")
    doc = cyclonedx(lock)
    deps = {d["ref"]: set(d.get("dependsOn", ())) for d in doc["dependencies"]}
    known = {c["bom-ref"] for c in doc["components"]} | {doc["metadata"]["component"]["bom-ref"]}
    assert set(deps) == known and set().union(*deps.values()) <= known
    assert deps["build"] >= {"image:base", "image:buildbase", "step:tritonlock-sources"}
    numpy = next(w for w in lock.wheel if w.name == "numpy")
    assert f"step:{numpy.step}" in deps[f"image:{numpy.image}"]
    assert f"wheel:{numpy.step}:{numpy.files[0].name}" in deps[f"step:{numpy.step}"]
    assert "apt:buildbase:cmake" in deps["step:buildbase"]
    assert "step:buildbase" in deps["image:buildbase"]
    assert {f"git:{g.name}" for g in lock.git} | {f"url:{u.url}" for u in lock.url} == deps[
        "step:tritonlock-sources"
    ]
    assert deps["git:grpc"] == {"submodule:grpc:third_party/abseil-cpp"}
    reachable, todo = set(), ["build"]
    while todo:
        ref = todo.pop()
        if ref not in reachable:
            reachable.add(ref)
            todo += deps.get(ref, ())
    assert reachable == set(deps)  # every component hangs off the build


def test_spdx_validates_and_relates_the_same_graph(tmp_path: Path) -> None:
    lock = make_lock("igpu")
    doc = spdx(lock, tmp_path)
    ids = {p["SPDXID"]: p for p in doc["packages"]}
    assert len(ids) == len(inventory(lock).parts) + 1
    rels = {
        (r["spdxElementId"], r["relatedSpdxElement"])
        for r in doc["relationships"]
        if r["relationshipType"] == "DEPENDS_ON"
    }
    assert ("SPDXRef-build", "SPDXRef-step-tritonlock-sources") in rels
    grpc = ids["SPDXRef-git-grpc"]
    assert grpc["downloadLocation"].startswith("git+https://github.com/grpc/grpc@")
    assert grpc["externalRefs"][0]["referenceLocator"].startswith("pkg:github/grpc/grpc@")
    wheel = next(p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-wheel-final-numpy"))
    assert wheel["checksums"][0]["algorithm"] == "SHA256"
    assert doc["creationInfo"]["created"] == "2025-04-15T12:00:00Z"


@pytest.mark.parametrize("name", ["25.04-igpu-python-vllm.lock", "25.04-x86_64-python-vllm.lock"])
def test_a_real_partial_lock_exports_with_what_it_lacks(tmp_path: Path, name: str) -> None:
    lock = lockfile.load(LOCKS / name)
    assert lock.unresolved
    doc = cyclonedx(lock)
    unresolved = [
        p["value"] for p in doc["metadata"]["properties"] if p["name"] == "tritonlock:unresolved"
    ]
    assert len(unresolved) == len(lock.unresolved)
    spdx(lock, tmp_path)


def test_same_lock_and_time_give_the_same_bytes() -> None:
    lock = make_lock("cpu")
    for fmt in ("cyclonedx-json", "spdx-json"):
        assert sbom(lock, fmt, WHEN) == sbom(lock, fmt, WHEN)
    assert created_at({"SOURCE_DATE_EPOCH": "0"}) == datetime(1970, 1, 1, tzinfo=UTC)


def run_cli(*argv: str) -> int:
    return cli.main(list(argv))


def test_command_writes_a_file_and_refuses_a_partial_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1744718400")
    path = tmp_path / "triton.lock"
    lockfile.write(make_lock("x86_64"), path)
    out = tmp_path / "sbom.json"
    assert run_cli("export", "sbom", str(path), "--format", "spdx-json", "-o", str(out)) == 0
    assert out.read_text() == sbom(lockfile.load(path), "spdx-json", WHEN)
    partial = tmp_path / "partial.lock"
    missing = Unresolved(kind="image", what="nvcr.io/x", why="registry unreachable")
    lockfile.write(lockfile.seal(replace(make_lock("x86_64"), unresolved=(missing,))), partial)
    assert run_cli("export", "sbom", str(partial)) == 1
    err = capsys.readouterr().err
    assert "image nvcr.io/x" in err and "--allow-partial" in err and err.count("\n") == 1
    assert run_cli("export", "sbom", str(partial), "--allow-partial") == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    assert run_cli("export", "sbom", str(path)) == 2
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fmt", "library"), [("cyclonedx-json", "cyclonedx"), ("spdx-json", "spdx_tools")]
)
def test_without_the_sbom_extra_one_line_names_it(tmp_path: Path, fmt: str, library: str) -> None:
    path = tmp_path / "triton.lock"
    lockfile.write(make_lock("cpu"), path)
    code = (
        f"import sys; sys.modules[{library!r}] = None\n"
        "from tritonlock import cli\n"
        f"sys.exit(cli.main(['export', 'sbom', {str(path)!r}, '--format', {fmt!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'tritonlock[sbom]'" in done.stderr and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_the_build_and_the_other_exports_need_no_sbom_library() -> None:
    code = (
        "import sys\n"
        "for m in ('cyclonedx', 'spdx_tools', 'packageurl'): sys.modules[m] = None\n"
        "from tests.fixtures.emit_world import make_lock, recipe\n"
        "from tritonlock.emit import emit\n"
        "from tritonlock.export.inventory import inventory\n"
        "files = emit(make_lock('igpu'), recipe('igpu'))\n"
        "assert b'pkg:oci/tritonserver@sha256:' in files['provenance.intoto.json']\n"
        "assert inventory(make_lock('cpu')).parts\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
