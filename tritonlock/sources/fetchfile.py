"""Saving a file whose sha256 is known in advance: streamed to ``<dest>.part`` through
sha256, renamed into place only when it matches, so ``dest`` never holds other bytes.

The ``.part`` file is removed on failure and on Ctrl-C (:mod:`tritonlock.util.interrupt`).
What may pass (429, 5xx, timeouts, truncated bodies) is retried with backoff; every other
answer is a one-line error naming what was fetched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ..errors import ResolveError, SourceError
from ..util import interrupt
from .retry import (
    DEFAULT_POLICY,
    RetryPolicy,
    Transient,
    check_status,
    transport_problem,
    with_retries,
)

_CHUNK = 1 << 20
MAX_REDIRECTS = 10


def part_of(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def save_stream(
    chunks: Iterable[bytes], dest: Path, *, want: str, what: str, declared: int | None = None
) -> int:
    """Write ``chunks`` to ``dest`` if they hash to ``want`` (``sha256:<hex>``); their size.
    A mismatch is a :class:`SourceError` and leaves nothing behind; fewer or more bytes than
    ``declared`` (a Content-Length) is :class:`Transient` (a truncated answer)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_of(dest)
    interrupt.temporary(part)
    digest, size = hashlib.sha256(), 0
    try:
        with open(part, "wb") as fh:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if declared is not None and declared != size:
            raise Transient(f"got {size} of {declared} bytes (truncated)")
        got = "sha256:" + digest.hexdigest()
        if got != want:
            raise SourceError(
                f"{what}: the bytes received hash to {got}, not the pinned {want}; "
                "the source or a proxy serves other bytes than the lock pins"
            )
        os.replace(part, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
        interrupt.settled(part)
    return size


def fetch_to_file(
    http: httpx.Client,
    url: str,
    dest: Path,
    *,
    want: str,
    what: str,
    allow_http: bool = False,
    auth: httpx.Auth | None = None,
    headers: dict[str, str] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Save the bytes at ``url`` to ``dest``, checked against ``want``; their size. Redirects
    are followed by hand so that each hop obeys the scheme rule (https, or http when
    ``allow_http``)."""
    return with_retries(
        lambda: _once(http, url, dest, want, what, allow_http, auth, headers or {}),
        what=what,
        policy=policy,
        sleep=sleep,
    )


def _once(
    http: httpx.Client,
    url: str,
    dest: Path,
    want: str,
    what: str,
    allow_http: bool,
    auth: httpx.Auth | None,
    headers: dict[str, str],
) -> int:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        _check_scheme(current, allow_http, what)
        same = urlsplit(current)[:2] == urlsplit(url)[:2]
        try:
            with http.stream(
                "GET",
                current,
                auth=auth if same else None,
                headers={**(headers if same else {}), "Accept-Encoding": "identity"},
                follow_redirects=False,
            ) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    current = str(resp.url.join(resp.headers["location"]))
                    continue
                _check_status(resp, what)
                return save_stream(
                    resp.iter_raw(_CHUNK), dest, want=want, what=what, declared=declared(resp)
                )
        except httpx.TransportError as err:
            raise transport_problem(err, what, "set SSL_CERT_FILE for a local CA") from None
    raise ResolveError(f"{what}: more than {MAX_REDIRECTS} redirects")


def declared(resp: httpx.Response) -> int | None:
    """The Content-Length of ``resp`` (None when absent or not a number)."""
    value = resp.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _check_scheme(url: str, allow_http: bool, what: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise SourceError(f"{what}: {scheme or 'relative'} URL; only https (or --allow-http)")


_HINTS = {
    401: "needs credentials",
    403: "access denied",
    404: "not found; the file moved or the URL is wrong",
}


def _check_status(resp: httpx.Response, what: str) -> None:
    check_status(resp, what, _HINTS, "unexpected answer")
