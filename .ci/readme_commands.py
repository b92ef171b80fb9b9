"""The README's two opening commands, read from README.md so CI runs exactly what it says.

``first``: the first line of the first ```sh block (install and run the main job);
``test``: its second line (the tests); ``venv-bin``: the bin folder of the virtual
environment the first command makes (``python3 -m venv DIR``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def opening_block(readme: str) -> list[str]:
    match = re.search(r"^```(?:sh|bash)\n(.*?)^```", readme, re.M | re.S)
    if match is None:
        raise SystemExit("README.md: no ```sh block")
    return [line for line in match[1].splitlines() if line.strip()]


def command(line: str) -> str:
    """The line without a trailing ``# comment`` (outside quotes, after whitespace)."""
    return re.sub(r"\s+#[^'\"]*$", "", line).strip()


def main(what: str, path: str) -> str:
    lines = opening_block(Path(path).read_text(encoding="utf-8"))
    if what == "first":
        return command(lines[0])
    if what == "test":
        return command(lines[1])
    if what == "venv-bin":
        venv = re.search(r"python3 -m venv (\S+)", lines[0])
        if venv is None:
            raise SystemExit("README.md: the first command makes no venv (python3 -m venv DIR)")
        return f"{venv[1]}/bin"
    raise SystemExit(f"unknown: {what}")


if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2]))
