"""Apt packages of the recipe: each named package → the exact version apt would install.

For every request, the Packages indexes of the base distribution and of the request's
own ``deb`` lines are read (``Packages.xz``, else ``.gz``, else plain, as the suite's
``InRelease``/``Release`` lists them) and each index is checked against that file's
SHA256 list. The OpenPGP signature of ``InRelease``/``Release`` is NOT verified: use
https (required, except on loopback) and a dated snapshot. The highest version
satisfying the request (apt's ``name=version`` / ``name=prefix*`` matching, dpkg order)
becomes the pin. Only the named packages are pinned, never their dependencies.
"""

from __future__ import annotations

import bz2
import hashlib
import lzma
import re
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tritonlock.errors import ResolveError, SourceError, UsageError
from tritonlock.model import Apt, AptPin
from tritonlock.sources import debian
from tritonlock.sources.mirrors import rewrite as mirrored
from tritonlock.sources.retry import (
    DEFAULT_POLICY,
    RetryPolicy,
    Transient,
    check_status,
    transport_problem,
    with_retries,
)
from tritonlock.util.atomic import atomic_write_bytes
from tritonlock.util.redact import redact

TLS_HINT = "set SSL_CERT_FILE for a local CA"

__all__ = ["AptRequest", "AptSource", "resolve_apt", "select_version", "ubuntu_snapshot_source"]

ARCHITECTURES = frozenset({"amd64", "arm64", "armhf", "i386", "ppc64el", "riscv64", "s390x"})
SNAPSHOT = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]{0,99}$")
_PIN_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]{0,99}$")
_STEP = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_MAX_RELEASE = 16 << 20
_MAX_INDEX = 1 << 30
_MAX_REDIRECTS = 10
# Which form of a Packages index to read, best first (bz2 only when nothing else is listed).
_SUFFIXES = (".xz", ".gz", "", ".bz2")


@dataclass(frozen=True, slots=True, kw_only=True)
class AptRequest:
    """One install step: packages (name, exact version / ``prefix*`` / glob / None) and
    the ``deb`` lines added before it in its stage (shell expansions allowed)."""

    step: str
    packages: tuple[tuple[str, str | None], ...]
    repositories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AptSource:
    """Where the base distribution's indexes are read, e.g. a dated snapshot."""

    url: str
    suites: tuple[str, ...] = ("noble", "noble-updates", "noble-security")
    components: tuple[str, ...] = ("main", "universe", "restricted", "multiverse")

    @property
    def codename(self) -> str:
        """The release codename (``noble``), what ``$VERSION_CODENAME`` expands to."""
        return self.suites[0].split("-", 1)[0] if self.suites else ""


def ubuntu_snapshot_source(snapshot: str, arch: str) -> AptSource:
    """snapshot.ubuntu.com at ``snapshot`` (amd64/i386 in ``ubuntu``, else ``ubuntu-ports``)."""
    archive = "ubuntu" if arch in ("amd64", "i386") else "ubuntu-ports"
    return AptSource(url=f"https://snapshot.ubuntu.com/{archive}/{snapshot}")


@dataclass(frozen=True, slots=True)
class _Dist:
    """One suite of one repository: the directory of its Release file and its indexes
    (paths below it, without compression suffix)."""

    root: str
    indexes: tuple[str, ...]
    label: str


def read_candidates(
    requests: Sequence[AptRequest],
    *,
    arch: str,
    base: AptSource,
    snapshot: str | None,
    mirrors: Sequence[tuple[str, str]] = (),
    timeout: float = 60.0,
    jobs: int = 8,
    progress: Callable[[str], None] | None = None,
    retry: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    cache: Path | None = None,
) -> list[tuple[list[debian.PackageEntry], int]]:
    """For each request: the entries for its packages that the base suites and the
    request's own repositories list for ``arch`` (each index read, and hash-checked, once),
    and how many suites that searched. ``cache``: a folder of index files by their sha256
    (as the Release file lists them): one already there is not downloaded again."""
    _check_inputs(requests, arch=arch, base=base, snapshot=snapshot, mirrors=mirrors)
    base_dists = _base_dists(base, arch)
    extra = [_extra_dists(r, arch, base.codename) for r in requests]
    dists = list(dict.fromkeys([*base_dists, *(d for ds in extra for d in ds)]))
    wanted = {name for r in requests for name, _ in r.packages}
    fetch = _Fetcher(mirrors=mirrors, timeout=timeout, retry=retry, sleep=sleep, cache=cache)
    with fetch:
        found = _read_all(fetch, dists, arch, wanted, jobs, progress)
    out = []
    for own in extra:
        searched = [*base_dists, *own]
        out.append(([e for d in searched for e in found[d]], len(searched)))
    return out


def resolve_apt(
    requests: Sequence[AptRequest],
    *,
    arch: str,
    base: AptSource,
    snapshot: str | None,
    mirrors: Sequence[tuple[str, str]] = (),
    timeout: float = 60.0,
    jobs: int = 8,
    progress: Callable[[str], None] | None = None,
    retry: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    cache: Path | None = None,
) -> Apt:
    """One pin per (step, package); a package asked for twice in a step keeps the later
    request's version (what apt leaves installed)."""
    candidates = read_candidates(
        requests,
        arch=arch,
        base=base,
        snapshot=snapshot,
        mirrors=mirrors,
        timeout=timeout,
        jobs=jobs,
        progress=progress,
        retry=retry,
        sleep=sleep,
        cache=cache,
    )
    pins: dict[tuple[str, str], AptPin] = {}
    for request, (entries, searched) in zip(requests, candidates, strict=True):
        for name, want in request.packages:
            version = select_version(entries, name, want, request.step, searched)
            pins[(request.step, name)] = AptPin(step=request.step, name=name, version=version)
            if progress:
                progress(f"apt {name}{'=' + want if want else ''} → {version} ({request.step})")
    return Apt(snapshot=snapshot, packages=tuple(sorted(pins.values(), key=AptPin.sort_key)))


def _check_inputs(
    requests: Sequence[AptRequest],
    *,
    arch: str,
    base: AptSource,
    snapshot: str | None,
    mirrors: Sequence[tuple[str, str]],
) -> None:
    if arch not in ARCHITECTURES:
        raise UsageError(f"apt architecture {arch!r} is not a Debian one (amd64, arm64, …)")
    if snapshot is not None and not SNAPSHOT.match(snapshot):
        raise UsageError(f"apt snapshot {snapshot!r} is not like 20250415T000000Z")
    if not base.suites or not base.components:
        raise UsageError(
            f"apt source {redact(base.url)} needs at least one suite and one component"
        )
    for url in (base.url, *(m for pair in mirrors for m in pair)):
        _check_scheme(url, f"apt source {redact(url)}")
    for request in requests:
        if not _STEP.match(request.step):
            raise UsageError(f"apt step {request.step!r} is not a valid step name")
        for name, _ in request.packages:
            if not _NAME.match(name):
                raise ResolveError(
                    f"apt package {name!r} (step {request.step}) is not a plain package name "
                    "(arch qualifiers and /release suffixes cannot be pinned)"
                )


def _allowed(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in _LOOPBACK


def _check_scheme(url: str, what: str) -> None:
    if _allowed(url):
        return
    raise UsageError(
        f"{what}: only https is allowed (plain http only on 127.0.0.1); add an https mirror for it"
    )


def _base_dists(base: AptSource, arch: str) -> list[_Dist]:
    root = base.url.rstrip("/") + "/"
    indexes = tuple(f"{c}/binary-{arch}/Packages" for c in base.components)
    return [_Dist(f"{root}dists/{s}/", indexes, f"{redact(root)} {s}") for s in base.suites]


def _extra_dists(request: AptRequest, arch: str, codename: str) -> list[_Dist]:
    dists = []
    for line in request.repositories:
        try:
            source = debian.parse_deb_line(line, arch=arch, codename=codename)
        except ValueError as err:
            raise ResolveError(
                f"apt step {request.step}: {err}; write it as a plain deb line"
            ) from None
        if source is None:
            continue
        if source.flat:
            root = source.url if source.suite == "/" else source.url + source.suite
            dists.append(_Dist(root, ("Packages",), f"{source.url} {source.suite}"))
        else:
            indexes = tuple(f"{c}/binary-{arch}/Packages" for c in source.components)
            root = f"{source.url}dists/{source.suite}/"
            dists.append(_Dist(root, indexes, f"{source.url} {source.suite}"))
    return dists


# --- reading indexes ----------------------------------------------------------------------


def _read_all(
    fetch: _Fetcher,
    dists: Sequence[_Dist],
    arch: str,
    wanted: set[str],
    jobs: int,
    progress: Callable[[str], None] | None,
) -> dict[_Dist, list[debian.PackageEntry]]:
    """The wanted entries of every dist; each Release file and index is read once."""
    by_root = {d.root: d for d in reversed(dists)}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        releases = dict(zip(by_root, pool.map(fetch.release, by_root.values()), strict=True))
        listed = {d: _listed(d, releases[d.root], arch) for d in dists}
        work = list(dict.fromkeys((d.root, path) for d in dists for path in listed[d]))
        batches = pool.map(lambda w: fetch.index(by_root[w[0]], releases[w[0]], w[1], wanted), work)
        entries: dict[tuple[str, str], list[debian.PackageEntry]] = {}
        for (root, path), batch in zip(work, batches, strict=True):
            entries[(root, path)] = [e for e in batch if e.architecture in (arch, "all")]
            if progress:
                progress(f"apt index {redact(root)}{path}")
    return {d: [e for path in listed[d] for e in entries[(d.root, path)]] for d in dists}


def _listed(dist: _Dist, release: debian.ReleaseFile, arch: str) -> list[str]:
    """The indexes the Release file lists (absent components are skipped, as apt does)."""
    listed = [p for p in dist.indexes if any(p + s in release.sha256 for s in _SUFFIXES)]
    if not listed:
        raise ResolveError(
            f"apt repository {dist.label}: its Release file lists no Packages index for "
            f"{arch} ({', '.join(dist.indexes)}); check the suite, components and architecture"
        )
    return listed


class _Fetcher:
    """HTTP GETs through the mirrors, https only (http on loopback), with retries."""

    def __init__(
        self,
        *,
        mirrors: Sequence[tuple[str, str]],
        timeout: float,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        cache: Path | None = None,
    ) -> None:
        self._cache = cache
        self._mirrors = mirrors
        self._retry = retry
        self._sleep = sleep
        self._http = httpx.Client(timeout=timeout, headers={"Accept-Encoding": "identity"})

    def __enter__(self) -> _Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def release(self, dist: _Dist) -> debian.ReleaseFile:
        for name in ("InRelease", "Release"):
            body = self.get(dist.root + name, limit=_MAX_RELEASE)
            if body is None:
                continue
            try:
                return debian.parse_release(body.decode("utf-8", "replace"))
            except ValueError as err:
                raise SourceError(f"apt repository {dist.label}: {name}: {err}") from None
        raise ResolveError(
            f"apt repository {dist.label}: no InRelease or Release file (404); "
            "check the URL and suite"
        )

    def index(
        self, dist: _Dist, release: debian.ReleaseFile, path: str, wanted: set[str]
    ) -> list[debian.PackageEntry]:
        """The wanted entries of one index, trying each listed form until one is served."""
        for suffix in (s for s in _SUFFIXES if path + s in release.sha256):
            digest, size = release.sha256[path + suffix]
            what = f"apt index {redact(dist.root)}{path}{suffix}"
            if size > _MAX_INDEX:
                raise SourceError(f"{what}: {size} bytes is too large")
            body = self._cached(digest, size)
            if body is None:
                body = self.get(dist.root + path + suffix, limit=size)
                if body is None:
                    continue
                _check_hash(body, digest, size, what)
                self._keep(digest, body)
            text = _decompress(body, suffix, release.sha256.get(path), what)
            return list(debian.parse_packages(text, wanted))
        raise ResolveError(
            f"apt index {redact(dist.root)}{path}: listed in the Release file but not served (404)"
        )

    def _cached(self, digest: str, size: int) -> bytes | None:
        """The index file of this sha256 kept from an earlier read, when it still hashes so."""
        if self._cache is None or not re.fullmatch(r"[0-9a-f]{64}", digest):
            return None
        try:
            body = (self._cache / digest).read_bytes()
        except OSError:
            return None
        ok = len(body) == size and hashlib.sha256(body).hexdigest() == digest
        return body if ok else None

    def _keep(self, digest: str, body: bytes) -> None:
        if self._cache is None or not re.fullmatch(r"[0-9a-f]{64}", digest):
            return
        self._cache.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self._cache / digest, body)

    def get(self, url: str, *, limit: int) -> bytes | None:
        """The body of ``url`` (via its mirror), None on 404/410."""
        source = mirrored(url, self._mirrors)
        what = redact(url) if source == url else f"{redact(url)} (via {redact(source)})"
        return with_retries(
            lambda: self._get_once(source, limit, what),
            what=what,
            policy=self._retry,
            sleep=self._sleep,
        )

    def _get_once(self, url: str, limit: int, what: str) -> bytes | None:
        current = url
        if not _allowed(url):
            raise ResolveError(
                f"{what}: only https is allowed (http only on 127.0.0.1); use a mirror"
            )
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                with self._http.stream("GET", current) as resp:
                    if resp.is_redirect and "location" in resp.headers:
                        current = str(resp.url.join(resp.headers["location"]))
                        if not _allowed(current):
                            raise SourceError(f"{what}: redirected to a non-https URL")
                        continue
                    if resp.status_code in (404, 410):
                        return None
                    _check_status(resp, what)
                    return _read_capped(resp, limit, what)
            except httpx.TransportError as err:
                raise transport_problem(err, what, TLS_HINT) from None
        raise ResolveError(f"{what}: more than {_MAX_REDIRECTS} redirects")


def _check_status(resp: httpx.Response, what: str) -> None:
    check_status(resp, what, {401: "needs credentials; use a mirror", 403: "access denied"})


def _read_capped(resp: httpx.Response, limit: int, what: str) -> bytes:
    chunks, size = [], 0
    for chunk in resp.iter_raw(1 << 16):
        size += len(chunk)
        if size > limit:
            raise SourceError(f"{what}: larger than the {limit} bytes expected")
        chunks.append(chunk)
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) != size:
        raise Transient(f"got {size} of {declared} bytes (truncated)")
    return b"".join(chunks)


def _check_hash(body: bytes, digest: str, size: int, what: str) -> None:
    actual = hashlib.sha256(body).hexdigest()
    if len(body) != size or actual != digest:
        raise SourceError(
            f"{what}: sha256 {actual[:12]}… ({len(body)} bytes) does not match the Release "
            f"file's {digest[:12]}… ({size} bytes); the mirror may be mid-sync or tampered"
        )


def _decompress(body: bytes, suffix: str, plain: tuple[str, int] | None, what: str) -> str:
    """The index text; checked against the Release file's entry for the plain index too."""
    limit = plain[1] if plain else _MAX_INDEX
    try:
        if suffix == ".xz":
            out = lzma.LZMADecompressor().decompress(body, max_length=limit + 1)
        elif suffix == ".gz":
            out = zlib.decompressobj(wbits=31).decompress(body, limit + 1)
        elif suffix == ".bz2":
            out = bz2.BZ2Decompressor().decompress(body, max_length=limit + 1)
        else:
            out = body
    except (lzma.LZMAError, zlib.error, OSError, EOFError) as err:
        raise SourceError(f"{what}: cannot decompress ({err})") from None
    if len(out) > limit:
        raise SourceError(f"{what}: decompresses to more than {limit} bytes")
    if plain and suffix:
        _check_hash(out, plain[0], plain[1], f"{what} (uncompressed)")
    return out.decode("utf-8", "replace")


# --- choosing -----------------------------------------------------------------------------


def select_version(
    found: Sequence[debian.PackageEntry], name: str, want: str | None, step: str, searched: int
) -> str:
    """The highest version of ``name`` matching ``want``; one-line errors otherwise."""
    asked = f"apt package {name}{'=' + want if want else ''} (step {step})"
    if want and want.startswith("/"):
        raise ResolveError(f"{asked}: regular-expression versions are not supported; use a glob")
    versions = {e.version for e in found if e.name == name}
    if not versions:
        providers = sorted({e.name for e in found if name in e.provides})
        if providers:
            raise ResolveError(
                f"{asked} is a virtual package provided by {', '.join(providers)}; "
                "name the one to install"
            )
        raise ResolveError(
            f"{asked}: not found in the {searched} apt suites searched; "
            "check the name, the base snapshot and the repositories added before it"
        )
    ordered = sorted(versions, key=debian.version_key, reverse=True)
    match = next((v for v in ordered if debian.version_matches(want, v)), None)
    if match is None:
        shown = ", ".join(ordered[:8]) + (", …" if len(ordered) > 8 else "")
        raise ResolveError(f"{asked}: no version matches; available: {shown}")
    if not _PIN_VERSION.match(match):
        raise SourceError(f"{asked}: version {match!r} cannot be written to the lock")
    return match
