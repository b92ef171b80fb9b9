"""The source and mirror options (:mod:`._options`) turned into typed values for the
resolver, each checked by its own parser: unsafe URLs, credentials, plain http."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from ..errors import UsageError
from ..sources.hosts import GITHUB_ORG, PYPI

if TYPE_CHECKING:  # the resolvers are imported when options are parsed, not to show --help
    from ..resolve.context import ResolveOptions
    from ..resolve.update import GivenAgain
    from ..resolve.wheels import IndexSpec


def redact(text: str) -> str:
    """:func:`tritonlock.util.redact.redact`, imported when an error needs it (`verify` start-up
    spares its 6 ms of regular expressions)."""
    from ..util.redact import redact as _redact

    return _redact(text)


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


class LiveSourceFields(TypedDict):
    """Where bytes come from, as both `verify --deep` and `vendor` take it (their options
    classes share these fields)."""

    git_mirrors: Mirrors
    registry_mirrors: Mirrors
    url_mirrors: Mirrors
    index_urls: Mirrors
    insecure_registries: tuple[str, ...]
    ca_file: Path | None
    allow_http: bool
    jobs: int


def live_source_fields(args: argparse.Namespace) -> LiveSourceFields:
    """The source options of a command that fetches what a lock pins (`verify --deep`,
    `vendor`), checked before anything is read or fetched."""
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: must be at least 1")
    git_mirrors, registry_mirrors, url_mirrors = mirror_options(args)
    check_url_option("--apt-archive", args.apt_archive, args.apt_archive)
    return LiveSourceFields(
        git_mirrors=git_mirrors,
        registry_mirrors=registry_mirrors,
        url_mirrors=url_mirrors,
        index_urls=tuple(named_index_url(s) for s in args.index_url),
        insecure_registries=tuple(args.insecure_registry),
        ca_file=args.ca_file,
        allow_http=args.allow_http,
        jobs=args.jobs,
    )


def check_url_option(option: str, value: str, url: str) -> None:
    """A UsageError naming ``option`` when ``url`` (part of its ``value``) cannot be taken
    apart safely, e.g. a password with a raw ``/``: said without echoing the secret."""
    from ..util.redact import BadURL, split_url

    try:
        split_url(url)
    except BadURL as err:
        raise UsageError(f"{option} {redact(value)!r}: the URL {err}") from None


def named_index_url(spec: str) -> tuple[str, str]:
    """``--index-url NAME=URL`` of a command that reads a lock's index NAME (verify --deep,
    export pylock): the name and the URL, checked."""
    from ..resolve.wheels import NAME_RE

    name, sep, url = spec.partition("=")
    if not sep or not NAME_RE.match(name) or not url.startswith(("https://", "http://")):
        raise UsageError(
            f"--index-url {redact(spec)!r}: expected NAME=URL, e.g. "
            "pypi=https://pypi.org/simple (NAME as in the lock's [[index]])"
        )
    check_url_option("--index-url", spec, url)
    return name, url


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


def resolve_options(args: argparse.Namespace) -> ResolveOptions:
    """The resolver's options from the command line (each checked by its own parser)."""
    from ..resolve.context import ResolveOptions
    from ..resolve.cutoff import parse_cutoff
    from ..resolve.wheels import read_requirements_file

    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: must be at least 1")
    if args.apt_snapshot is not None:
        check_snapshot(args.apt_snapshot)
    cutoff = parse_cutoff(args.exclude_newer) if args.exclude_newer is not None else None
    git_mirrors, registry_mirrors, url_mirrors = mirror_options(args)
    check_url_option("--apt-archive", args.apt_archive, args.apt_archive)
    organization: str = (args.organization or GITHUB_ORG).rstrip("/")
    _check_organization(organization, given=bool(args.organization))
    opts = ResolveOptions(
        organization=organization,
        server_ref=args.server_ref,
        git_mirrors=git_mirrors,
        registry_mirrors=registry_mirrors,
        url_mirrors=url_mirrors,
        indexes=_indexes(args),
        allow_partial=args.allow_partial,
        allow_sdist=args.allow_sdist,
        allow_http=args.allow_http,
        insecure_registries=tuple(args.insecure_registry),
        ca_file=args.ca_file,
        apt_snapshot=args.apt_snapshot,
        exclude_newer=cutoff,
        apt_base=args.apt_archive.rstrip("/"),
        requirements=tuple(r for f in args.requirement for r in read_requirements_file(f)),
        constraints=tuple(c for f in args.constraint for c in read_requirements_file(f)),
        jobs=args.jobs,
    )
    return opts if args.cache_dir is None else replace(opts, cache_dir=args.cache_dir)


def given_again(args: argparse.Namespace) -> GivenAgain:
    """Which of the sources `update` would otherwise take from the lock the user gave."""
    from ..resolve.update import GivenAgain

    return GivenAgain(
        organization=bool(args.organization),
        indexes=args.index_url is not None or bool(args.extra_index_url),
        requirements=bool(args.requirement),
    )


def check_snapshot(value: str) -> None:
    """``--apt-snapshot``: a snapshot.ubuntu.com timestamp, ``YYYYMMDDTHHMMSSZ``."""
    import datetime

    try:
        datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise UsageError(
            f"--apt-snapshot {value!r}: expected a UTC time YYYYMMDDTHHMMSSZ, e.g. 20250415T000000Z"
        ) from None
