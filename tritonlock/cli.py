"""The command line: parse options, call the library, render, map errors to exit codes.

Each command lives in ``tritonlock/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
``(args) -> int`` handler. ``main`` is the only place that turns exceptions
into exit codes (see :func:`tritonlock.errors.exit_code`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from . import __version__
from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, TritonLockError, exit_code

# Order here is the order in `tritonlock --help`.
COMMANDS = ("resolve", "update", "verify", "hash", "diff", "export", "build")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line on stderr and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


class _OneLineHelp(argparse.HelpFormatter):
    """`tritonlock --help` lists each command on one line, however narrow the terminal."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return [" ".join(text.split())]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tritonlock",
        formatter_class=_OneLineHelp,
        description=(
            "Pin every input of an NVIDIA Triton Inference Server source build "
            "(git commits, submodules, wheels, images, downloads) into a content-hashed "
            "triton.lock, check it, diff it, and build from it hermetically."
        ),
        epilog="Exit codes: 0 ok, 1 negative result (e.g. verify failed), 2 bad input or usage, "
        "130 interrupted. Run `tritonlock COMMAND --help` for each command.",
    )
    parser.add_argument("--version", action="version", version=f"tritonlock {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        code: int = args.func(args)
        return code
    except KeyboardInterrupt:
        print("tritonlock: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TritonLockError as err:
        print(f"tritonlock: error: {err}", file=sys.stderr)
        return exit_code(err)
    except BrokenPipeError:
        return 0
    except Exception as err:  # a bug: still one line, never a traceback
        print(
            f"tritonlock: internal error: {type(err).__name__}: {' '.join(str(err).split())}; "
            "this is a bug in tritonlock, please report it",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
