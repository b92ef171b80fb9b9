"""Backends whose upstream build `tritonlock build` cannot make hermetic (yet), and why.

Upstream builds them through the host Docker socket or from remote scripts: that cannot run
under ``RUN --network=none`` and is outside the lock's control. ``resolve`` refuses them
before any network (with ``--allow-partial`` it locks the rest and lists each as
unresolved); ``build`` refuses them. pytorch is built: its ``docker cp`` of libtorch is
served from the pinned pytorch image (:mod:`tritonlock.upstream.dockercp`), except in the
releases whose pytorch_backend also runs a command inside that image.
"""

from __future__ import annotations

from collections.abc import Iterable

UNBUILDABLE = {
    "onnxruntime": "builds ONNX Runtime with a nested `docker build` (tools/gen_ort_dockerfile.py)"
    " through the host Docker socket, whose inputs no lock pins",
    "openvino": "builds OpenVINO with a nested `docker build` (tools/gen_openvino_dockerfile.py)"
    " through the host Docker socket, whose inputs no lock pins",
    "fil": "builds RAPIDS/FIL with a nested `docker build` of its own Dockerfile (a hard-coded"
    " tritonserver image, miniforge, conda) through the host Docker socket",
    "fastertransformer": "downloads and executes a remote script while generating the recipe",
}
# Releases whose default ``rYY.MM`` branch of a backend does what the build cannot serve.
UNBUILDABLE_IN = {
    "pytorch": (
        frozenset({"24.11", "24.12"}),
        "pytorch_backend r24.11 and r24.12 run `docker run … find` inside the pytorch image"
        " (CMakeLists.txt), which tritonlock's offline build cannot serve from copied files",
    ),
}


def unbuildable(backends: Iterable[str], release: str | None = None) -> list[tuple[str, str]]:
    """(name, why) for each backend (``NAME[:REF]``) that `tritonlock build` refuses for
    ``release`` (a backend at an explicit ``:REF`` is judged when its CMake is read)."""
    out: dict[str, str] = {}
    for spec in backends:
        name, _, ref = spec.partition(":")
        if name in UNBUILDABLE:
            out.setdefault(name, UNBUILDABLE[name])
        elif name in UNBUILDABLE_IN and not ref and release in UNBUILDABLE_IN[name][0]:
            out.setdefault(name, UNBUILDABLE_IN[name][1])
    return list(out.items())


def refusal(name: str, why: str, release: str, target: str) -> str:
    """The one line naming the backend, the release and the target, and why."""
    return (
        f"--backend {name}: tritonlock cannot build it for {release} --target {target}: "
        f"upstream {why}"
    )
