"""Options shared by `resolve` and `update`: where bytes come from, never what they are."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..sources.hosts import GITHUB_ORG, PYPI, UBUNTU_SNAPSHOTS

if TYPE_CHECKING:  # the resolvers are imported when options are parsed, not to show --help
    from ..model import Lock
    from ..resolve.context import ResolveOptions
    from ..resolve.wheels import IndexSpec


def redact(text: str) -> str:
    """:func:`tritonlock.util.redact.redact`, imported when an error needs it (`verify` start-up
    spares its 6 ms of regular expressions)."""
    from ..util.redact import redact as _redact

    return _redact(text)


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
    g.add_argument(
        "--cache-dir", type=Path, metavar="DIR", help="cache folder (default: ~/.cache/tritonlock)"
    )
    g.add_argument("-j", "--jobs", type=int, default=8, help="parallel requests (default: 8)")
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
        help="download URLs starting with PREFIX from MIRROR (repeatable)",
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


Mirrors = tuple[tuple[str, str], ...]


def mirror_options(args: argparse.Namespace) -> tuple[Mirrors, Mirrors, Mirrors]:
    """(git, registry, URL) mirrors from ``add_mirror_options``, each checked by its
    resolver's own parser (unsafe URLs, credentials, plain http without --allow-http)."""
    from ..resolve.git import parse_mirror
    from ..sources.imageref import parse_registry_mirror

    return (
        tuple(parse_mirror(s) for s in args.git_mirror),
        tuple(parse_registry_mirror(s) for s in args.registry_mirror),
        tuple(_url_mirror(s, args.allow_http) for s in args.url_mirror),
    )


def check_url_option(option: str, value: str, url: str) -> None:
    """A UsageError naming ``option`` when ``url`` (part of its ``value``) cannot be taken
    apart safely, e.g. a password with a raw ``/``: said without echoing the secret."""
    from ..util.redact import BadURL, split_url

    try:
        split_url(url)
    except BadURL as err:
        raise UsageError(f"{option} {redact(value)!r}: the URL {err}") from None


def _url_mirror(spec: str, allow_http: bool) -> tuple[str, str]:
    from ..sources.urls import parse_url_mirror

    prefix, mirror = parse_url_mirror(spec)
    if mirror.startswith("http://") and not allow_http:
        raise UsageError(
            f"--url-mirror {redact(spec)!r}: the mirror is plain http; pass --allow-http"
        )
    return prefix, mirror


def _check_organization(url: str, *, given: bool) -> None:
    """The lock records the repos' URLs under the organization, so it must be one the lock
    can hold; a local copy is a mirror, not an organization."""
    from ..resolve.submodules import lock_url, unsafe_url

    if not given:
        return
    why = unsafe_url(url)
    if why:
        raise UsageError(f"--github-organization {redact(url)!r}: {why}")
    if not lock_url(f"{url}/server"):
        raise UsageError(
            f"--github-organization {redact(url)!r}: the lock records its repos' URLs, which "
            "need a scheme and host (https://, http://, git://, file://HOST/) and no "
            f"credentials; for a local copy pass --git-mirror {GITHUB_ORG}=MIRROR instead"
        )


def _indexes(args: argparse.Namespace) -> tuple[IndexSpec, ...]:
    from ..resolve.update import PRIMARY_INDEX
    from ..resolve.wheels import IndexSpec

    if args.index_url is not None:
        check_url_option("--index-url", args.index_url, args.index_url)
    specs = [IndexSpec(name=PRIMARY_INDEX, url=args.index_url or PYPI)]
    for i, spec in enumerate(args.extra_index_url, start=1):
        name, sep, url = spec.partition("=")
        if not sep or "://" in name:
            name, url = f"extra{i}", spec
        check_url_option("--extra-index-url", spec, url)
        specs.append(IndexSpec(name=name, url=url, extra=True))
    return tuple(specs)


def resolve_options(args: argparse.Namespace, previous: Lock | None = None) -> ResolveOptions:
    """Options from the command line; for `update`, sources not given come from
    ``previous`` (its repos' organization, its indexes, the user's own requirements; its
    wheels' cutoff is kept by :func:`tritonlock.resolve.update.update`)."""
    from ..resolve.context import ResolveOptions
    from ..resolve.cutoff import parse_cutoff
    from ..resolve.update import indexes_of, organization_of, requirements_of
    from ..resolve.wheels import read_requirements_file

    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: must be at least 1")
    if args.apt_snapshot is not None:
        check_snapshot(args.apt_snapshot)
    cutoff = parse_cutoff(args.exclude_newer) if args.exclude_newer is not None else None
    git_mirrors, registry_mirrors, url_mirrors = mirror_options(args)
    check_url_option("--apt-archive", args.apt_archive, args.apt_archive)
    remembered = organization_of(previous) if previous is not None else None
    organization: str = (args.organization or remembered or GITHUB_ORG).rstrip("/")
    _check_organization(organization, given=bool(args.organization))
    requirements = tuple(r for f in args.requirement for r in read_requirements_file(f))
    if previous is not None and not args.requirement:
        requirements = requirements_of(previous)
    indexes = _indexes(args)
    if previous is not None and args.index_url is None and not args.extra_index_url:
        indexes = indexes_of(previous) or indexes
    kwargs: dict[str, object] = dict(
        organization=organization,
        server_ref=args.server_ref,
        git_mirrors=git_mirrors,
        registry_mirrors=registry_mirrors,
        url_mirrors=url_mirrors,
        indexes=indexes,
        allow_partial=args.allow_partial,
        allow_sdist=args.allow_sdist,
        allow_http=args.allow_http,
        insecure_registries=tuple(args.insecure_registry),
        ca_file=args.ca_file,
        apt_snapshot=args.apt_snapshot,
        exclude_newer=cutoff,
        apt_base=args.apt_archive.rstrip("/"),
        requirements=requirements,
        constraints=tuple(c for f in args.constraint for c in read_requirements_file(f)),
        jobs=args.jobs,
    )
    if args.cache_dir is not None:
        kwargs["cache_dir"] = args.cache_dir
    return ResolveOptions(previous=previous, **kwargs)  # type: ignore[arg-type]


def add_lock_argument(p: argparse.ArgumentParser, what: str = "lock file") -> None:
    """The lock, passed the same way to every command: ``LOCK`` (or ``--lock LOCK``)."""
    p.add_argument("lock", nargs="?", metavar="LOCK", help=f"{what} (default: triton.lock)")
    p.add_argument("--lock", dest="lock_option", metavar="LOCK", help="the same as LOCK")


def lock_path(args: argparse.Namespace) -> str:
    """The lock of :func:`add_lock_argument`; giving both forms is a usage error."""
    if args.lock is not None and args.lock_option is not None:
        raise UsageError(f"give the lock once: {args.lock!r} or --lock {args.lock_option!r}")
    path: str = args.lock or args.lock_option or "triton.lock"
    return path


def check_output_file(path: str, option: str) -> None:
    """An output file can be written at ``path``: not a folder, in a folder that exists and
    is writable (checked before any work, so a long resolve never ends in a bad path)."""
    out = Path(path)
    if out.is_dir():
        raise UsageError(f"{option} {path}: is a directory; give a file name")
    parent = out.parent
    if not parent.exists():
        above = next((p for p in parent.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise UsageError(f"{option} {path}: {above} is a file, not a folder")
        raise UsageError(f"{option} {path}: folder {parent} does not exist; create it first")
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: folder {parent} is not writable")


def check_snapshot(value: str) -> None:
    """``--apt-snapshot``: a snapshot.ubuntu.com timestamp, ``YYYYMMDDTHHMMSSZ``."""
    import datetime

    try:
        datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise UsageError(
            f"--apt-snapshot {value!r}: expected a UTC time YYYYMMDDTHHMMSSZ, e.g. 20250415T000000Z"
        ) from None
