"""Where an index serves the files a lock pins: each file's URL, read from the project pages of
the index it came from (PEP 691 JSON, else PEP 503 HTML), for ``export pylock``.

A file the index no longer lists, or lists with another sha256 than the lock, is a negative
result naming it. A URL that would put a credential into the written file (user info, a
secret query parameter, or a part of the index URL that may be a token) is refused.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from ..errors import NegativeResult, UsageError
from ..model import WheelPin
from ..sources.pyindex import IndexClient
from ..util.redact import public_url, redact, secrets_of


def file_urls(
    pins: Sequence[WheelPin], urls: Mapping[str, str], *, timeout: float = 60.0
) -> dict[str, str]:
    """File name → URL for every file of ``pins``, as their indexes list them (``urls``: index
    name → URL, which may carry credentials; they are used, never written)."""
    missing = sorted({p.index for p in pins} - set(urls))
    if missing:
        raise UsageError(
            f"index {missing[0]!r}: the lock records no URL for it (one that carries a "
            f"credential is never recorded); give it with --index-url {missing[0]}=URL"
        )
    scratch = Path(tempfile.mkdtemp(prefix="tritonlock-export-"))
    http = httpx.Client(
        timeout=httpx.Timeout(timeout, connect=15.0),
        follow_redirects=True,
        verify=ssl.create_default_context(),
    )
    try:
        clients = {
            name: IndexClient(name, url, cache_dir=scratch, http=http) for name, url in urls.items()
        }
        out: dict[str, str] = {}
        for pin in pins:
            out |= _pin_urls(pin, clients[pin.index], urls[pin.index])
        return out
    finally:
        http.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _pin_urls(pin: WheelPin, client: IndexClient, index_url: str) -> dict[str, str]:
    listed = {f.filename: f for f in client.project(pin.name) or ()}
    out = {}
    for pinned in pin.files:
        found = listed.get(pinned.name)
        if found is None:
            raise NegativeResult(
                f"{pin.name}=={pin.version}: {client.where()} no longer lists {pinned.name}"
            )
        sha = found.sha256 or client.facts(found)[0]
        if f"sha256:{sha}" != pinned.sha256:
            raise NegativeResult(
                f"{pinned.name}: {client.where()} lists sha256:{sha}, the lock pins "
                f"{pinned.sha256}; run `tritonlock verify --deep`"
            )
        out[pinned.name] = _writable(found.url, index_url, pinned.name)
    return out


def _writable(url: str, index_url: str, name: str) -> str:
    """``url`` if it may be written to a file: nothing in it is a credential."""
    if redact(url) != url or any(s in url for s in secrets_of(index_url)):
        raise UsageError(
            f"{name}: its URL from index {public_url(index_url)} carries a credential and "
            "is not written; export from an index that serves files without one"
        )
    return url
