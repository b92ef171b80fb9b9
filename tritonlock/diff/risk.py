"""What a version change means for the models a Triton build serves: upgrade or downgrade,
and the risk flags a reviewer must not miss, each with its consequence.

A downgrade is always a risk. So is a change of the frameworks whose version decides how a
model runs: TensorRT (serialized engines are tied to it), ONNX Runtime, OpenVINO and the
pytorch backend's libtorch (the ``pytorch`` image) at any version; numpy, torch, CUDA and
cuDNN at a new major version; Python at a new minor version (a new CPython ABI).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from packaging.version import InvalidVersion, Version

from ..sources.debian import compare_versions

Direction = Literal["upgrade", "downgrade"]
Level = Literal["any", "major", "minor"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """A piece of the stack whose version change is a risk, and where a lock records it."""

    label: str
    level: Level
    consequence: str
    release: str | None = None  # a fact of [release]
    wheels: tuple[str, ...] = ()  # wheel names
    apt: tuple[str, ...] = ()  # apt package name prefixes
    image_role: str | None = None  # an image whose content is the component

    def matches(self, kind: str, name: str) -> bool:
        if kind == "release":
            return name == self.release
        if kind == "wheel":
            return name in self.wheels
        if kind == "apt":
            return name.startswith(self.apt) if self.apt else False
        return kind == "image" and name == self.image_role


_REVALIDATE = "models must be re-validated"
COMPONENTS: tuple[Component, ...] = (
    Component(
        label="TensorRT",
        level="any",
        release="tensorrt",
        wheels=("tensorrt", "tensorrt-cu12", "tensorrt-cu13", "tensorrt-libs"),
        apt=("libnvinfer", "tensorrt"),
        consequence="serialized TensorRT engines (.plan files) must be rebuilt",
    ),
    Component(
        label="ONNX Runtime",
        level="any",
        release="onnxruntime",
        wheels=("onnxruntime", "onnxruntime-gpu"),
        consequence="ONNX models may need re-export or re-validation (the onnxruntime "
        "backend runs them with this version)",
    ),
    Component(
        label="OpenVINO",
        level="any",
        release="openvino",
        wheels=("openvino",),
        consequence="OpenVINO models (IR) may need re-export or re-validation "
        "(the openvino backend runs them with this version)",
    ),
    Component(
        label="libtorch",
        level="any",
        image_role="pytorch",
        consequence="the pytorch backend's libtorch comes from this image: TorchScript "
        "models may need re-export or re-validation",
    ),
    Component(
        label="numpy",
        level="major",
        wheels=("numpy",),
        consequence="numpy 2 changes the C ABI and type promotion (NEP 50): python backend "
        "models (model.py) and extensions built against the other major version must be "
        "rebuilt and re-validated",
    ),
    Component(
        label="torch",
        level="major",
        wheels=("torch",),
        consequence=f"PyTorch {_REVALIDATE} and extensions built against torch rebuilt",
    ),
    Component(
        label="CUDA",
        level="major",
        release="cuda",
        wheels=("nvidia-cuda-runtime-cu12", "nvidia-cuda-runtime-cu13", "nvidia-cuda-runtime"),
        apt=("cuda-toolkit", "cuda-runtime", "cuda-cudart"),
        consequence="the host driver must support the new CUDA; TensorRT engines must be "
        f"rebuilt and {_REVALIDATE}",
    ),
    Component(
        label="cuDNN",
        level="major",
        wheels=("nvidia-cudnn-cu11", "nvidia-cudnn-cu12", "nvidia-cudnn-cu13"),
        apt=("libcudnn",),
        consequence=f"kernels and numerics change: {_REVALIDATE}, TensorRT engines rebuilt",
    ),
    Component(
        label="Python",
        level="minor",
        release="python",
        consequence="a new CPython ABI: the python backend stub and every wheel are for "
        "another Python; python backend models and their execution environments "
        "(EXECUTION_ENV_PATH) must be rebuilt",
    ),
)
DOWNGRADE = (
    "a downgrade can bring back bugs and vulnerabilities fixed in the newer version; "
    "make sure it is intended"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk:
    """One risk flag: what moved, from what to what, and what that means."""

    label: str  # a component's label, or "downgrade"
    what: str  # "TensorRT changed", "numpy downgraded"
    old: str
    new: str
    consequence: str

    @property
    def text(self) -> str:
        return f"{self.what} {self.old} → {self.new}: {self.consequence}"


def direction(kind: str, old: str | None, new: str | None) -> Direction | None:
    """``upgrade`` or ``downgrade`` of a version (dpkg's order for apt, PEP 440's for the
    rest); None when either side is no version or both are equal."""
    if old is None or new is None or old == new:
        return None
    order = _dpkg_order if kind == "apt" else _pep440_order
    sign = order(old, new)
    return None if sign is None or sign == 0 else "upgrade" if sign > 0 else "downgrade"


def _pep440_order(old: str, new: str) -> int | None:
    try:
        a, b = Version(old), Version(new)
    except InvalidVersion:
        return None
    return (b > a) - (b < a)


def _dpkg_order(old: str, new: str) -> int | None:
    try:
        return compare_versions(new, old)
    except ValueError:
        return None


_NUMBERS = re.compile(r"^(?:\d+:)?v?(\d+)(?:\.(\d+))?")


def _level_moved(level: Level, old: str, new: str) -> bool:
    """Whether ``old`` → ``new`` changes at ``level`` (an unreadable version: any change)."""
    if level == "any":
        return old != new
    a, b = _NUMBERS.match(old), _NUMBERS.match(new)
    if a is None or b is None:
        return old != new
    if level == "major":
        return a.group(1) != b.group(1)
    return (a.group(1), a.group(2)) != (b.group(1), b.group(2))


def risks(
    kind: str, name: str, old: str | None, new: str | None, moved: Direction | None
) -> tuple[Risk, ...]:
    """The risk flags of one entry that changed from ``old`` to ``new`` (``name``: the
    release fact, wheel, apt package or image role)."""
    out = []
    if old is not None and new is not None:
        for c in COMPONENTS:
            if c.matches(kind, name) and _level_moved(c.level, old, new):
                what = f"{c.label} changed"
                out.append(
                    Risk(label=c.label, what=what, old=old, new=new, consequence=c.consequence)
                )
    if moved == "downgrade" and old is not None and new is not None:
        what = f"{name} downgraded"
        out.append(Risk(label="downgrade", what=what, old=old, new=new, consequence=DOWNGRADE))
    return tuple(out)


# The version-like value of each kind's entry, and the name a component is matched by.
VERSIONED: dict[str, Callable[[str, dict[str, Any]], tuple[str, str | None]]] = {
    "release": lambda key, f: (key, f.get("value")),
    "wheel": lambda key, f: (key.rpartition("/")[2], f.get("version")),
    "apt": lambda key, f: (key.rpartition("/")[2], f.get("version")),
    "inputs": lambda key, f: (key, f.get("value") if key == "release" else None),
}
