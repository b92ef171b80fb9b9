"""`verify --deep` against the real sources: :class:`LiveSources` answers the questions of
:mod:`tritonlock.verify.deep` with git subprocesses, PEP 691/503 indexes, the OCI distribution
API, HTTP downloads and apt archives, reusing the resolvers' clients. No answer is taken
from a cache: a cached answer would prove nothing. Downloads go into the shared cache
(:mod:`tritonlock.util.store`), and one whose pinned bytes the cache holds is asked for
with the validators it was fetched with: a 304 (not modified) is the server's own answer
that the bytes are those, checked locally by hash."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from ..errors import MissingPin, ResolveError
from ..model import Lock
from ..resolve.git import pick_ref
from ..resolve.images import tls_context
from ..sources import dockerauth
from ..sources.gitclient import GitFailed, fetch_commit, ls_remote
from ..sources.imageref import apply_mirror, normalize_registry, parse_image_ref
from ..sources.mirrors import rewrite as fetch_url
from ..sources.pyindex import IndexClient, IndexFile
from ..sources.registry import Registry
from ..sources.urls import resolve_urls
from ..util.redact import redact
from ..util.store import Store
from .apt import AptAnswer, AptSources, read_apt
from .deep import DeepOptions, DeepReport, Listed, Unavailable, plan, run_checks


def verify_deep(
    lock: Lock, options: DeepOptions, *, progress: Callable[[str], None] | None = None
) -> DeepReport:
    """Check every pin of ``lock`` against its source (see the module docstring)."""
    checks = plan(lock, index_urls=dict(options.index_urls), allow_http=options.allow_http)
    with LiveSources(lock, options, progress) as src:
        return run_checks(checks, src, jobs=options.jobs, progress=progress)


# -- the real sources -------------------------------------------------------------------


@dataclass
class LiveSources:
    """The real :class:`Sources`: a scratch folder and HTTP clients for one run."""

    lock: Lock
    options: DeepOptions
    progress: Callable[[str], None] | None = None
    _scratch: Path = field(init=False)
    _http: httpx.Client = field(init=False)
    _registry_http: httpx.Client = field(init=False)
    _indexes: dict[str, IndexClient] = field(init=False)
    _registry: Registry = field(init=False)

    def __enter__(self) -> LiveSources:
        opts = self.options
        self._scratch = Path(tempfile.mkdtemp(prefix="tritonlock-deep-"))
        self._http = httpx.Client(
            timeout=httpx.Timeout(opts.timeout, connect=15.0),
            follow_redirects=True,
            verify=ssl.create_default_context(),
        )
        self._registry_http = httpx.Client(verify=tls_context(opts.ca_file), timeout=opts.timeout)
        self._registry = Registry(
            self._registry_http,
            credentials=lambda host: dockerauth.lookup(host),
            insecure=frozenset(opts.insecure_registries),
        )
        urls = {i.name: fetch_url(i.url, opts.url_mirrors) for i in self.lock.index if i.url}
        urls |= dict(opts.index_urls)
        cache = self._scratch / "cache"
        self._indexes = {
            name: IndexClient(name, url, cache_dir=cache, http=self._http)
            for name, url in urls.items()
        }
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()
        self._registry_http.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _via(self, url: str, src: str) -> str:
        return f" (via mirror {redact(src)})" if src != url else ""

    def git_commit(self, url: str, commit: str) -> None:
        src = fetch_url(url, self.options.git_mirrors)
        work = Path(tempfile.mkdtemp(prefix="fetch-", dir=self._scratch))
        t = self.options.timeout
        try:
            got = fetch_commit(work, src, commit, timeout=t)
        except GitFailed as err:
            raise Unavailable(err.reason + self._via(url, src)) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if got != commit:
            raise Unavailable(f"the remote answered {got[:12]}{self._via(url, src)}")

    def git_ref(self, url: str, ref: str) -> str | None:
        src = fetch_url(url, self.options.git_mirrors)
        try:
            listing = ls_remote(src, [ref], timeout=self.options.timeout)
        except GitFailed as err:
            raise Unavailable(err.reason + self._via(url, src)) from None
        found = pick_ref(ref, listing)
        return found[1] if found else None

    def index_files(
        self, index: str, project: str, wanted: frozenset[str]
    ) -> Mapping[str, Listed] | None:
        client = self._indexes[index]
        try:
            files = client.project(project)
            if files is None:
                return None
            return {
                f.filename: Listed(*_facts(client, f), yanked=f.yanked)
                for f in files
                if f.filename in wanted
            }
        except ResolveError as err:
            raise Unavailable(str(err)) from None

    def manifest(self, ref: str, reference: str) -> str:
        parsed = parse_image_ref(ref)
        mirrors = {normalize_registry(k): v.lower() for k, v in self.options.registry_mirrors}
        host, repo = apply_mirror(parsed, mirrors)
        try:
            return self._registry.manifest(host, repo, reference, what=f"{host}/{repo}").digest
        except ResolveError as err:
            raise Unavailable(str(err)) from None

    def download(self, url: str) -> tuple[str, int]:
        opts = self.options
        try:
            (pin,) = resolve_urls(
                [(url, "verify")],
                allow_http=opts.allow_http,
                mirrors=opts.url_mirrors,
                jobs=1,
                timeout=opts.timeout,
                cache=None if opts.cache_dir is None else opts.cache_dir / "urls",
                store=None if opts.cache_dir is None else Store(opts.cache_dir),
            )
        except ResolveError as err:
            raise Unavailable(str(err)) from None
        return pin.sha256, pin.size or 0  # a fetched pin always has its size

    def apt(self, lock: Lock) -> AptAnswer:
        opts = self.options
        where = AptSources(
            archive=opts.apt_archive,
            git_mirrors=opts.git_mirrors,
            url_mirrors=opts.url_mirrors,
            jobs=opts.jobs,
            timeout=opts.timeout,
        )
        try:
            return read_apt(lock, where, self.progress)
        except (ResolveError, MissingPin) as err:
            raise Unavailable(str(err)) from None


def _facts(client: IndexClient, f: IndexFile) -> tuple[str, int | None]:
    """A listed file's sha256 and size: as listed, else streamed (no cache survives a run)."""
    if f.sha256:
        return f.sha256, f.size
    return client.facts(f)
