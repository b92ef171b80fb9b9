"""The image roles a build.py reads from ``--image`` (own build.py shapes, read with ast)."""

from __future__ import annotations

import pytest

from tritonlock.cli import build_parser
from tritonlock.commands.resolve import inputs_from_args
from tritonlock.errors import UsageError
from tritonlock.upstream import check_image_roles, image_roles

# The shapes build.py uses: a membership test, a subscript, a local alias of the name, and
# the option's pairs stored into the dict by a non-constant key (not a role).
OLD_BUILD_PY = """
raise SystemExit("never run")
def cmake_args(images):
    if "base" in images:
        return images["base"]
    return None

def torch_args(images):
    backend_name = "torch"
    if backend_name in images:
        return images[backend_name]

def docker(images):
    gpu = images["gpu-base"] if "gpu-base" in images else None

def main(flags):
    images = {}
    for img in flags.image:
        parts = img.split(",")
        images[parts[0]] = parts[1]
"""

NEW_BUILD_PY = (
    OLD_BUILD_PY
    + """
def final(images):
    inference = images.get("inference")
"""
)


def test_roles_are_every_name_build_py_asks_its_images_for() -> None:
    assert image_roles(OLD_BUILD_PY) == {"base", "torch", "gpu-base"}
    assert image_roles(NEW_BUILD_PY) == {"base", "torch", "gpu-base", "inference"}


def test_a_role_the_release_reads_is_accepted() -> None:
    check_image_roles(NEW_BUILD_PY, [("inference", "nvcr.io/nvidia/vllm:26.03-py3")], "r26.03")


def test_a_role_the_release_does_not_read_is_a_one_line_usage_error() -> None:
    with pytest.raises(UsageError) as err:
        check_image_roles(OLD_BUILD_PY, [("inference", "x:1")], "r26.02")
    assert "build.py at r26.02 does not read image role 'inference'" in str(err.value)
    assert "base, gpu-base, torch" in str(err.value)
    assert "\n" not in str(err.value)


def test_the_cli_passes_any_role_name_on_to_the_release_check() -> None:
    args = build_parser().parse_args(
        [
            "resolve",
            "26.03",
            "--target",
            "x86_64",
            "--image",
            "inference,nvcr.io/nvidia/vllm:26.03-py3",
        ]
    )
    assert inputs_from_args(args).images == (("inference", "nvcr.io/nvidia/vllm:26.03-py3"),)


def test_one_role_never_stands_for_two_images() -> None:
    from tritonlock.errors import ResolveError
    from tritonlock.resolve.pipeline import wanted_images
    from tritonlock.upstream import FloatingInputs, ImageUse

    two = FloatingInputs(
        images=(
            ImageUse(role="base", ref="r.example/a:1", found_in=("Dockerfile:2",)),
            ImageUse(role="base", ref="r.example/b:1", found_in=("Dockerfile.buildbase:2",)),
        )
    )
    with pytest.raises(ResolveError) as err:
        wanted_images(two, ())
    assert "image role 'base' names two images, r.example/a:1 (Dockerfile:2)" in str(err.value)
    one = FloatingInputs(images=two.images[:1] * 2)
    assert wanted_images(one, (("base", "r.example/c:2"),)) == {"base": "r.example/c:2"}
