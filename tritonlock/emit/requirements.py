"""Hashed pip requirements of one install step:
:func:`tritonlock.export.requirements.export_requirements`, the one writer of them."""

from __future__ import annotations

from ..export.requirements import export_requirements
from ..model import Lock


def requirements(lock: Lock, step: str) -> str:
    """Requirements text for ``step``, installed with ``--require-hashes --no-deps``."""
    return export_requirements(lock, step)
