"""A read-only client of one Python package index: PEP 691 JSON, else PEP 503 HTML.

Only the project page (``/simple/NAME/``) is used: never the per-version JSON API, which
some index front-ends do not serve. Project pages are cached on disk and revalidated
with ETag / Last-Modified; a file's size (and its bytes' sha256) is cached once checked.
A size the page does not list is asked with a HEAD request when the page lists the sha256;
a file whose sha256 is not listed is downloaded to hash it, into the shared store (when
given), so `vendor` does not fetch it again.
What may pass (429, 5xx, timeouts, dropped connections) is retried with backoff.
Credentials stay in memory: they are sent only to the index's own host (or taken from
netrc per host), and never appear in a message, a cache key or a cache file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urljoin, urlsplit

import httpx
from packaging.utils import canonicalize_name

from ..errors import SourceError
from ..util.atomic import atomic_write_text
from ..util.redact import public_url, url_without_credentials
from ..util.store import Store
from .fetchfile import fetch_to_file
from .retry import (
    DEFAULT_POLICY,
    RETRY_STATUSES,
    RetryPolicy,
    Transient,
    parse_retry_after,
    transport_problem,
)
from .retry import with_retries as _with_retries

PEP691 = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{PEP691}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
_CHUNK = 1 << 20
_IDENTITY = {"Accept-Encoding": "identity"}  # a HEAD's Content-Length is then the file's size
_T = TypeVar("_T")


def _retry_after(resp: httpx.Response) -> float | None:
    return parse_retry_after(resp.headers.get("retry-after"))


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexFile:
    """One file of a project as the index lists it; ``sha256`` is bare hex when listed,
    ``upload_time`` the PEP 700 ``upload-time`` (RFC 3339) of a PEP 691 page."""

    filename: str
    url: str
    sha256: str | None = None
    size: int | None = None
    requires_python: str | None = None
    yanked: bool = False
    upload_time: str | None = None


def split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """``url`` without user info, and the user info as basic auth (if any)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    auth = httpx.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
    return url_without_credentials(url), auth


def _netrc_auth() -> httpx.Auth | None:
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    return httpx.NetRCAuth(path) if os.path.isfile(path) else None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.tags = 0
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        if tag == "a":
            self._open = dict(attrs)
            self._open["#text"] = ""
            self.links.append(self._open)

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["#text"] = (self._open["#text"] or "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None


def _hash_from_url(url: str) -> tuple[str, str | None]:
    base, _, frag = url.partition("#")
    for item in frag.split("&"):
        algo, _, value = item.partition("=")
        if algo == "sha256" and re.fullmatch(r"[0-9a-fA-F]{64}", value):
            return base, value.lower()
    return base, None


def parse_html(page_url: str, text: str) -> list[IndexFile] | None:
    """The files of a PEP 503 page, or None if ``text`` is not an HTML page at all."""
    parser = _Links()
    parser.feed(text)
    parser.close()
    if not parser.tags or not re.search(r"<\s*(!doctype|html|body|a)\b", text, re.I):
        return None
    out = []
    for link in parser.links:
        href = link.get("href")
        if not href:
            continue
        url, sha = _hash_from_url(urljoin(page_url, href))
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or (link["#text"] or "").strip()
        out.append(
            IndexFile(
                filename=name,
                url=url,
                sha256=sha,
                requires_python=link.get("data-requires-python"),
                yanked="data-yanked" in link,
            )
        )
    return out


def parse_json(page_url: str, data: Any) -> list[IndexFile] | None:
    """The files of a PEP 691 page, or None if ``data`` is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    out = []
    for f in data["files"]:
        if not isinstance(f, dict) or not isinstance(f.get("filename"), str):
            return None
        url, frag_sha = _hash_from_url(urljoin(page_url, str(f.get("url", ""))))
        hashes = f.get("hashes")
        listed = hashes.get("sha256") if isinstance(hashes, dict) else None
        sha = listed if isinstance(listed, str) else frag_sha
        size = f.get("size")
        rp = f.get("requires-python")
        uploaded = f.get("upload-time")
        out.append(
            IndexFile(
                filename=f["filename"],
                url=url,
                sha256=sha.lower() if sha else None,
                size=size if isinstance(size, int) and size >= 0 else None,
                requires_python=rp if isinstance(rp, str) else None,
                yanked=bool(f.get("yanked")),
                upload_time=uploaded if isinstance(uploaded, str) else None,
            )
        )
    return out


class IndexClient:
    """One index, by logical ``name``; ``url`` may carry credentials (kept in memory only)."""

    retry: RetryPolicy = DEFAULT_POLICY
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(
        self,
        name: str,
        url: str,
        *,
        cache_dir: Path,
        http: httpx.Client,
        store: Store | None = None,
    ) -> None:
        self.name = name
        self.url, self._auth = split_credentials(url.rstrip("/") + "/")
        self._origin = urlsplit(self.url)[:2]
        self._netrc = _netrc_auth() if self._auth is None else None
        self._http = http
        self._pages = cache_dir / "pyindex"
        self._facts = cache_dir / "pyfiles"
        self._store = store

    def where(self) -> str:
        return f"index {self.name!r} ({public_url(self.url)})"

    def _auth_for(self, url: str) -> httpx.Auth | None:
        if self._auth is not None and urlsplit(url)[:2] == self._origin:
            return self._auth
        return self._netrc

    def _retrying(self, attempt: Callable[[], _T], what: str) -> _T:
        return _with_retries(attempt, what=what, policy=self.retry, sleep=self.sleep)

    def _get(self, url: str, headers: dict[str, str], what: str) -> httpx.Response:
        """A GET of ``url``; what may pass is retried, a 429/5xx is never returned."""

        def attempt() -> httpx.Response:
            try:
                resp = self._http.get(url, headers=headers, auth=self._auth_for(url))
            except httpx.TransportError as err:
                raise self._transport(err) from None
            if resp.status_code in RETRY_STATUSES:
                raise Transient(f"answered HTTP {resp.status_code}", _retry_after(resp))
            return resp

        return self._retrying(attempt, what)

    def _transport(self, err: httpx.TransportError) -> Exception:
        return transport_problem(err, self.where(), "pass the index's CA bundle in SSL_CERT_FILE")

    def project(self, name: str) -> list[IndexFile] | None:
        """Every file the index lists for ``name``; None if the index does not know it."""
        url = f"{self.url}{canonicalize_name(name)}/"
        key = hashlib.sha256(f"{self.name}\n{url}".encode()).hexdigest()
        cached = _read_json(self._pages / f"{key}.json")
        headers = {"Accept": ACCEPT}
        if cached and cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        if cached and cached.get("modified"):
            headers["If-Modified-Since"] = cached["modified"]
        resp = self._get(url, headers, f"{self.where()}, project {name!r}")
        if resp.status_code == 304 and cached:
            return self._parse(name, str(resp.url), cached["type"], cached["body"])
        if resp.status_code == 404:
            return None
        if resp.status_code in (401, 403):
            raise SourceError(
                f"{self.where()} refused access (HTTP {resp.status_code}) to project {name!r}; "
                "give credentials in the index URL (https://USER:TOKEN@host/...) or in ~/.netrc"
            )
        if resp.status_code != 200:
            raise SourceError(
                f"{self.where()} answered HTTP {resp.status_code} for project {name!r}; "
                "check the index or retry later"
            )
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        files = self._parse(name, str(resp.url), ctype, resp.text)
        if resp.headers.get("etag") or resp.headers.get("last-modified"):
            entry = {
                "etag": resp.headers.get("etag"),
                "modified": resp.headers.get("last-modified"),
                "type": ctype,
                "body": resp.text,
            }
            atomic_write_text(self._pages / f"{key}.json", json.dumps(entry))
        return files

    def _parse(self, name: str, page_url: str, ctype: str, body: str) -> list[IndexFile]:
        page_url, _ = split_credentials(page_url)
        files: list[IndexFile] | None = None
        if ctype == PEP691 or ctype.endswith("json"):
            try:
                files = parse_json(page_url, json.loads(body))
            except ValueError:
                files = None
        elif ctype in ("text/html", "application/vnd.pypi.simple.v1+html", ""):
            files = parse_html(page_url, body)
        if files is None:
            raise SourceError(
                f"{self.where()} answered something that is not a PEP 691/503 project page "
                f"for {name!r} (content type {ctype or 'none'!r}); is this a package index?"
            )
        return files

    def facts(self, f: IndexFile) -> tuple[str, int]:
        """``(sha256 hex, size)`` of ``f``: as listed; a missing size from a HEAD request
        when the sha256 is listed; else from the file's bytes, downloaded (their hash
        checked against the listed one)."""
        if f.sha256 and f.size is not None:
            return f.sha256, f.size
        key = hashlib.sha256(f"{f.url}\n{f.sha256}".encode()).hexdigest()
        cached = _read_json(self._facts / f"{key}.json")
        if cached and isinstance(cached.get("size"), int):
            return str(cached["sha256"]), int(cached["size"])
        size = self._head_size(f) if f.sha256 else None
        sha, size = (f.sha256, size) if f.sha256 and size is not None else self._stream(f)
        atomic_write_text(self._facts / f"{key}.json", json.dumps({"sha256": sha, "size": size}))
        return sha, size

    def save(self, f: IndexFile, dest: Path, want: str) -> int:
        """Save ``f`` to ``dest`` only if its bytes hash to ``want`` (``sha256:<hex>``); its
        size. Plain http only from an index reached over plain http."""
        return fetch_to_file(
            self._http,
            f.url,
            dest,
            want=want,
            what=f"{self.where()}, file {f.filename!r}",
            allow_http=self.url.startswith("http://"),
            auth=self._auth_for(f.url),
            policy=self.retry,
            sleep=self.sleep,
        )

    def _head_size(self, f: IndexFile) -> int | None:
        """The size of ``f`` as one HEAD request's Content-Length says; None when the server
        does not say it plainly (a failure, no length, an encoded body, a status other than
        200): the download then learns it, with its own retries and errors."""
        try:
            resp = self._http.request("HEAD", f.url, headers=_IDENTITY, auth=self._auth_for(f.url))
        except httpx.TransportError:
            return None
        length = resp.headers.get("content-length", "")
        encoded = resp.headers.get("content-encoding", "identity").strip().lower() != "identity"
        if resp.status_code != 200 or encoded or not length.isdigit():
            return None
        return int(length)

    def _stream(self, f: IndexFile) -> tuple[str, int]:
        what = f"{self.where()}, file {f.filename!r}"
        got, size = self._retrying(lambda: self._download(f), what)
        if f.sha256 and got != f.sha256:
            raise SourceError(
                f"{f.filename!r} from {self.where()} hashes to sha256:{got} but the index lists "
                f"sha256:{f.sha256}; the index or a proxy serves wrong bytes, do not use it"
            )
        return got, size

    def _download(self, f: IndexFile) -> tuple[str, int]:
        """One try at ``f``'s sha256 and size, streamed (into the store, when given: an
        entry only when the bytes hash to the listed sha256, if one is listed)."""
        with contextlib.ExitStack() as stack:
            keep = stack.enter_context(self._store.writer("wheel")) if self._store else None
            digest, size = hashlib.sha256(), 0
            try:
                with self._http.stream("GET", f.url, auth=self._auth_for(f.url)) as resp:
                    if resp.status_code in RETRY_STATUSES:
                        raise Transient(f"answered HTTP {resp.status_code}", _retry_after(resp))
                    if resp.status_code != 200:
                        raise SourceError(
                            f"{self.where()} answered HTTP {resp.status_code} for file "
                            f"{f.filename!r}; check the index"
                        )
                    for chunk in resp.iter_bytes(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        if keep is not None:
                            keep.write(chunk)
            except httpx.TransportError as err:
                raise self._transport(err) from None
            got = digest.hexdigest()
            if keep is not None and f.sha256 in (None, got):
                keep.commit()
            return got, size


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
