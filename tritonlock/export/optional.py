"""The SBOM libraries are an optional extra (``pip install 'tritonlock[sbom]'``): without
them, the one command that needs them says how to get them, in one line."""

from __future__ import annotations

import importlib

from ..errors import UsageError

EXTRA = "sbom"


def require(module: str, package: str) -> None:
    """Import ``module`` (of PyPI ``package``) or raise a UsageError naming the extra."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise UsageError(
            f"{package} is not installed; `pip install 'tritonlock[{EXTRA}]'` to export an SBOM"
        ) from None
