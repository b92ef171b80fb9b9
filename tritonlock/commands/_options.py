"""The option groups shared by `resolve`, `update` and `verify`: where bytes come from,
never what they are (:mod:`._sourceargs` turns them into the resolver's options)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..sources.hosts import GITHUB_ORG, PYPI, UBUNTU_SNAPSHOTS


def add_source_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sources and mirrors (change where bytes come from, never the pins)")
    g.add_argument(
        "--github-organization",
        dest="organization",
        metavar="URL",
        help=f"Triton repos' organization (default: {GITHUB_ORG}; update: the lock's)",
    )
    g.add_argument(
        "--server-ref", metavar="REF", help="server ref (default: rYY.MM of the release)"
    )
    add_mirror_options(g)
    g.add_argument(
        "--index-url",
        metavar="URL",
        help=f"Python package index, PEP 503/691 (default: {PYPI}; update: the lock's "
        "indexes, unless this or --extra-index-url is given)",
    )
    g.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        metavar="[NAME=]URL",
        help="additional index, e.g. a Jetson wheel index (repeatable)",
    )
    g.add_argument(
        "-r",
        "--requirement",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="your own Python requirements, installed into the final image (repeatable; "
        "update: the lock's, unless given)",
    )
    g.add_argument(
        "-c",
        "--constraint",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="constraints applied to every install step (repeatable)",
    )
    g.add_argument(
        "--allow-sdist",
        action="store_true",
        help="accept source distributions where no wheel fits the target (recorded)",
    )
    g.add_argument(
        "--exclude-newer",
        metavar="DATE",
        help="read the package indexes as of DATE: only files uploaded before it (PEP 700 "
        "upload times, which HTML-only indexes lack) are candidates; YYYY-MM-DD (that whole "
        "day, UTC), an RFC 3339 time (e.g. 2025-02-20T18:02:11Z), or 'now' for no cutoff "
        "(default: the server commit's time; update: the lock's; recorded in [inputs])",
    )
    g.add_argument(
        "--apt-snapshot",
        metavar="YYYYMMDDTHHMMSSZ",
        help="apt archive snapshot (default: the server commit's time)",
    )
    add_apt_archive_option(g)
    g.add_argument(
        "--allow-partial",
        action="store_true",
        help="write a partial lock listing what could not be resolved",
    )
    add_cache_dir_option(g)
    g.add_argument(
        "-j", "--jobs", type=int, default=24, help="parallel network requests (default: 24)"
    )
    out = p.add_argument_group("output")
    out.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    out.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def add_apt_archive_option(g: argparse._ArgumentGroup) -> None:
    """Where the dated Ubuntu snapshot is read: shared by resolve, update and verify."""
    g.add_argument(
        "--apt-archive",
        default=UBUNTU_SNAPSHOTS,
        metavar="URL",
        help="Ubuntu snapshot service: <URL>/ubuntu[-ports]/<snapshot>/dists/... "
        "(default: %(default)s)",
    )


def add_mirror_options(g: argparse._ArgumentGroup) -> None:
    """Where bytes come from (never what they must be): shared by resolve, update and verify."""
    g.add_argument(
        "--git-mirror",
        action="append",
        default=[],
        metavar="PREFIX=MIRROR",
        help="fetch git URLs starting with PREFIX from MIRROR (repeatable)",
    )
    g.add_argument(
        "--registry-mirror",
        action="append",
        default=[],
        metavar="REGISTRY=MIRROR",
        help="ask MIRROR for images of REGISTRY (repeatable)",
    )
    g.add_argument(
        "--url-mirror",
        action="append",
        default=[],
        metavar="PREFIX=MIRROR",
        help="download URLs (and package indexes) starting with PREFIX from MIRROR (repeatable)",
    )
    g.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="registry reached over plain http (local mirrors only)",
    )
    g.add_argument("--ca-file", type=Path, metavar="PEM", help="extra CA bundle for registries")
    g.add_argument(
        "--allow-http", action="store_true", help="allow http:// downloads (local mirrors)"
    )


CACHE_DIR_HELP = (
    "the shared cache folder (default: $TRITONLOCK_CACHE_DIR, else "
    "$XDG_CACHE_HOME/tritonlock, else ~/.cache/tritonlock; see `tritonlock cache info`)"
)


def add_cache_dir_option(g: argparse._ArgumentGroup, *, no_cache: str | None = None) -> None:
    """``--cache-dir DIR``; with ``no_cache`` (its help), ``--no-cache`` too."""
    g.add_argument("--cache-dir", type=Path, metavar="DIR", help=CACHE_DIR_HELP)
    if no_cache is not None:
        g.add_argument("--no-cache", action="store_true", help=no_cache)


def cache_root(args: argparse.Namespace) -> Path:
    """The cache folder the options name (see :data:`CACHE_DIR_HELP`)."""
    from ..errors import UsageError
    from ..util.store import ENV, default_root

    given: Path | None = args.cache_dir
    root = given if given is not None else default_root()
    if root.exists() and not root.is_dir():
        where = "--cache-dir" if given is not None else f"cache folder (${ENV} or the default)"
        raise UsageError(f"{where} {root}: exists and is not a folder")
    return root
