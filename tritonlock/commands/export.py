"""`tritonlock export requirements|sbom|pylock [LOCK]`: a lock's pins in other tools' formats."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_OK
from ..export.requirements import check_complete, export_requirements, load_checked
from ..util.atomic import atomic_write_text
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers
from ._lockarg import add_lock_argument, check_output_file, lock_path
from ._sourceargs import named_index_url

FORMATS = ("cyclonedx-json", "spdx-json")  # tritonlock.export.sbom.FORMATS, without its import
REQ_HELP = (
    "write the lock's wheel pins as a pip requirements file with --hash=sha256: lines, "
    "for `pip install --require-hashes --no-deps -r FILE`"
)
REQ_EXAMPLES = (
    "tritonlock export requirements triton.lock --step final-vllm -o requirements.txt",
    "pip install --require-hashes --no-deps -r requirements.txt",
)
SBOM_HELP = (
    "write an SBOM of the lock: one component per git pin, submodule, wheel file, image, "
    "download and apt package, with purls, sha256 hashes and the dependencies build → image "
    "→ install step → component (needs `pip install 'tritonlock[sbom]'`)"
)
SBOM_EXAMPLES = (
    "tritonlock export sbom triton.lock -o sbom.cdx.json",
    "tritonlock export sbom --format spdx-json -o sbom.spdx.json",
    "SOURCE_DATE_EPOCH=0 tritonlock export sbom   # the same bytes on every run",
)
PYLOCK_HELP = (
    "write one install step as a PEP 751 pylock.toml for the target's Python and platform: "
    "every package at its pinned version, every file with its URL, size and sha256 (the "
    "URLs are read from the step's indexes, whose listing must still match the lock)"
)
PYLOCK_EXAMPLES = (
    "tritonlock export pylock --step final-vllm triton.lock -o pylock.toml",
    "uv pip install -r pylock.toml   # or: pip install -r pylock.toml",
    "tritonlock export pylock --step user --index-url private=https://USER:TOKEN@host/simple",
)
EXAMPLES = (REQ_EXAMPLES[0], SBOM_EXAMPLES[0], PYLOCK_EXAMPLES[0])


def register(sub: Subparsers, help: str) -> None:
    p = add_command(sub, "export", help, help + ".", EXAMPLES)
    formats = p.add_subparsers(dest="format", metavar="FORMAT", parser_class=type(p))
    r = add_command(formats, "requirements", REQ_HELP, REQ_HELP + ".", REQ_EXAMPLES)
    add_lock_argument(r)
    r.add_argument("--step", help="install step to export (default: all, if they agree)")
    _output_option(r)
    _partial_option(
        r, "export a partial lock's pinned wheels anyway (its unresolved ones are missing)"
    )
    r.set_defaults(func=run_requirements)
    s = add_command(formats, "sbom", SBOM_HELP, SBOM_HELP + ".", SBOM_EXAMPLES)
    add_lock_argument(s)
    s.add_argument(
        "--format",
        dest="sbom_format",
        choices=FORMATS,
        default=FORMATS[0],
        help="CycloneDX 1.6 or SPDX 2.3 JSON (default: %(default)s)",
    )
    _output_option(s)
    _partial_option(s, "export a partial lock's pins anyway (the unresolved ones are listed)")
    s.set_defaults(func=run_sbom)
    y = add_command(formats, "pylock", PYLOCK_HELP, PYLOCK_HELP + ".", PYLOCK_EXAMPLES)
    add_lock_argument(y)
    y.add_argument("--step", required=True, help="the install step to export")
    _output_option(y)
    y.add_argument(
        "--index-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="URL of the lock's index NAME (overrides [[index]] url; credentials in the URL "
        "or from netrc are used to read it, never written; repeatable)",
    )
    y.set_defaults(func=run_pylock)
    p.set_defaults(func=lambda _args: p.error("name a format: requirements, sbom, pylock"))


def _output_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", help="file to write (default: standard output)")


def _partial_option(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--allow-partial", action="store_true", help=help)


def run_requirements(args: argparse.Namespace) -> int:
    path = lock_path(args)
    if args.output:
        check_output_file(args.output, "-o")
    lock = load_checked(path)
    if not args.allow_partial:
        check_complete(lock, path, args.step)
    return _emit(args.output, export_requirements(lock, args.step))


def run_sbom(args: argparse.Namespace) -> int:
    from ..export.sbom import created_at, sbom

    path = lock_path(args)
    if args.output:
        check_output_file(args.output, "-o")
    created = created_at(os.environ)
    lock = load_checked(path)
    if not args.allow_partial:
        check_complete(lock, path, None)
    return _emit(args.output, sbom(lock, args.sbom_format, created))


def run_pylock(args: argparse.Namespace) -> int:
    from ..export.fileurls import file_urls
    from ..export.pylock import export_pylock

    path = lock_path(args)
    if args.output:
        check_output_file(args.output, "-o")
    given = dict(named_index_url(s) for s in args.index_url)
    lock = load_checked(path)
    check_complete(lock, path, args.step)
    return _emit(args.output, export_pylock(lock, args.step, given, file_urls))


def _emit(output: str | None, text: str) -> int:
    if output:
        atomic_write_text(Path(output), text, output=True)
    else:
        sys.stdout.write(text)
    return EXIT_OK
