"""The external programs commands run, found before any work starts.

``git`` (resolve, update, build, ``verify --deep``) and a builder (``build --run``) come
from the system; uv ships with tritonlock (its PyPI package carries the binary).
"""

from __future__ import annotations

import functools
import threading

from ..errors import UsageError

# program → the Debian packages that provide it
DEBIAN_PACKAGES = {
    "git": "git",
    "buildah": "buildah",
    "docker": "docker.io docker-buildx",
}


def require(program: str, needed_for: str) -> str:
    """The path of ``program``, or a one-line error naming it and its Debian package."""
    import shutil  # not at import: offline commands never look for programs

    found = shutil.which(program)
    if found is None:
        raise UsageError(
            f"{program} is not installed; {needed_for} needs it "
            f"(Debian/Ubuntu: apt-get install {DEBIAN_PACKAGES.get(program, program)})"
        )
    return found


_UV_LOCK = threading.Lock()


def uv_binary() -> str:
    """uv's binary from the ``uv`` package tritonlock depends on (PATH as a fallback). One
    thread at a time: uv's lookup reads sysconfig, whose first read is not thread-safe (a
    step of another image saw ``EXE`` as None)."""
    with _UV_LOCK:
        return _uv_binary()


@functools.cache
def _uv_binary() -> str:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        import shutil

        found = shutil.which("uv")
        if found is None:
            raise UsageError(
                "uv is not installed, though tritonlock depends on it; reinstall tritonlock "
                "(`pip install --force-reinstall tritonlock`) or `pip install uv`"
            ) from None
        return found
