"""The ``if`` conditions around an install command of upstream's recipe, evaluated for
what tritonlock knows: ``BUILD_PUBLIC_VLLM`` (the public/private vLLM switch) and
``$(uname -m)`` of the build machine (pure). A ``for`` loop that
:mod:`tritonlock.upstream.shell` cannot unroll is a condition no plan can decide."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from . import shell

_PUBLIC_VLLM = r"\$\{?BUILD_PUBLIC_VLLM\}?(?![A-Za-z0-9_])"
_MACHINE = r"\$\(\s*uname\s+-m\s*\)|`\s*uname\s+-m\s*`"


def condition_env(public_vllm: bool, machine: str | None) -> dict[str, str]:
    """Regular expression -> the value it stands for in this plan."""
    env = {_PUBLIC_VLLM: "true" if public_vllm else "false"}
    if machine is not None:
        env[_MACHINE] = machine
    return env


def why_not_run(conditions: Iterable[str], env: Mapping[str, str]) -> tuple[str, bool] | None:
    """None if every condition holds, else why the command is not planned and whether it
    surely does not run in this build (False: it may, tritonlock cannot tell)."""
    for cond in conditions:
        truth = _truth(cond, env)
        if truth is None and cond.startswith("for "):
            why = f"runs once for each word of `{cond}`, unknown before the build; not planned"
            return why, False
        if truth is None:
            return f"runs only if `{cond}`, which tritonlock cannot evaluate; not planned", False
        if not truth:
            return _explain(cond, env), True
    return None


def _explain(cond: str, env: Mapping[str, str]) -> str:
    if "BUILD_PUBLIC_VLLM" in cond:
        if env[_PUBLIC_VLLM] == "true":
            return (
                "private vLLM branch (BUILD_PUBLIC_VLLM=false); planned only without the "
                "public vLLM"
            )
        return "public vLLM branch (BUILD_PUBLIC_VLLM=true); not run with a private vLLM"
    if "uname" in cond:
        return f"runs only if `{cond}`; the build machine is {env.get(_MACHINE)}"
    return f"runs only if `{cond}`, which is false here"


def _truth(cond: str, env: Mapping[str, str]) -> bool | None:
    """``[ a = b ]`` tests joined by ``&&``, the whole maybe negated by a leading ``!``."""
    negate = cond.startswith("! ")
    parts = [_test(p, env) for p in cond.removeprefix("! ").split(" && ")]
    if False in parts:
        return negate
    if None in parts:
        return None
    return not negate


def _test(text: str, env: Mapping[str, str]) -> bool | None:
    for pattern, value in env.items():
        text = re.sub(pattern, value.replace("\\", "\\\\"), text)
    return shell.truth(text)
