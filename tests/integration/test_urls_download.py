"""URL downloads from real HTTP(S) servers on 127.0.0.1, with redirects, mirrors and faults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fixtures.faultproxy import Fault, FaultProxy, fault_proxy
from tests.fixtures.httpfiles import FILES, FileServer, FileWorld, sha256_of
from tritonlock.errors import ResolveError, SourceError, UsageError
from tritonlock.lockfile import seal, validate_data
from tritonlock.model import Inputs, Lock, UrlPin
from tritonlock.sources.retry import RetryPolicy
from tritonlock.sources.urls import parse_url_mirror, resolve_urls

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, max_retry_after=0.05)
BOOST = "boost_1_80_0.tar.gz"


def _one(url: str, **kw: object) -> UrlPin:
    kw.setdefault("retry", FAST)
    (pin,) = resolve_urls([(url, "Dockerfile.buildbase")], **kw)  # type: ignore[arg-type]
    return pin


def test_https_download_streams_through_sha256(trust_file_world: FileWorld) -> None:
    urls = [f"{trust_file_world.https}/files/{name}" for name in sorted(FILES)]
    pins = resolve_urls([(u, "build.py") for u in reversed(urls)], jobs=2)
    assert [p.url for p in pins] == urls
    for pin, name in zip(pins, sorted(FILES), strict=True):
        assert pin.sha256 == sha256_of(FILES[name])
        assert pin.size == len(FILES[name])
        assert pin.found_in == ("build.py",)
    validate_data(seal(Lock(inputs=Inputs(release="25.04", target="cpu"), url=pins)).to_dict())


def test_https_without_trusted_cert_fails(file_world: FileWorld) -> None:
    with pytest.raises(ResolveError, match="TLS certificate not trusted"):
        _one(f"{file_world.https}/files/{BOOST}")


def test_same_url_found_twice_is_fetched_once(file_world: FileWorld) -> None:
    with fault_proxy(file_world.http) as proxy:
        url = f"{proxy.url}/files/{BOOST}"
        (pin,) = resolve_urls(
            [(url, "third_party/CMakeLists.txt"), (url, "Dockerfile.buildbase"), (url, "build.py")],
            allow_http=True,
        )
        assert proxy.hits(BOOST) == 1
    assert pin.found_in == ("Dockerfile.buildbase", "build.py", "third_party/CMakeLists.txt")


def test_redirect_chain_is_recorded_by_original_url(file_world: FileWorld) -> None:
    url = f"{file_world.http}/moved/boost.tar.gz"
    pin = _one(url, allow_http=True)
    assert pin.url == url
    assert pin.sha256 == sha256_of(FILES[BOOST])


def test_redirect_from_https_to_http_is_refused(trust_file_world: FileWorld) -> None:
    target = f"{trust_file_world.http}/files/{BOOST}"
    with pytest.raises(SourceError, match="redirected to a http URL; only https allowed"):
        _one(f"{trust_file_world.https}/external-redirect?to={quote(target, safe='')}")


def test_plain_http_needs_allow_http(file_world: FileWorld) -> None:
    with pytest.raises(UsageError, match="plain http"):
        _one(f"{file_world.http}/files/{BOOST}")


def test_url_mirror_changes_where_not_what(file_world: FileWorld) -> None:
    original = "https://archives.boost.io/release/1.80.0/source/boost_1_80_0.tar.gz"
    with fault_proxy(file_world.http) as proxy:
        mirror = parse_url_mirror(
            f"https://archives.boost.io/release/1.80.0/source/={proxy.url}/files/"
        )
        pin = _one(original, mirrors=[mirror], allow_http=True)
        assert proxy.hits(f"/files/{BOOST}") == 1
    assert pin.url == original
    assert pin.sha256 == sha256_of(FILES[BOOST])


def test_progress_names_each_url(file_world: FileWorld) -> None:
    lines: list[str] = []
    _one(f"{file_world.http}/files/googletest-1.14.0.zip", allow_http=True, progress=lines.append)
    (line,) = lines
    assert line.startswith(f"{file_world.http}/files/googletest-1.14.0.zip → sha256:")


@pytest.fixture(name="proxy")
def proxy_fixture(file_world: FileWorld) -> Iterator[FaultProxy]:
    with fault_proxy(file_world.http) as proxy:
        yield proxy


def _error(proxy: FaultProxy, name: str = BOOST, **kw: object) -> str:
    url = f"{proxy.url}/files/{name}"
    with pytest.raises(ResolveError) as info:
        _one(url, allow_http=True, **kw)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"URL {url}: ")
    return msg


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "needs authentication"), (403, "access denied"), (404, "not found")],
)
def test_client_errors_are_one_line_and_not_retried(
    proxy: FaultProxy, status: int, words: str
) -> None:
    proxy.add(Fault("/files/", "status", times=-1, status=status))
    assert f"server answered {status} ({words}" in _error(proxy)
    assert proxy.hits("/files/") == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_statuses_are_retried(proxy: FaultProxy, status: int) -> None:
    proxy.add(Fault("/files/", "status", times=2, status=status))
    pin = _one(f"{proxy.url}/files/{BOOST}", allow_http=True)
    assert pin.sha256 == sha256_of(FILES[BOOST])
    assert proxy.hits("/files/") == 3


def test_retry_after_is_honoured(proxy: FaultProxy) -> None:
    slept: list[float] = []
    proxy.add(Fault("/files/", "status", status=429, headers={"Retry-After": "2"}))
    policy = RetryPolicy(attempts=2, base_delay=0.01, max_retry_after=60)
    _one(f"{proxy.url}/files/{BOOST}", allow_http=True, retry=policy, sleep=slept.append)
    assert slept == [2.0]


def test_persistent_5xx_gives_up(proxy: FaultProxy) -> None:
    proxy.add(Fault("/files/", "status", times=-1, status=502))
    assert "server answered 502 (gave up after 3 attempts)" in _error(proxy)


def test_truncated_body_is_retried_then_fails(proxy: FaultProxy) -> None:
    proxy.add(Fault("/files/", "truncate", times=1))
    assert _one(f"{proxy.url}/files/{BOOST}", allow_http=True).size == len(FILES[BOOST])
    proxy.add(Fault("/files/", "truncate", times=-1))
    assert "truncated" in _error(proxy)


def test_html_instead_of_a_file_is_refused(proxy: FaultProxy) -> None:
    proxy.add(Fault("/files/", "content-type", times=-1))
    assert "HTML page instead of the file" in _error(proxy)
    proxy.clear()
    pin = _one(f"{proxy.url}/files/page.html", allow_http=True)  # an .html file is fine
    assert pin.sha256 == sha256_of(FILES["page.html"])


def test_slow_server_times_out(proxy: FaultProxy) -> None:
    proxy.add(Fault("/files/", "slow", times=-1, delay=1.5))
    msg = _error(proxy, timeout=0.3, retry=RetryPolicy(attempts=2, base_delay=0.01))
    assert "timed out (gave up after 2 attempts)" in msg


def test_one_bad_url_fails_the_whole_batch(proxy: FaultProxy) -> None:
    proxy.add(Fault("/files/cuda", "status", times=-1, status=404))
    with pytest.raises(ResolveError, match="cuda-keyring"):
        resolve_urls(
            [(f"{proxy.url}/files/{n}", "build.py") for n in sorted(FILES)],
            allow_http=True,
            retry=FAST,
        )


def test_a_server_dripping_bytes_is_a_stall_not_a_wait(proxy: FaultProxy) -> None:
    """Every read returns within the timeout, yet 64 bytes every 20 ms would take minutes:
    a window with under 64 KiB is a stall, retried, then a one-line error."""
    proxy.add(Fault("/files/", "drip", times=-1, delay=0.02))
    msg = _error(proxy, timeout=0.5, retry=RetryPolicy(attempts=2, base_delay=0.01))
    assert "stalled (under 64 KiB in 0.5 s) (gave up after 2 attempts)" in msg
    assert proxy.hits("/files/") == 2


def test_with_allow_partial_only_the_failing_url_is_unresolved(file_world: FileWorld) -> None:
    """Issue 12, defect 4: one URL that 404s on a real server is named by itself."""
    from tritonlock.resolve.context import Ctx, ResolveOptions
    from tritonlock.resolve.pipeline import _urls

    good = [f"{file_world.http}/files/{n}" for n in sorted(FILES)]
    gone = f"{file_world.http}/files/no-such-file.tgz"
    opts = ResolveOptions(allow_partial=True, allow_http=True)
    ctx = Ctx(inputs=Inputs(release="25.04", target="cpu"), opts=opts, say=print, notes=print)
    pins, failures = _urls(ctx, [(u, "build.py") for u in [gone, *good]], ())
    assert [p.url for p in pins] == good
    assert [(u, type(e)) for u, e in failures] == [(gone, ResolveError)]
    assert "server answered 404" in str(failures[0][1])
    strict = Ctx(inputs=ctx.inputs, opts=ResolveOptions(allow_http=True), say=print, notes=print)
    with pytest.raises(ResolveError, match="no-such-file"):
        _urls(strict, [(u, "build.py") for u in [gone, *good]], ())


def test_a_declared_sha256_is_a_fixed_output_pin_never_fetched(file_world: FileWorld) -> None:
    """Issue 12, defect 3: boost's URL_HASH SHA256 is recorded without the 130 MB."""
    with fault_proxy(file_world.http) as proxy:
        fixed_url = f"{proxy.url}/files/{BOOST}"
        other = f"{proxy.url}/files/{sorted(n for n in FILES if n != BOOST)[0]}"
        declared = "ab" * 32
        pins = resolve_urls(
            [(other, "build.py")],
            fixed=[(fixed_url, declared, "python_backend:CMakeLists.txt:125")],
            allow_http=True,
            retry=FAST,
        )
        assert proxy.hits(BOOST) == 0
    by_url = {p.url: p for p in pins}
    pin = by_url[fixed_url]
    assert (pin.sha256, pin.size, pin.fixed_output) == (f"sha256:{declared}", None, True)
    assert pin.found_in == ("python_backend:CMakeLists.txt:125",)
    assert by_url[other].size is not None and not by_url[other].fixed_output
    data = seal(Lock(inputs=Inputs(release="25.04", target="cpu"), url=pins)).to_dict()
    validate_data(data)
    assert {"url", "sha256", "fixed-output", "found-in"} == set(
        data["url"][0] if data["url"][0]["url"] == fixed_url else data["url"][1]
    )
    with pytest.raises(SourceError, match="declared with SHA256"):
        resolve_urls(
            [],
            fixed=[(fixed_url, "ab" * 32, "a:1"), (fixed_url, "cd" * 32, "b:2")],
            allow_http=True,
        )


def test_a_warm_resolve_asks_changed_since_and_downloads_only_what_changed(
    file_world: FileWorld, tmp_path: Path
) -> None:
    """With a cache, the second resolve sends the Last-Modified it saw; the server's 304
    keeps the pin without the bytes. A file changed since is downloaded and pinned anew."""
    (tmp_path / "files").mkdir()
    big, small = tmp_path / "files" / "big.tar.gz", tmp_path / "files" / "small.zip"
    big.write_bytes(FILES[BOOST])
    small.write_bytes(b"first")
    for p in (big, small):  # a Last-Modified is a validator once a second old (RFC 9110)
        os.utime(p, (p.stat().st_atime, p.stat().st_mtime - 10))
    server = FileServer(tmp_path)
    try:
        urls = [(f"{server.url}/files/{p.name}", "build.py") for p in (big, small)]
        cold = resolve_urls(urls, allow_http=True, cache=tmp_path / "cache")
        assert sorted(code for _, code in server.served) == [200, 200]
        server.served.clear()
        warm = resolve_urls(urls, allow_http=True, cache=tmp_path / "cache")
        assert warm == cold
        assert sorted(code for _, code in server.served) == [304, 304]
        server.served.clear()
        small.write_bytes(b"second")
        os.utime(small, (small.stat().st_atime, small.stat().st_mtime + 5))
        again = resolve_urls(urls, allow_http=True, cache=tmp_path / "cache")
        assert sorted(server.served) == [("/files/big.tar.gz", 304), ("/files/small.zip", 200)]
        assert again[0] == cold[0]
        assert again[1].sha256 == sha256_of(b"second")
        server.served.clear()
        assert resolve_urls(urls, allow_http=True) == again  # without a cache: downloads
        assert sorted(code for _, code in server.served) == [200, 200]
    finally:
        server.stop()
