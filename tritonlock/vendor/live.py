"""The real sources of `tritonlock vendor`: git remotes, package indexes, OCI registries and
download hosts, each through the mirror options (which change where bytes come from, never
what they must be), reusing the resolvers' clients."""

from __future__ import annotations

import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from ..errors import ResolveError, UsageError
from ..model import UrlPin
from ..resolve.git import is_abbreviation, pick_ref
from ..resolve.images import tls_context
from ..sources import dockerauth
from ..sources.fetchfile import fetch_to_file
from ..sources.gitclient import GitFailed, ls_remote
from ..sources.imageref import apply_mirror, normalize_registry, parse_image_ref
from ..sources.mirrors import rewrite
from ..sources.pyindex import IndexClient, IndexFile
from ..sources.registry import Manifest, Registry
from ..sources.urls import check_url
from ..util.redact import public_url, redact
from . import aptrun
from .aptrepo import AptJob
from .gitbundle import make_bundle
from .layout import GitItem, ImageItem
from .manifest import is_upload_time


@dataclass(frozen=True, slots=True, kw_only=True)
class VendorOptions:
    """Where bytes come from, as for resolve and `verify --deep`."""

    git_mirrors: tuple[tuple[str, str], ...] = ()
    registry_mirrors: tuple[tuple[str, str], ...] = ()
    url_mirrors: tuple[tuple[str, str], ...] = ()
    index_urls: tuple[tuple[str, str], ...] = ()
    insecure_registries: tuple[str, ...] = ()
    ca_file: Path | None = None
    allow_http: bool = False
    jobs: int = 4
    timeout: float = 120.0
    git_timeout: float = 3600.0


@dataclass
class LiveSources:
    """Answers :class:`tritonlock.vendor.run.Sources` from the network, for one run."""

    options: VendorOptions
    index_urls: dict[str, str]
    _http: httpx.Client = field(init=False)
    _registry_http: httpx.Client = field(init=False)
    _registry: Registry = field(init=False)
    _indexes: dict[str, IndexClient] = field(init=False)
    _pages: dict[tuple[str, str], dict[str, IndexFile]] = field(init=False)
    _page_lock: threading.Lock = field(init=False)

    def __enter__(self) -> LiveSources:
        opts = self.options
        self._http = httpx.Client(
            timeout=httpx.Timeout(opts.timeout, connect=15.0),
            verify=ssl.create_default_context(),
        )
        self._registry_http = httpx.Client(
            verify=tls_context(opts.ca_file), timeout=httpx.Timeout(opts.timeout, connect=15.0)
        )
        self._registry = Registry(
            self._registry_http,
            credentials=lambda host: dockerauth.lookup(host),
            insecure=frozenset(opts.insecure_registries),
        )
        cache = Path(tempfile.mkdtemp(prefix="vendor-index-"))
        self._indexes = {
            name: IndexClient(name, url, cache_dir=cache, http=self._http)
            for name, url in self.index_urls.items()
        }
        self._pages = {}
        self._page_lock = threading.Lock()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()
        self._registry_http.close()

    # git --------------------------------------------------------------------------------
    def git_bundle(self, item: GitItem, dest: Path, scratch: Path) -> tuple[str, ...]:
        src = rewrite(item.url, self.options.git_mirrors)
        refs, notes = self._refs(item, src)
        timeout = self.options.git_timeout
        make_bundle(src, item.commits, dest, refs=refs, scratch=scratch, timeout=timeout)
        return notes

    def _refs(self, item: GitItem, src: str) -> tuple[dict[str, str], tuple[str, ...]]:
        """Each ref of ``item`` as the branch or tag ``resolve`` picks upstream (``ls-remote``),
        at the pinned commit (where upstream has moved on, the site gets the lock's view);
        a ref upstream no longer has does not travel (a note says so)."""
        refs: dict[str, str] = {}
        notes: list[str] = []
        for ref, commit in item.refs:
            try:
                listing = ls_remote(src, [ref], timeout=self.options.timeout)
            except GitFailed as err:
                raise ResolveError(f"git {redact(src)}: ls-remote {ref}: {err.reason}") from None
            found = pick_ref(ref, listing)
            if found is None or found[0] == "HEAD":
                what = "HEAD" if ref == "HEAD" else "no branch or tag there now"
                if found is None and is_abbreviation(ref):
                    what = "an abbreviated commit id, no branch or tag"
                notes.append(
                    f"ref {ref!r} is {what}: it does not travel (`resolve` inside a site "
                    "loaded from this bundle may not find it)"
                )
                continue
            refs[found[0]] = commit
        return refs, tuple(notes)

    # wheels -----------------------------------------------------------------------------
    def save_wheel(self, index: str, project: str, filename: str, dest: Path, want: str) -> int:
        client = self._indexes[index]
        listed = self._listed(client, project)
        f = listed.get(filename)
        if f is None:
            raise ResolveError(
                f"{client.where()} no longer lists {filename!r} of {project!r}; the lock pins "
                "a file the index dropped (`tritonlock verify --deep` says which)"
            )
        return client.save(f, dest, want)

    def wheel_uploaded(self, index: str, project: str, filename: str) -> str | None:
        f = self._listed(self._indexes[index], project).get(filename)
        return f.upload_time if f is not None and is_upload_time(f.upload_time) else None

    def _listed(self, client: IndexClient, project: str) -> dict[str, IndexFile]:
        key = (client.name, project)
        with self._page_lock:
            if key in self._pages:
                return self._pages[key]
        files = client.project(project)
        if files is None:
            raise ResolveError(f"{client.where()} does not know project {project!r}")
        page = {f.filename: f for f in files}
        with self._page_lock:
            self._pages[key] = page
        return page

    # downloads --------------------------------------------------------------------------
    def save_download(self, pin: UrlPin, dest: Path) -> int:
        opts = self.options
        check_url(pin.url, allow_http=opts.allow_http)
        src = rewrite(pin.url, opts.url_mirrors)
        via = f" (via {public_url(src)})" if src != pin.url else ""
        return fetch_to_file(
            self._http,
            src,
            dest,
            want=pin.sha256,
            what=f"download {pin.url}{via}",
            allow_http=opts.allow_http,
        )

    # images -----------------------------------------------------------------------------
    def _where(self, item: ImageItem) -> tuple[str, str]:
        return self._mirrored(item.ref)

    def _mirrored(self, ref: str) -> tuple[str, str]:
        mirrors = {normalize_registry(k): v.lower() for k, v in self.options.registry_mirrors}
        return apply_mirror(parse_image_ref(ref), mirrors)

    def apt_closure(self, job: AptJob, images: Path | None, work: Path) -> str:
        """apt in a buildah container of the job's image: the bundle's copy when it has
        one, else pulled by digest (through ``--registry-mirror``)."""
        if images is not None:
            ref, tls = aptrun.layout_view(images, job.digest, work / "image"), True
        else:
            host, repo = self._mirrored(job.image)
            ref = f"docker://{host}/{repo}@{job.digest}"
            tls = host not in self.options.insecure_registries
        timeout = self.options.git_timeout
        return aptrun.closure(job, ref, work, tls_verify=tls, timeout=timeout)

    def image_manifest(self, item: ImageItem) -> Manifest:
        host, repo = self._where(item)
        return self._registry.manifest(host, repo, item.digest, what=f"image {item.ref}")

    def save_blob(self, item: ImageItem, digest: str, dest: Path) -> int:
        host, repo = self._where(item)
        what = f"image {item.ref}: blob {digest[:19]}"
        return self._registry.blob_to_file(host, repo, digest, dest, what=what)


def index_urls(lock_indexes: dict[str, str], given: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The lock's index URLs, overridden by ``--index-url NAME=URL``."""
    return {**lock_indexes, **dict(given)}


def check_indexes(needed: set[str], urls: dict[str, str]) -> None:
    """Every index the wheels to fetch come from has a URL (checked before any fetch)."""
    for name in sorted(needed - set(urls)):
        raise UsageError(
            f"index {name!r} has no URL in the lock; pass --index-url {name}=URL "
            "(credentials from ~/.netrc or in the URL)"
        )
