"""Files the recipe downloads: fetch each once, stream it through sha256, record its size.
A download whose SHA256 upstream declares is a fixed-output input: pinned to that hash,
never fetched when locking (``verify --deep`` and the build check the bytes).

The pin keeps the URL as found, even when the bytes came through a redirect or a
``--url-mirror``. Only https, unless ``allow_http`` (local mirrors); redirects obey the
same rule. Bytes are hashed exactly as served (``Accept-Encoding: identity``).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tritonlock.errors import ResolveError, SourceError, TritonLockError, UsageError
from tritonlock.model import Sha256, UrlPin
from tritonlock.sources.mirrors import rewrite as mirrored
from tritonlock.sources.retry import (
    DEFAULT_POLICY,
    RetryPolicy,
    Transient,
    check_status,
    transport_problem,
    with_retries,
)
from tritonlock.sources.revalidate import Seen, Validators
from tritonlock.util.redact import redact
from tritonlock.util.store import Store

TLS_HINT = "set SSL_CERT_FILE for a local CA"

# The lock schema's patterns for url pins.
URL_PATTERN = re.compile(
    r"^(https|http|file)://[A-Za-z0-9._~%+-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+=,-]+)*/?"
    r"(\?[A-Za-z0-9._~%+=,/-]+)?$"
)
FOUND_IN_PATTERN = re.compile(r"^[A-Za-z0-9_.+/:-]{1,300}$")
MAX_REDIRECTS = 10
# A download that moves fewer bytes than this in a whole timeout window has stalled (a
# server dripping bytes never trips the per-read timeout).
STALL_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class _Facts:
    sha256: str
    size: int
    headers: Mapping[str, str] = field(default_factory=dict)  # of a full download


def parse_url_mirror(spec: str) -> tuple[str, str]:
    """``PREFIX=MIRROR`` (both http(s) URLs, no credentials) → (prefix, mirror)."""
    prefix, sep, mirror = spec.partition("=")
    prefix, mirror = prefix.strip(), mirror.strip()
    ok = sep and all(
        urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc and "@" not in u
        for u in (prefix, mirror)
    )
    if not ok:
        raise UsageError(
            f"--url-mirror {redact(spec)!r} is not valid: use PREFIX=MIRROR, e.g. "
            "https://github.com/=https://mirror.example.com/github/ (no credentials)"
        )
    return prefix, mirror


def check_url(url: str, *, allow_http: bool) -> None:
    """UsageError unless ``url`` fits the lock schema and the scheme rule."""
    if not URL_PATTERN.match(url) or urlsplit(url).scheme == "file":
        raise UsageError(f"URL {url!r} cannot be pinned: use a plain https URL without credentials")
    if urlsplit(url).scheme == "http" and not allow_http:
        raise UsageError(f"URL {url} is plain http; use https (allow_http is for local mirrors)")


def resolve_urls(
    requests: Sequence[tuple[str, str]],
    *,
    allow_http: bool = False,
    mirrors: Sequence[tuple[str, str]] = (),
    jobs: int = 8,
    timeout: float = 60.0,
    progress: Callable[[str], None] | None = None,
    retry: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    fixed: Sequence[tuple[str, str, str]] = (),
    cache: Path | None = None,
    store: Store | None = None,
) -> tuple[UrlPin, ...]:
    """One pin per distinct URL (sorted by URL), with every place it was found in; the
    first failure (in URL order) is raised."""
    pins, failures = resolve_urls_partial(
        requests,
        allow_http=allow_http,
        mirrors=mirrors,
        jobs=jobs,
        timeout=timeout,
        progress=progress,
        retry=retry,
        sleep=sleep,
        fixed=fixed,
        cache=cache,
        store=store,
    )
    if failures:
        raise failures[0][1]
    return pins


def resolve_urls_partial(
    requests: Sequence[tuple[str, str]],
    *,
    allow_http: bool = False,
    mirrors: Sequence[tuple[str, str]] = (),
    jobs: int = 8,
    timeout: float = 60.0,
    progress: Callable[[str], None] | None = None,
    retry: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    fixed: Sequence[tuple[str, str, str]] = (),
    cache: Path | None = None,
    store: Store | None = None,
) -> tuple[tuple[UrlPin, ...], tuple[tuple[str, TritonLockError], ...]]:
    """The pins that could be made, and (URL, error) for each URL that failed, by URL.

    ``fixed`` are (url, sha256 hex, found_in) of downloads whose SHA256 upstream declares:
    they are pinned to that hash without being fetched (fixed-output), unless the same
    URL is declared with two different hashes (a failure). Bad options still raise.
    ``cache``: a folder of :mod:`~tritonlock.sources.revalidate` validators; a download
    the server says is unchanged since then is not fetched again. ``store``: the shared
    cache, which every download fetched in full is added to; with one, a validator is
    sent only when the store holds (whole, hashed again) the bytes it was recorded with."""
    found: dict[str, set[str]] = {}
    for url, where in [*requests, *((u, w) for u, _, w in fixed)]:
        check_url(url, allow_http=allow_http)
        if not FOUND_IN_PATTERN.match(where):
            raise UsageError(f"found-in {where!r} for {url} is not valid")
        found.setdefault(url, set()).add(where)
    for prefix, mirror in mirrors:
        if urlsplit(mirror).scheme != "https" and not allow_http:
            raise UsageError(f"--url-mirror {prefix}={mirror} is plain http; allow http for it")
    declared: dict[str, set[str]] = {}
    for url, sha, _ in fixed:
        declared.setdefault(url, set()).add(sha.lower())
    failures: dict[str, TritonLockError] = {}
    for url, hashes in declared.items():
        if len(hashes) > 1 or not re.fullmatch(r"[0-9a-f]{64}", next(iter(hashes))):
            where = ", ".join(sorted(found[url]))
            failures[url] = SourceError(
                f"URL {url}: declared with SHA256 {' and '.join(sorted(hashes))} ({where})"
            )
    fetch = [u for u in found if u not in declared]
    validators = Validators(cache)
    with httpx.Client(timeout=timeout, headers={"Accept-Encoding": "identity"}) as http:

        def one(url: str) -> _Facts | TritonLockError:
            source = mirrored(url, mirrors)
            what = f"URL {url}" + (f" (via {source})" if source != url else "")
            seen = validators.get(source)
            if seen is not None and store is not None and store.get("url", seen.sha256) is None:
                seen = None
            try:
                facts = with_retries(
                    lambda: _download(http, source, allow_http, what, seen, store),
                    what=what,
                    policy=retry,
                    sleep=sleep,
                )
            except TritonLockError as err:
                return err
            if facts.headers:
                validators.keep(source, facts.sha256, facts.size, facts.headers)
            if progress:
                progress(f"{url} → sha256:{facts.sha256[:12]}… ({facts.size} bytes)")
            return facts

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = dict(zip(fetch, pool.map(one, fetch), strict=True))
    pins: list[UrlPin] = []
    for url in sorted(found):
        got = results.get(url)
        if url in failures:
            continue
        if isinstance(got, TritonLockError):
            failures[url] = got
        elif got is None:
            (sha,) = declared[url]
            pins.append(
                UrlPin(
                    url=url,
                    sha256=Sha256(f"sha256:{sha}"),
                    found_in=tuple(sorted(found[url])),
                    fixed_output=True,
                )
            )
        else:
            pins.append(
                UrlPin(
                    url=url,
                    sha256=Sha256(f"sha256:{got.sha256}"),
                    size=got.size,
                    found_in=tuple(sorted(found[url])),
                )
            )
    return tuple(pins), tuple(sorted(failures.items()))


def _download(
    http: httpx.Client,
    url: str,
    allow_http: bool,
    what: str,
    seen: Seen | None = None,
    store: Store | None = None,
) -> _Facts:
    """The sha256 and size of the file at ``url``; ``seen``: as it was last fetched, which
    a 304 (not modified) answer confirms without sending the bytes again; ``store``: where
    the bytes of a full answer are kept."""
    current = url
    conditions = seen.conditions() if seen is not None else {}
    for _ in range(MAX_REDIRECTS + 1):
        try:
            with http.stream("GET", current, headers=conditions) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    current = str(resp.url.join(resp.headers["location"]))
                    _check_hop(current, allow_http, what)
                    continue
                if resp.status_code == 304 and seen is not None:
                    return _Facts(seen.sha256, seen.size)
                _check_status(resp, what)
                if store is None:
                    return _hash_body(resp, what, _window(http))
                with store.writer("url") as keep:
                    facts = _hash_body(resp, what, _window(http), keep.write)
                    keep.commit()
                return facts
        except httpx.TransportError as err:
            raise transport_problem(err, what, TLS_HINT) from None
    raise ResolveError(f"{what}: more than {MAX_REDIRECTS} redirects")


def _check_hop(url: str, allow_http: bool, what: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise SourceError(f"{what}: redirected to a {scheme or 'relative'} URL; only https allowed")


def _check_status(resp: httpx.Response, what: str) -> None:
    status = resp.status_code
    if status == 200:
        content_type = resp.headers.get("content-type", "").lower()
        path = resp.url.path.lower()
        if content_type.startswith("text/html") and not path.endswith((".html", ".htm")):
            raise SourceError(
                f"{what}: the server sent an HTML page instead of the file (a login or error page?)"
            )
        return
    check_status(resp, what, _HINTS, "unexpected answer")


_HINTS = {
    401: "needs authentication, which URL downloads do not send; use a mirror",
    403: "access denied",
    404: "not found; the file moved or the URL is wrong",
}


def _window(http: httpx.Client) -> float:
    """The stall window: the client's read timeout (60 s if none is set)."""
    return http.timeout.read or 60.0


def _hash_body(
    resp: httpx.Response,
    what: str,
    window: float,
    keep: Callable[[bytes], None] | None = None,
) -> _Facts:
    """The sha256 and size of ``resp``'s body, each chunk also given to ``keep``."""
    digest = hashlib.sha256()
    size = 0
    mark, marked = time.monotonic(), 0
    for chunk in resp.iter_raw():
        if keep is not None:
            keep(chunk)
        digest.update(chunk)
        size += len(chunk)
        now = time.monotonic()
        if now - mark >= window:
            if size - marked < STALL_BYTES:
                raise Transient(f"stalled (under {STALL_BYTES // 1024} KiB in {window:g} s)")
            mark, marked = now, size
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) != size:
        raise Transient(f"got {size} of {declared} bytes (truncated)")
    return _Facts(digest.hexdigest(), size, resp.headers)
