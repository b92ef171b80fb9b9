"""The pytorch backend in the emitted build: a stage of the pytorch image by digest, the
recorded paths copied out of it in the sources stage, and the compile's own ``docker``."""

from __future__ import annotations

from dataclasses import replace

import dockerfile
import pytest

from tests.fixtures.emit_world import digest, make_lock, recipe
from tests.fixtures.pytorch_world import COPIES, REF, pytorch_world
from tritonlock.emit import emit
from tritonlock.emit.dockershim import SHIM_FILE
from tritonlock.emit.errors import EmitError
from tritonlock.errors import UsageError
from tritonlock.model import Inputs


def stages(text: str) -> dict[str, list[dockerfile.Command]]:
    out: dict[str, list[dockerfile.Command]] = {}
    name = ""
    for c in dockerfile.parse_string(text):
        if c.cmd == "ARG" and not out:
            continue
        if c.cmd == "FROM":
            name = c.value[2] if len(c.value) == 3 else c.value[0]
            out[name] = []
        out[name].append(c)
    return out


def test_the_pytorch_image_is_a_stage_by_digest_and_only_its_recorded_paths_are_copied() -> None:
    lock, files = pytorch_world()
    text = emit(lock, files)["Dockerfile"].decode()
    by = stages(text)
    image = by["tritonlock-image-pytorch"]
    assert [c.value for c in image] == [
        ("nvcr.io/nvidia/pytorch@" + digest("pytorch"), "AS", "tritonlock-image-pytorch")
    ]
    copies = [
        c.value
        for c in by["tritonlock-sources"]
        if c.cmd == "COPY" and "--from=tritonlock-image-pytorch" in c.flags
    ]
    assert copies == [(p, "/tritonlock/images/pytorch" + p) for p in COPIES]
    assert text.count("--from=tritonlock-image-pytorch") == len(COPIES)  # nowhere else


def test_the_compile_gets_the_files_and_its_docker_first_on_path() -> None:
    lock, files = pytorch_world()
    compile_stage = stages(emit(lock, files)["Dockerfile"].decode())["tritonlock-compile"]
    originals = [c.original for c in compile_stage]
    shim = 'COPY --chmod=0755 ["tritonlock-docker.py", "/tritonlock/bin/docker"]'
    env = "ENV PATH=/tritonlock/bin:${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
    assert "COPY --from=tritonlock-sources /tritonlock/images /tritonlock/images" in originals
    assert shim in originals
    assert any(o.startswith(env) for o in originals)
    last = originals[-1]
    assert "cmake_build" in last
    assert originals.index(shim) < len(originals) - 1  # before upstream's cmake_build runs


def test_the_served_docker_knows_only_the_lock_image() -> None:
    lock, files = pytorch_world()
    out = emit(lock, files)
    shim = out[SHIM_FILE].decode()
    assert f'"{REF}"' in shim
    assert f'"nvcr.io/nvidia/pytorch@{digest("pytorch")}"' in shim
    assert '"/tritonlock/images/pytorch"' in shim
    compile(shim, SHIM_FILE, "exec")  # it is Python
    assert emit(lock, files) == out  # the same bytes every time


def test_a_lock_without_copied_files_is_refused_when_cmake_build_hands_over_the_image() -> None:
    lock, files = pytorch_world(copies=())
    with pytest.raises(EmitError, match="pytorch_backend is configured with") as err:
        emit(lock, files)
    assert "re-resolve" in str(err.value) and "\n" not in str(err.value)


def test_no_copies_no_stage_no_docker() -> None:
    out = emit(make_lock("x86_64"), recipe("x86_64"))
    assert SHIM_FILE not in out
    assert b"tritonlock-image-" not in out["Dockerfile"]
    assert b"/tritonlock/bin" not in out["Dockerfile"]


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino", "fil", "fastertransformer"])
def test_nested_docker_backends_are_still_refused_naming_release_and_target(backend: str) -> None:
    lock = replace(
        make_lock(),
        inputs=Inputs(release="25.04", target="x86_64", backends=(backend,)),
    )
    with pytest.raises(UsageError, match=f"backend '{backend}'") as err:
        emit(lock, recipe("x86_64"))
    assert "for 25.04 --target x86_64" in str(err.value)
    assert "\n" not in str(err.value)


def test_pytorch_of_a_release_whose_cmake_runs_inside_the_image_is_refused() -> None:
    lock = replace(
        make_lock(), inputs=Inputs(release="24.12", target="x86_64", backends=("pytorch",))
    )
    with pytest.raises(UsageError, match="docker run"):
        emit(lock, recipe("x86_64"))
