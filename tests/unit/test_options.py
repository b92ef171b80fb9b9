"""tritonlock inputs -> upstream build.py options."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tritonlock.errors import UsageError
from tritonlock.lockfile.schema import schema_text
from tritonlock.model import Inputs
from tritonlock.upstream import buildpy_options


def _inputs(**kw: object) -> Inputs:
    return Inputs.from_dict({"release": "25.04", "target": "x86_64", **kw})


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("x86_64", ["--target-platform=linux", "--target-machine=x86_64", "--enable-gpu"]),
        ("sbsa", ["--target-platform=linux", "--target-machine=aarch64", "--enable-gpu"]),
        ("igpu", ["--target-platform=igpu", "--target-machine=aarch64", "--enable-gpu"]),
        ("cpu", ["--target-platform=linux", "--target-machine=x86_64"]),
    ],
)
def test_targets_always_name_platform_and_machine(target: str, expected: list[str]) -> None:
    opts = buildpy_options(_inputs(target=target))
    assert opts[: len(expected)] == expected
    assert ("--enable-gpu" in opts) == (target != "cpu")


def test_igpu_defaults_to_the_igpu_min_image() -> None:
    opts = buildpy_options(_inputs(target="igpu"))
    assert "--image=base,nvcr.io/nvidia/tritonserver:25.04-py3-igpu-min" in opts


def test_igpu_default_follows_the_container_version_images_are_named_by() -> None:
    # From 26.05 build.py names its NGC images by upstream_container_version, which lags
    # the release: the Jetson default follows the same value, not the release.
    opts = buildpy_options(_inputs(release="26.05", target="igpu"), "26.04")
    assert "--image=base,nvcr.io/nvidia/tritonserver:26.04-py3-igpu-min" in opts
    assert not any("26.05" in o for o in opts)


def test_every_role_name_reaches_build_py() -> None:
    # which roles a release reads is build.py's to say (checked against it in resolve)
    opts = buildpy_options(_inputs(images={"inference": "nvcr.io/nvidia/vllm:26.03-py3"}))
    assert "--image=inference,nvcr.io/nvidia/vllm:26.03-py3" in opts


def test_an_explicit_base_image_wins_on_igpu() -> None:
    opts = buildpy_options(_inputs(target="igpu", images={"base": "registry.local/jp:6"}))
    assert [o for o in opts if o.startswith("--image")] == ["--image=base,registry.local/jp:6"]


def test_every_input_maps_onto_its_option_in_order() -> None:
    opts = buildpy_options(
        _inputs(
            backends=["python", "vllm:r25.04"],
            repoagents=["checksum"],
            caches=["local", "redis"],
            endpoints=["http", "grpc"],
            filesystems=["s3"],
            features=["logging", "gpu-metrics"],
            images={"pytorch": "nvcr.io/nvidia/pytorch:25.04-py3"},
        )
    )
    assert opts == [
        "--target-platform=linux",
        "--target-machine=x86_64",
        "--enable-gpu",
        "--enable-logging",
        "--enable-gpu-metrics",
        "--endpoint=http",
        "--endpoint=grpc",
        "--filesystem=s3",
        "--backend=python",
        "--backend=vllm:r25.04",
        "--repoagent=checksum",
        "--cache=local",
        "--cache=redis",
        "--image=pytorch,nvcr.io/nvidia/pytorch:25.04-py3",
        "--no-container-pull",
        "--build-parallel=8",
    ]


def test_options_fit_the_recipe_schema_and_carry_no_paths() -> None:
    opts = buildpy_options(_inputs(target="igpu", backends=["python", "vllm"]))
    recipe = json.loads(schema_text())["properties"]["recipe"]
    jsonschema.validate({"options": opts, "files": []}, recipe)
    assert not any(o.startswith(("--build-dir", "--dryrun", "--tmp-dir")) for o in opts)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"features": ["gpu"]}, "feature 'gpu'"),
        ({"features": ["all"]}, "feature 'all'"),
        ({"images": {"Vllm Image": "x:1"}}, "image role 'Vllm Image'"),
        ({"target": "rhel"}, "target 'rhel'"),
        ({"backends": ["python --evil"]}, "not allowed"),
    ],
)
def test_bad_inputs_are_usage_errors(kw: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as err:
        buildpy_options(_inputs(**kw))
    assert message in str(err.value)
