"""`tritonlock mirror push DIR …`: load a checked bundle into a site's git server, package
index, web server and registry, for `resolve`, `verify --deep` (and builds) with the site's
mirrors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_OK, NegativeResult, UsageError
from ._help import add_command

if TYPE_CHECKING:
    from ._help import Subparsers

PUSH_HELP = "load a bundle of `tritonlock vendor` into the folders a site's servers serve"
EXAMPLES = (
    "tritonlock mirror push bundle/ --git /srv/git --index /srv/www/pypi --files /srv/www",
    "tritonlock mirror push bundle/ --registry registry.site.example:5000",
    "git daemon --base-path=/srv/git --export-all /srv/git   # and a web server of /srv/www",
    "tritonlock resolve 25.04 … --git-mirror https://github.com/=git://git.site.example/"
    "github.com/ --url-mirror https://pypi.org/simple=http://www.site.example/pypi/simple "
    "--url-mirror https://archives.boost.io/=http://www.site.example/archives.boost.io/ "
    "--registry-mirror nvcr.io=registry.site.example:5000   # inside the site: the same lock",
)


def register(sub: Subparsers, help: str) -> None:
    p = add_command(sub, "mirror", help, help + ".", EXAMPLES)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    push = add_command(
        actions,
        "push",
        PUSH_HELP,
        PUSH_HELP + ". The bundle is checked byte by byte first. --git: one bare repository "
        "per repository, <FOLDER>/<host>/<path>.git, holding every pinned commit (under "
        "refs/tritonlock/pin/) and the branches and tags the lock's refs name, at their pins "
        "(a site's older branch is moved to the pin); --index: a static PEP 691 JSON index "
        "(FOLDER/simple/…/index.json, the files in FOLDER/files/) with the upload times the "
        "source index gave, for any web server that serves index.json as "
        "application/vnd.pypi.simple.v1+json; --wheels: every pinned wheel in one folder "
        "(pypiserver's: no upload times); --files: each download at <FOLDER>/<host>/<path> of "
        "its URL; --registry: each image pushed with skopeo, its manifest's bytes and digest "
        "kept. `resolve` inside the site, through --git-mirror, --url-mirror (downloads and "
        "the index) and --registry-mirror, then writes the same lock. Apt packages stay in "
        "the bundle (only `build --vendor` reads them).",
        EXAMPLES,
    )
    push.add_argument("bundle", metavar="DIR", help="the bundle folder (`tritonlock vendor -o`)")
    push.add_argument("--git", metavar="FOLDER", type=Path, help="a git server's base folder")
    push.add_argument(
        "--wheels", metavar="FOLDER", type=Path, help="a pypiserver folder (PEP 503, undated)"
    )
    push.add_argument(
        "--index",
        metavar="FOLDER",
        type=Path,
        help="a static web server's folder: a PEP 691 JSON index with upload times",
    )
    push.add_argument("--files", metavar="FOLDER", type=Path, help="a web server's folder")
    push.add_argument("--registry", metavar="HOST[:PORT]", help="a registry to push images to")
    push.add_argument(
        "--insecure-registry", action="store_true", help="push over plain http (local only)"
    )
    push.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    push.set_defaults(func=run_push)
    p.set_defaults(func=_no_action)


def _no_action(args: argparse.Namespace) -> int:
    del args
    raise UsageError(
        "name an action: tritonlock mirror push DIR … (see `tritonlock mirror --help`)"
    )


def run_push(args: argparse.Namespace) -> int:
    from ..vendor.check import check_folder
    from ..vendor.site import Targets, check_targets, push
    from ._progress import Progress

    to = Targets(
        git=args.git,
        wheels=args.wheels,
        index=args.index,
        files=args.files,
        registry=args.registry,
        insecure=args.insecure_registry,
    )
    check_targets(to)
    folder = Path(args.bundle)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    checked = check_folder(folder)
    if checked.manifest is None or checked.problems:
        more = len(checked.problems) - 1
        raise NegativeResult(
            f"{checked.problems[0]}"
            + (f" (and {more} more)" if more > 0 else "")
            + "; nothing pushed"
        )
    with Progress(quiet=args.quiet) as progress:
        done = push(folder, checked.manifest, to, progress)
    parts = ", ".join(f"{n} {kind}" for kind, n in done.items())
    print(f"pushed {checked.manifest.content_hash} from {folder}/: {parts}")
    return EXIT_OK
