"""Upstream's own recipe: release facts from build.py (read with ``ast``) and the floating
inputs of what ``build.py --dryrun`` writes for a set of inputs."""

from __future__ import annotations

from .floating import (
    AptInstall,
    FloatingInputs,
    GitUse,
    ImageUse,
    PipInstall,
    UrlUse,
    floating_inputs,
)
from .imageroles import check_image_roles, image_roles
from .options import buildpy_options
from .recipe import capture_recipe
from .versionmap import read_release_facts

__all__ = [
    "AptInstall",
    "FloatingInputs",
    "GitUse",
    "ImageUse",
    "PipInstall",
    "UrlUse",
    "buildpy_options",
    "capture_recipe",
    "check_image_roles",
    "floating_inputs",
    "image_roles",
    "read_release_facts",
]
