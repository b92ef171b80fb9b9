"""Start-up: `tritonlock --help` imports no command, and a command imports no other one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tritonlock import cli

_PROBE = """
import contextlib, io, json, sys
from tritonlock import cli
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    cli.main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
"""


def _imported(*argv: str) -> set[str]:
    """The modules loaded by a fresh interpreter running ``tritonlock ARGV``."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def _commands(modules: set[str]) -> set[str]:
    return {m.rsplit(".", 1)[1] for m in modules if m.startswith("tritonlock.commands.")}


def test_help_imports_no_command_and_no_heavy_library() -> None:
    modules = _imported("--help")
    assert _commands(modules) == set()
    heavy = {"tritonlock.lockfile", "tritonlock.model", "httpx", "jsonschema_rs", "rich"}
    assert modules.isdisjoint(heavy)


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_a_command_imports_only_its_own_module(command: str) -> None:
    own = _commands(_imported(command, "--help"))
    module = _module(command)
    others = {_module(c) for c in cli.COMMANDS} - {module}
    assert module in own
    assert own.isdisjoint(others - _SHARED.get(command, set()))


def _module(command: str) -> str:
    """The module of a command (``git-setup`` lives in ``commands/git_setup.py``)."""
    return command.replace("-", "_")


# Commands that reuse another one's rendering (update reports as resolve does).
_SHARED = {"update": {"resolve"}}


def test_httpx_comes_without_its_command_line_client() -> None:
    """`import httpx` loads httpx's own CLI (click, rich, pygments) unless told not to; the
    wheel resolver, whose start a whole-process resolve pays for, loads httpx alone."""
    probe = (
        "import json, sys, tritonlock.resolve.wheelpins\n"
        "print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = set(json.loads(out.stdout))
    assert "httpx" in modules
    assert modules.isdisjoint({"httpx._main", "click", "rich", "pygments"})


def test_the_wheel_resolver_starts_uv_before_loading_http_or_the_lock_model() -> None:
    """`tritonlock.resolve.wheels` is light: its first uv run starts before httpx and the
    lock model are loaded, so their import passes while uv runs."""
    probe = (
        "import json, sys, tritonlock.resolve.wheels\n"
        "print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = set(json.loads(out.stdout))
    assert "tritonlock.resolve.uvcompile" in modules
    assert modules.isdisjoint({"httpx", "tritonlock.model", "tritonlock.resolve.wheelpins"})
