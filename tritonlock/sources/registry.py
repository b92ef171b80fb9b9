"""A small OCI distribution client (httpx): manifests and blobs by tag or digest.

Every manifest is asked for with the four media types we accept (OCI index, Docker
manifest list, OCI manifest, Docker v2 manifest): a registry answers differently to
each, down-converting or even 404-ing when one is missing. The bytes received are
hashed and must match the registry's ``Docker-Content-Digest`` and any digest asked for.
Auth follows the registry's challenge: Basic, or a Bearer token from its realm.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tritonlock.errors import ResolveError, SourceError
from tritonlock.sources.dockerauth import Credentials, env_var_for
from tritonlock.sources.fetchfile import declared, save_stream
from tritonlock.sources.retry import (
    DEFAULT_POLICY,
    RETRY_STATUSES,
    RetryPolicy,
    Transient,
    parse_retry_after,
    transport_problem,
    with_retries,
)

TLS_HINT = "pass a CA file or fix the chain"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join(MANIFEST_TYPES)
MAX_MANIFEST = 4 * 1024 * 1024

CredentialLookup = Callable[[str], Credentials | None]


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # lowercase: "basic" or "bearer"
    params: Mapping[str, str] = field(default_factory=dict)


def parse_challenge(header: str | None) -> Challenge | None:
    """``Bearer realm="…",service="…",scope="…"`` → Challenge; None if unusable."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {
        k.lower(): quoted if quoted or not bare else bare
        for k, quoted, bare in re.findall(r'([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))', rest)
    }
    return Challenge(scheme.lower(), params)


@dataclass(frozen=True, slots=True)
class Manifest:
    media_type: str
    digest: str
    body: bytes

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def data(self) -> dict[str, Any]:
        value = json.loads(self.body)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return value


def sha256_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _content_type(resp: httpx.Response) -> str:
    value: str = resp.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


class Registry:
    """Talks to registries; thread-safe; one instance per resolve run."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        credentials: CredentialLookup,
        insecure: frozenset[str] = frozenset(),
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._insecure = insecure
        self._policy = policy
        self._sleep = sleep
        self._auth: dict[tuple[str, str], str] = {}
        self._creds: dict[str, Credentials | None] = {}
        self._lock = threading.Lock()

    def manifest(self, host: str, repo: str, reference: str, *, what: str) -> Manifest:
        """The manifest (or index) at ``reference``, its digest checked against its bytes."""
        resp = self._get(host, repo, f"manifests/{reference}", ACCEPT, what=what)
        media_type = _content_type(resp)
        if media_type not in MANIFEST_TYPES:
            raise SourceError(
                f"{what}: registry answered with content type {media_type or 'none'!r}, "
                "not an OCI/Docker v2 manifest or index"
            )
        body = resp.content
        digest = self._check_digest(resp, body, reference, what)
        manifest = Manifest(media_type, digest, body)
        try:
            declared = manifest.data().get("mediaType", media_type)
        except ValueError:
            raise SourceError(f"{what}: manifest {digest} is not a JSON object") from None
        if declared != media_type:
            raise SourceError(f"{what}: content type {media_type} but the manifest says {declared}")
        return manifest

    def blob(self, host: str, repo: str, digest: str, *, what: str) -> bytes:
        """A (small) blob by digest, e.g. an image config; its sha256 checked."""
        resp = self._get(host, repo, f"blobs/{digest}", "*/*", what=what)
        if sha256_digest(resp.content) != digest:
            raise SourceError(f"{what}: blob {digest} does not hash to its digest")
        return resp.content

    def blob_to_file(self, host: str, repo: str, digest: str, dest: Path, *, what: str) -> int:
        """A blob of any size (an image layer) by digest, streamed to ``dest`` only if its
        bytes hash to ``digest``; its size."""
        url = self._url(host, repo, f"blobs/{digest}")
        return with_retries(
            lambda: self._stream_blob(host, repo, url, digest, dest, what),
            what=what,
            policy=self._policy,
            sleep=self._sleep,
        )

    def _stream_blob(
        self, host: str, repo: str, url: str, digest: str, dest: Path, what: str
    ) -> int:
        with self._lock:
            auth = self._auth.get((host, repo))
        for first in (True, False):
            headers = {"Accept": "*/*", **({"Authorization": auth} if auth else {})}
            try:
                # httpx drops Authorization on a redirect to another origin (blob storage)
                with self._http.stream("GET", url, headers=headers, follow_redirects=True) as resp:
                    if resp.status_code == 401 and first:
                        challenge = parse_challenge(resp.headers.get("www-authenticate"))
                        auth = self._authorize(host, repo, challenge, what)
                        with self._lock:
                            self._auth[(host, repo)] = auth
                        continue
                    self._checked(resp, host, what)
                    chunks = resp.iter_raw(1 << 20)
                    return save_stream(
                        chunks, dest, want=digest, what=what, declared=declared(resp)
                    )
            except httpx.TransportError as err:
                raise transport_problem(err, what, TLS_HINT) from None
        raise ResolveError(f"{what}: registry {host} rejected the credentials (401)")

    def _check_digest(self, resp: httpx.Response, body: bytes, reference: str, what: str) -> str:
        digest = sha256_digest(body)
        header = resp.headers.get("docker-content-digest")
        if header and header.startswith("sha256:") and header != digest:
            raise SourceError(
                f"{what}: the registry's Docker-Content-Digest {header} does not match the "
                f"sha256 of the bytes received ({digest}); a proxy or mirror altered them"
            )
        if reference.startswith("sha256:") and reference != digest:
            raise SourceError(f"{what}: asked for {reference} but the bytes hash to {digest}")
        return digest

    def _url(self, host: str, repo: str, path: str) -> str:
        scheme = "http" if host in self._insecure else "https"
        return f"{scheme}://{host}/v2/{repo}/{path}"

    def _get(self, host: str, repo: str, path: str, accept: str, *, what: str) -> httpx.Response:
        url = self._url(host, repo, path)
        return with_retries(
            lambda: self._attempt(host, repo, url, accept, what),
            what=what,
            policy=self._policy,
            sleep=self._sleep,
        )

    def _attempt(self, host: str, repo: str, url: str, accept: str, what: str) -> httpx.Response:
        key = (host, repo)
        with self._lock:
            auth = self._auth.get(key)
        resp = self._send(url, accept, auth, what)
        if resp.status_code == 401:
            challenge = parse_challenge(resp.headers.get("www-authenticate"))
            auth = self._authorize(host, repo, challenge, what)
            with self._lock:
                self._auth[key] = auth
            resp = self._send(url, accept, auth, what)
        return self._checked(resp, host, what)

    def _send(self, url: str, accept: str, auth: str | None, what: str) -> httpx.Response:
        headers = {"Accept": accept}
        if auth:
            headers["Authorization"] = auth
        try:
            resp = self._http.get(url, headers=headers, follow_redirects=True)
        except httpx.TransportError as err:
            raise transport_problem(err, what, TLS_HINT) from None
        if len(resp.content) > MAX_MANIFEST:
            raise SourceError(f"{what}: the registry sent more than {MAX_MANIFEST} bytes")
        return resp

    def _checked(self, resp: httpx.Response, host: str, what: str) -> httpx.Response:
        status = resp.status_code
        if status == 200:
            return resp
        if status in RETRY_STATUSES or status >= 500:
            retry_after = parse_retry_after(resp.headers.get("retry-after"))
            raise Transient(f"registry {host} answered {status}", retry_after)
        if status == 401:
            raise ResolveError(
                f"{what}: registry {host} rejected the credentials (401); run docker login {host} "
                f"or set {env_var_for(host)}"
            )
        if status == 403:
            raise ResolveError(f"{what}: registry {host} denied access (403); check your rights")
        if status == 404:
            raise ResolveError(f"{what}: not found on {host} (404); check the name and tag")
        raise ResolveError(f"{what}: registry {host} answered {status}")

    def _lookup(self, host: str) -> Credentials | None:
        with self._lock:
            if host in self._creds:
                return self._creds[host]
        creds = self._credentials(host)  # may run a credential helper: outside the lock
        with self._lock:
            self._creds[host] = creds
        return creds

    def _authorize(self, host: str, repo: str, challenge: Challenge | None, what: str) -> str:
        creds = self._lookup(host)
        if challenge is None or challenge.scheme not in ("basic", "bearer"):
            raise ResolveError(f"{what}: registry {host} wants authentication we cannot do (401)")
        if challenge.scheme == "basic":
            if creds is None:
                raise ResolveError(
                    f"{what}: registry {host} needs credentials (401); run docker login {host} "
                    f"or set {env_var_for(host)}"
                )
            return _basic(creds)
        return "Bearer " + self._token(host, repo, challenge, creds, what)

    def _token_request(
        self, realm: str, params: dict[str, str], creds: Credentials | None
    ) -> httpx.Response:
        """GET the token with Basic credentials (or none); with an identity token, POST the
        OAuth2 refresh-token grant instead."""
        if creds is not None and creds.identity_token is not None:
            return self._http.post(realm, data=_oauth_form(params, creds.identity_token))
        headers = {"Authorization": _basic(creds)} if creds else {}
        return self._http.get(realm, params=params, headers=headers)

    def _token(
        self, host: str, repo: str, ch: Challenge, creds: Credentials | None, what: str
    ) -> str:
        realm = ch.params.get("realm", "")
        parts = urlsplit(realm)
        plain_ok = parts.scheme == "http" and parts.netloc in self._insecure
        if parts.scheme != "https" and not plain_ok:
            raise SourceError(f"{what}: registry {host} sent a token realm that is not https")
        params = {"scope": ch.params.get("scope") or f"repository:{repo}:pull"}
        if ch.params.get("service"):
            params["service"] = ch.params["service"]
        try:
            resp = self._token_request(realm, params, creds)
        except httpx.TransportError as err:
            raise transport_problem(err, f"{what} (token service)", TLS_HINT) from None
        if resp.status_code in (401, 403):
            raise ResolveError(
                f"{what}: the token service of {host} refused "
                f"{'the credentials' if creds else 'anonymous access'} ({resp.status_code}); "
                f"run docker login {host} or set {env_var_for(host)}"
            )
        self._checked(resp, host, f"{what} (token service)")
        try:
            data = resp.json()
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise SourceError(f"{what}: the token service of {host} sent no token")
        return token


def _oauth_form(params: dict[str, str], refresh_token: str) -> dict[str, str]:
    """The OAuth2 refresh-token grant of the distribution token spec (what docker sends)."""
    return {
        **params,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": "tritonlock",
    }


def _basic(creds: Credentials) -> str:
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()
