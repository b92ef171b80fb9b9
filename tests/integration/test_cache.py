"""The shared cache end to end, against a real file server that logs every answer: what
`resolve` downloaded, `vendor` takes from the cache (into any number of new bundles)
without asking the server; `verify --deep` asks the server "changed since?" for bytes the
cache holds, and downloads in full what the cache lacks or holds corrupted."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures.emit_world import make_lock
from tests.fixtures.httpfiles import FILES, FileServer, sha256_of
from tritonlock import lockfile
from tritonlock.model import Lock, UrlPin
from tritonlock.sources.urls import resolve_urls
from tritonlock.util.store import Store
from tritonlock.vendor.live import LiveSources, VendorOptions
from tritonlock.vendor.run import vendor
from tritonlock.verify.deep import DeepOptions
from tritonlock.verify.live import LiveSources as DeepSources

pytestmark = pytest.mark.integration
BOOST = "boost_1_80_0.tar.gz"
DATA = FILES[BOOST]


@pytest.fixture(name="server")
def server_fixture(tmp_path: Path) -> Iterator[FileServer]:
    (tmp_path / "www" / "files").mkdir(parents=True)
    boost = tmp_path / "www" / "files" / BOOST
    boost.write_bytes(DATA)
    old = time.time() - 60  # its Last-Modified is a validator once a second old (RFC 9110)
    os.utime(boost, (old, old))
    server = FileServer(tmp_path / "www")
    try:
        yield server
    finally:
        server.stop()


def _resolve(server: FileServer, cache: Path) -> UrlPin:
    (pin,) = resolve_urls(
        [(f"{server.url}/files/{BOOST}", "build.py")],
        allow_http=True,
        cache=cache / "urls",
        store=Store(cache),
    )
    return pin


def _lock(pin: UrlPin) -> Lock:
    """A lock that pins only the download (vendor is given no git, image or apt work)."""
    return lockfile.seal(
        replace(make_lock("cpu"), git=(), wheel=(), image=(), url=(pin,), apt=None)
    )


def _vendor(lock: Lock, out: Path, store: Store | None) -> int:
    with LiveSources(VendorOptions(allow_http=True), {}) as src:
        result = vendor(lock, lockfile.dumps(lock).encode(), out, src, apt=None, store=store)
    return result.cached


def _deep(lock: Lock, cache: Path | None) -> tuple[str, int]:
    options = DeepOptions(allow_http=True, cache_dir=cache)
    with DeepSources(lock, options) as src:
        return src.download(lock.url[0].url)


def test_vendor_after_resolve_fetches_nothing_the_cache_holds(
    server: FileServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    pin = _resolve(server, cache)
    assert server.served == [(f"/files/{BOOST}", 200)]
    assert Store(cache).get("url", pin.sha256) is not None  # resolve filled the store
    server.served.clear()
    lock = _lock(pin)
    for n in (1, 2):  # each into a new folder
        assert _vendor(lock, tmp_path / f"bundle{n}", Store(cache)) == len(DATA)
        (landed,) = (tmp_path / f"bundle{n}" / "downloads").rglob(BOOST)
        assert landed.read_bytes() == DATA
    assert server.served == []
    assert _vendor(lock, tmp_path / "uncached", None) == 0
    assert server.served == [(f"/files/{BOOST}", 200)]


def test_vendor_fills_the_cache_for_the_next_bundle(server: FileServer, tmp_path: Path) -> None:
    pin = UrlPin(url=f"{server.url}/files/{BOOST}", sha256=sha256_of(DATA), size=len(DATA))
    lock, store = _lock(pin), Store(tmp_path / "cache")
    assert _vendor(lock, tmp_path / "first", store) == 0
    assert _vendor(lock, tmp_path / "second", store) == len(DATA)
    assert server.served == [(f"/files/{BOOST}", 200)]


def test_a_corrupted_cache_entry_is_fetched_again(server: FileServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    pin = _resolve(server, cache)
    entry = Store(cache).path("url", pin.sha256)
    entry.write_bytes(DATA[:-1] + b"!")  # one byte changed in the cache
    server.served.clear()
    assert _vendor(_lock(pin), tmp_path / "bundle", Store(cache)) == 0
    assert server.served == [(f"/files/{BOOST}", 200)]
    assert entry.read_bytes() == DATA  # and the cache holds the right bytes again


def test_verify_deep_asks_the_server_changed_since_for_what_the_cache_holds(
    server: FileServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    pin = _resolve(server, cache)
    lock = _lock(pin)
    server.served.clear()
    assert _deep(lock, cache) == (pin.sha256, len(DATA))
    assert server.served == [(f"/files/{BOOST}", 304)]  # asked, not downloaded
    server.served.clear()
    assert _deep(lock, None) == (pin.sha256, len(DATA))  # --no-cache: in full
    assert server.served == [(f"/files/{BOOST}", 200)]


def test_verify_deep_downloads_in_full_when_the_cache_lacks_the_bytes(
    server: FileServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    pin = _resolve(server, cache)
    Store(cache).path("url", pin.sha256).write_bytes(b"corrupted")
    server.served.clear()
    assert _deep(_lock(pin), cache) == (pin.sha256, len(DATA))
    assert server.served == [(f"/files/{BOOST}", 200)]
    assert Store(cache).get("url", pin.sha256) is not None  # filled again
    server.served.clear()
    assert _vendor(_lock(pin), tmp_path / "bundle", Store(cache)) == len(DATA)
    assert server.served == []


def test_verify_deep_downloads_a_file_changed_within_the_second_it_was_served(
    server: FileServer, tmp_path: Path
) -> None:
    """A Last-Modified as new as the answer's Date proves nothing (RFC 9110 8.8.2.2)."""
    boost = tmp_path / "www" / "files" / BOOST
    os.utime(boost)  # modified now: served in the same second
    cache = tmp_path / "cache"
    pin = _resolve(server, cache)
    server.served.clear()
    boost.write_bytes(b"changed in the same second")
    assert _deep(_lock(pin), cache) == (sha256_of(b"changed in the same second"), 26)
    assert server.served == [(f"/files/{BOOST}", 200)]
