"""Backends whose upstream build `tritonlock build` cannot make hermetic (yet), and why.

Upstream builds them through the host Docker socket or from remote scripts: that cannot run
under ``RUN --network=none`` and is outside the lock's control. ``resolve`` warns about them
before it starts; ``build`` refuses them.
"""

from __future__ import annotations

from collections.abc import Iterable

UNBUILDABLE = {
    "onnxruntime": "builds onnxruntime with a nested `docker build` through the host socket",
    "openvino": "builds OpenVINO with a nested `docker build` through the host socket",
    "fil": "builds RAPIDS/FIL with a nested `docker build` through the host socket",
    "pytorch": "copies libtorch out of the pytorch image with `docker pull`/`docker cp`",
    "fastertransformer": "downloads and executes a remote script while generating the recipe",
}


def unbuildable(backends: Iterable[str]) -> list[tuple[str, str]]:
    """(name, why) for each backend (``NAME[:REF]``) that `tritonlock build` refuses."""
    names = dict.fromkeys(b.split(":", 1)[0] for b in backends)
    return [(name, UNBUILDABLE[name]) for name in names if name in UNBUILDABLE]
