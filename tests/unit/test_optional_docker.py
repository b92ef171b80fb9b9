"""The docker SDK is optional: without it, the one thing that needs it says how to get it."""

from __future__ import annotations

import sys

import pytest

from tritonlock.errors import UsageError
from tritonlock.sources.docker_sdk import daemon_client


def test_without_the_docker_sdk_daemon_client_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # `import docker` now fails
    with pytest.raises(UsageError, match=r"pip install 'tritonlock\[docker\]'"):
        daemon_client("unix:///nonexistent.sock")


def test_no_command_needs_the_docker_sdk_to_import() -> None:
    import subprocess

    code = (
        "import sys; sys.modules['docker'] = None\n"
        "from tritonlock import cli\n"
        "for name in cli.COMMANDS:\n"
        "    __import__('tritonlock.commands.' + name.replace('-', '_'))\n"
        "import tritonlock.resolve.pipeline, tritonlock.emit, tritonlock.verify.live\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
