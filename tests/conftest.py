"""Test-wide isolation: no test sees this machine's pip, docker, git or home configuration."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# No timing asserts: hypothesis' per-example deadline (200 ms) failed property tests on a
# loaded 2-core machine. Examples still run; only the clock is not a test.
settings.register_profile("tritonlock", deadline=None)
settings.load_profile("tritonlock")

_PREFIXES = ("PIP_", "DOCKER_", "GIT_", "UV_", "TRITONLOCK_", "REQUESTS_CA", "SSL_CERT")
_PROXIES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh HOME, no PIP_/DOCKER_/GIT_ settings, pip config off, loopback never proxied."""
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith(_PREFIXES) or key in _PROXIES:
            del os.environ[key]
    os.environ["HOME"] = str(home)
    os.environ["PIP_CONFIG_FILE"] = os.devnull
    os.environ["PIP_FIND_LINKS"] = ""
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    os.environ["GIT_TERMINAL_PROMPT"] = "0"
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    try:
        yield home
    finally:
        os.environ.clear()
        os.environ.update(saved)
