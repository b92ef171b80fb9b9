"""``build.sh``: the exact builder command for one emitted folder, every word quoted."""

from __future__ import annotations

import shlex

from .buildplan import Builder, Plan, commands


def render(builder: Builder, plan: Plan, *, header: str) -> bytes:
    steps = commands(builder, plan)
    lines = [
        "#!/bin/sh",
        *(f"# {line}" for line in header.splitlines()),
        "set -eu",
        'cd "$(dirname "$0")"',
    ]
    for i, (env, argv) in enumerate(steps):
        assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
        last = "exec" if i == len(steps) - 1 else ""
        lines.append(" ".join(x for x in (assigns, last, shlex.join(argv)) if x))
    return ("\n".join(lines) + "\n").encode()
