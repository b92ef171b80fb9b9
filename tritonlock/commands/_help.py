"""One way to add a command's parser: its description wrapped, its Examples kept as written."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


class _Formatter(argparse.HelpFormatter):
    """Descriptions are wrapped; an epilog that starts with "Examples:" is kept line by line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("Examples:"):
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def add_command(
    sub: Subparsers,
    name: str,
    help: str,
    description: str,
    examples: Sequence[str],
) -> argparse.ArgumentParser:
    """The parser of ``name``; its ``--help`` ends with ``examples`` (one command a line,
    with an optional ``#`` comment)."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog="Examples:\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=_Formatter,
    )
