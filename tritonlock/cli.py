"""The command line: parse options, call the library, render, map errors to exit codes.

Each command lives in ``tritonlock/commands/<name>.py`` and exposes
``register(subparsers, help)``, which adds its parser and sets ``func`` to a
``(args) -> int`` handler. Only the command being run is imported, so ``--help`` and
``verify`` start fast. ``main`` is the only place that turns exceptions into exit codes
(see :func:`tritonlock.errors.exit_code`); Ctrl-C is :mod:`tritonlock.util.interrupt`'s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from . import __version__
from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, TritonLockError, UsageError, exit_code
from .util import interrupt

# Order here is the order in `tritonlock --help`; the text is each command's one-line help.
COMMANDS = {
    "resolve": "pin every input of a Triton build (upstream's own recipe) into triton.lock",
    "update": "re-resolve the inputs of an existing lock (all, or only the named ones)",
    "verify": "check a lock offline: schema, content hash, consistency and compatibility rules",
    "hash": "print the content hash of a lock (computed from its content, not the one it claims)",
    "diff": "show what changed between two locks (text, markdown for a pull request, or json)",
    "export": "export part of a lock in another tool's format",
    "build": "emit a hermetic build (Dockerfile, hashed requirements, bake file, policy, build.sh)",
    "vendor": "bring every pinned input of a lock into one folder, for builds with no network",
    "mirror": "load a bundle of `vendor` into a site's git server, index, web server, registry",
    "git-setup": "make git diff and merge locks with tritonlock (.gitattributes and git config)",
    "merge-driver": "git's merge driver for locks: a three-way merge entry by entry",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a :class:`UsageError` (one line, exit 2) that points
    at the command's own ``--help``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)", prog=self.prog)

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse asks shutil for the width, and shutil costs every command 4 ms of start-up
        # (bz2, lzma) though argparse makes a formatter for each option it adds.
        return self.formatter_class(prog=self.prog, width=_columns() - 2)  # type: ignore[call-arg]


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size gives it: $COLUMNS, else stdout's
    terminal, else 80."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _OneLineHelp(argparse.HelpFormatter):
    """`tritonlock --help` lists each command on one line, however narrow the terminal."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return [" ".join(text.split())]

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction) and action.help is not argparse.SUPPRESS:
            # argparse measures the command names one indent less deep than it prints them,
            # so the longest (merge-driver) would get its help on a line of its own
            self._action_max_length += self._indent_increment


def _chosen(argv: Sequence[str]) -> str | None:
    """The command named on the command line (its first word that is not an option)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the command named in ``argv`` (every one when None) is imported."""
    parser = _Parser(
        prog="tritonlock",
        formatter_class=_OneLineHelp,
        description=(
            "Pin every input of an NVIDIA Triton Inference Server source build "
            "(git commits, submodules, wheels, images, downloads) into a content-hashed "
            "triton.lock, check it, diff it, and build from it hermetically."
        ),
        epilog="Exit codes: 0 ok, 1 negative result (e.g. verify failed), 2 bad input or usage, "
        "130 interrupted. Run `tritonlock COMMAND --help` for each command. Example: "
        "tritonlock verify locks/25.04-x86_64-python-vllm.lock",
    )
    parser.add_argument("--version", action="version", version=f"tritonlock {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chosen = _chosen(argv) if argv is not None else None
    for name, text in COMMANDS.items():
        if argv is None or name == chosen:
            module = name.replace("-", "_")
            import_module(f".commands.{module}", __package__).register(sub, text)
        else:
            sub.add_parser(name, help=text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    with interrupt.installed():  # from here on, the handler that cleans up
        return _run(words)


def _in_scratch(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command with every temporary file of it in one folder, removed however it
    ends (Ctrl-C included: :mod:`tritonlock.util.interrupt` removes it too)."""
    import tempfile

    scratch = tempfile.mkdtemp(prefix="tritonlock-run-")
    interrupt.temporary(scratch)
    before, tempfile.tempdir = tempfile.tempdir, scratch
    try:
        return func(args)
    finally:
        tempfile.tempdir = before
        interrupt.remove(scratch)


def _run(words: list[str]) -> int:
    as_json = "--json" in words[: words.index("--")] if "--" in words else "--json" in words
    try:
        parser = build_parser(words)
        args, extra = parser.parse_known_args(words)
        if extra:
            prog = " ".join(["tritonlock", *filter(None, [_chosen(words)])])
            raise UsageError(
                f"unrecognized arguments: {' '.join(extra)} (see `{prog} --help`)", prog=prog
            )
        if getattr(args, "func", None) is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        needs_scratch: Callable[[argparse.Namespace], bool] = getattr(
            args, "needs_scratch", lambda _: True
        )
        if not needs_scratch(args):  # offline `verify`: no temporary file, no tempfile import
            return int(args.func(args))
        return _in_scratch(args.func, args)
    except KeyboardInterrupt:  # only where the handler is not installed (not the main thread)
        print("tritonlock: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TritonLockError as err:
        return _failed(str(err), exit_code(err), as_json, getattr(err, "prog", "tritonlock"))
    except BrokenPipeError:
        return 0
    except Exception as err:  # a bug: still one line, never a traceback
        why = f"{type(err).__name__}: {' '.join(str(err).split())}"
        return _failed(
            f"{why}; this is a bug in tritonlock, please report it",
            EXIT_BAD_INPUT,
            as_json,
            "tritonlock",
            kind="internal error",
        )


def _failed(message: str, code: int, as_json: bool, prog: str, kind: str = "error") -> int:
    """The one-line error on stderr; with --json, also ``{"error", "exit"}`` on stdout.
    Credentials in it (an option's value echoed back) are masked."""
    from .util.redact import redact

    message = redact(message)
    print(f"{prog}: {kind}: {message}", file=sys.stderr)
    if as_json:
        import json

        print(json.dumps({"error": message, "exit": code}))
    return code
