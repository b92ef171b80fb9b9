"""A backend `tritonlock build` cannot build: refused before any network, or with
--allow-partial listed as unresolved, one line naming backend, release and target."""

from __future__ import annotations

import pytest

from tritonlock.errors import UsageError
from tritonlock.model import Inputs
from tritonlock.resolve.context import Ctx, ResolveOptions
from tritonlock.resolve.pipeline import resolve
from tritonlock.upstream.backends import refusal, unbuildable

NOWHERE = "http://127.0.0.1:9/nowhere"  # never asked: the refusal comes first


def test_refused_before_anything_is_asked() -> None:
    inputs = Inputs(release="25.04", target="igpu", backends=("python", "openvino"))
    opts = ResolveOptions(organization=NOWHERE)
    with pytest.raises(UsageError) as err:
        resolve(inputs, opts)
    line = str(err.value)
    assert line.startswith("--backend openvino: tritonlock cannot build it for 25.04 --target igpu")
    assert "\n" not in line


def test_allow_partial_lists_it_as_unresolved() -> None:
    from tritonlock.resolve import pipeline

    inputs = Inputs(release="25.04", target="x86_64", backends=("fil", "python", "onnxruntime"))
    ctx = Ctx(inputs=inputs, opts=ResolveOptions(allow_partial=True), say=print, notes=print)
    pipeline._unbuildable(ctx)
    assert [(u.kind, u.what) for u in ctx.unresolved] == [
        ("recipe", "backend fil"),
        ("recipe", "backend onnxruntime"),
    ]
    assert all(u.why.startswith("`tritonlock build` cannot build it: ") for u in ctx.unresolved)


@pytest.mark.parametrize(
    ("backends", "release", "refused"),
    [
        (("python", "vllm", "tensorrt", "identity", "pytorch"), "25.04", []),
        (("pytorch",), "24.12", ["pytorch"]),
        (("pytorch:r25.04",), "24.12", []),  # an explicit ref: judged when its CMake is read
        (("onnxruntime:r25.04", "onnxruntime"), "25.04", ["onnxruntime"]),
    ],
)
def test_which_backends_are_refused(
    backends: tuple[str, ...], release: str, refused: list[str]
) -> None:
    assert [name for name, _ in unbuildable(backends, release)] == refused


def test_refusal_is_one_line() -> None:
    for name, why in unbuildable(("onnxruntime", "openvino", "fil", "fastertransformer")):
        line = refusal(name, why, "26.08", "sbsa")
        assert "\n" not in line and f"--backend {name}: " in line and "26.08 --target sbsa" in line
