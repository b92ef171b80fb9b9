"""tritonlock: pin every input of an NVIDIA Triton Inference Server source build."""

import sys

__version__ = "0.1.0"

# `import httpx` also imports httpx's command-line client (`httpx._main`: click, rich's
# console, pygments; 40-60 ms at start-up), which tritonlock never runs. httpx falls back
# to a stub `main` when that import fails, and a None entry in sys.modules makes it fail
# (unless the process already loaded it).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
