"""capture_recipe runs a (fake) server's build.py --dryrun as a sandboxed subprocess."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from tests.fixtures.fake_build import write_fake_server
from tritonlock.errors import ResolveError
from tritonlock.lockfile.schema import schema_text
from tritonlock.model import Inputs
from tritonlock.upstream import capture_recipe
from tritonlock.upstream.recipe import SERVER_DIR

pytestmark = pytest.mark.integration

IGPU = Inputs(release="25.04", target="igpu", backends=("python", "vllm"))


@pytest.fixture
def server(tmp_path: Path) -> Path:
    return write_fake_server(tmp_path / "server")


def test_recipe_records_options_and_digest_of_every_generated_file(server: Path) -> None:
    recipe, _, files = capture_recipe(server, IGPU)
    assert set(files) == {
        "Dockerfile",
        "Dockerfile.buildbase",
        "Dockerfile.cibase",
        "cmake_build",
        "docker_build",
    }
    for f in recipe.files:
        assert f.sha256 == "sha256:" + hashlib.sha256(files[f.name].encode()).hexdigest()
    assert "--image=base,nvcr.io/nvidia/tritonserver:25.04-py3-igpu-min" in recipe.options
    schema = json.loads(schema_text())["properties"]["recipe"]
    jsonschema.validate(recipe.to_dict(), schema)
    assert not (server / "build").exists()  # the tree itself is never written


def test_floating_inputs_of_the_igpu_recipe(server: Path) -> None:
    _, floating, _ = capture_recipe(server, IGPU)
    assert {(i.role, i.ref) for i in floating.images} == {
        ("base", "nvcr.io/nvidia/tritonserver:25.04-py3-igpu-min")
    }
    assert {g.name: g.ref for g in floating.git} == {
        "common": "r25.04",
        "core": "r25.04",
        "backend": "r25.04",
        "third_party": "r25.04",
        "python_backend": "r25.04",
        "vllm_backend": "r25.04",
    }
    steps = {p.step: p.requirements for p in floating.pip}
    assert steps["final-vllm"] == ("vllm==0.8.1",)
    assert steps["final-numpy"] == ("numpy<2", "virtualenv")
    keyring = "https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/sbsa/cuda-keyring_1.1-1_all.deb"
    assert keyring in {u.url for u in floating.urls}


def test_same_tree_anywhere_gives_the_same_recipe(server: Path, tmp_path: Path) -> None:
    other = shutil.copytree(server, tmp_path / "elsewhere" / "srv")
    first, _, files = capture_recipe(server, IGPU)
    second, _, _ = capture_recipe(other, IGPU)
    assert first == second
    assert f"cd {SERVER_DIR}" in files["docker_build"]
    assert str(server) not in "".join(files.values())


def test_environment_does_not_leak_into_the_recipe(
    server: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = Inputs(release="25.04", target="x86_64", backends=("onnxruntime",))
    clean, _, _ = capture_recipe(server, inputs)
    monkeypatch.setenv("TRITON_BUILD_ONNXRUNTIME_VERSION", "9.9.9")
    monkeypatch.setenv("CCACHE_REMOTE_STORAGE", "http://cache")
    dirty, _, files = capture_recipe(server, inputs)
    assert clean == dirty
    assert "9.9.9" not in files["cmake_build"]


def test_recipe_is_for_ubuntu_whatever_the_host(server: Path) -> None:
    # The fake build.py falls back to distro.like() only without --target-platform;
    # the recipe always passes it, and the stub answers debian for the rest.
    _, _, files = capture_recipe(server, IGPU)
    assert "# platform igpu" in files["cmake_build"]


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        ("broken", "--dryrun failed: error: cannot generate the recipe for backend broken"),
        ("fastertransformer", "network access refused"),
        ("socket", "network access refused"),
    ],
)
def test_failures_are_one_line_errors_naming_build_py(
    server: Path, backend: str, reason: str
) -> None:
    inputs = Inputs(release="25.04", target="sbsa", backends=(backend,))
    with pytest.raises(ResolveError) as err:
        capture_recipe(server, inputs, commit="d79c4f11ed08572571b2eac99e0dac268e38cf9b")
    message = str(err.value)
    assert message.startswith("build.py at d79c4f11ed08572571b2eac99e0dac268e38cf9b (")
    assert f"--backend={backend}" in message
    assert reason in message
    assert "\n" not in message and "Traceback" not in message


def test_a_hanging_build_py_times_out(server: Path) -> None:
    inputs = Inputs(release="25.04", target="x86_64", backends=("sleepy",))
    with pytest.raises(ResolveError, match=r"did not finish in 2s"):
        capture_recipe(server, inputs, timeout=2)


def test_a_tree_without_build_py(tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match=r"build\.py not found"):
        capture_recipe(tmp_path, IGPU)
