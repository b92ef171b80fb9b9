"""Map tritonlock's inputs onto upstream build.py's command-line options (pure).

Options are written as single ``--name=value`` words so the recipe can record them
as they were passed. Paths (``--build-dir``) and ``--dryrun`` are added by the caller.
"""

from __future__ import annotations

import re

from ..errors import UsageError
from ..model import Inputs
from .targets import TARGETS

OPTION = re.compile(r"^--?[A-Za-z0-9][A-Za-z0-9_.,:=/+@-]{0,500}$")

# target -> (target-platform, target-machine, enable-gpu)

# ``--enable-<feature>`` switches of build.py that a lock may ask for.
FEATURES = frozenset(
    {"logging", "stats", "metrics", "gpu-metrics", "cpu-metrics", "tracing", "nvtx", "mali-gpu"}
)
# The image roles of ``--image ROLE,REF`` that every build.py since r24.04 reads; which
# others a release knows (``inference`` from r26.03, ``tensorflow`` up to r24.12) is read
# from its build.py (``imageroles.image_roles``).
IMAGE_ROLES = frozenset({"base", "gpu-base", "pytorch"})
ROLE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# build.py's ``--endpoint`` and ``--filesystem`` values.
ENDPOINTS = ("grpc", "http", "sagemaker", "vertex-ai")
FILESYSTEMS = ("gcs", "s3", "azure_storage")

# cmake_build's ``-j`` is otherwise cpu_count()*2 of whatever machine resolves.
BUILD_PARALLEL = 8


def igpu_base_image(version: str) -> str:
    """The Jetson base image family build.py has no default for. ``version`` is the one
    build.py names its other NGC images by (``upstream_container_version``)."""
    return f"nvcr.io/nvidia/tritonserver:{version}-py3-igpu-min"


def buildpy_options(inputs: Inputs, images_of: str | None = None) -> list[str]:
    """build.py options for ``inputs`` (container build, no pull, fixed parallelism).
    ``images_of``: the container version of NGC image tags (default: the release)."""
    if inputs.target not in TARGETS:
        raise UsageError(f"target {inputs.target!r}: use one of {', '.join(TARGETS)}")
    target = TARGETS[inputs.target]
    opts = [f"--target-platform={target.build_platform}", f"--target-machine={target.machine}"]
    if target.gpu:
        opts.append("--enable-gpu")
    opts += [f"--enable-{_feature(f)}" for f in inputs.features]
    opts += [f"--endpoint={e}" for e in inputs.endpoints]
    opts += [f"--filesystem={f}" for f in inputs.filesystems]
    opts += [f"--backend={b}" for b in inputs.backends]
    opts += [f"--repoagent={r}" for r in inputs.repoagents]
    opts += [f"--cache={c}" for c in inputs.caches]
    opts += [f"--image={role},{ref}" for role, ref in _images(inputs, images_of)]
    opts += ["--no-container-pull", f"--build-parallel={BUILD_PARALLEL}"]
    for opt in opts:
        if not OPTION.match(opt):
            raise UsageError(f"build.py option {opt!r} is not allowed; check the inputs")
    return opts


def _feature(name: str) -> str:
    if name not in FEATURES:
        raise UsageError(
            f"feature {name!r}: use one of {', '.join(sorted(FEATURES))} "
            "(gpu comes from the target)"
        )
    return name


def _images(inputs: Inputs, images_of: str | None) -> list[tuple[str, str]]:
    images = dict(inputs.images)
    for role in images:
        if not ROLE.match(role):
            raise UsageError(f"image role {role!r}: expected a name such as base or gpu-base")
    if inputs.target == "igpu" and "base" not in images:
        images["base"] = igpu_base_image(images_of or inputs.release)
    return sorted(images.items())
