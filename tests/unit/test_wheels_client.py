"""IndexClient against an in-memory transport: caching, revalidation, errors, hash checks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tritonlock.errors import ResolveError, SourceError
from tritonlock.sources.pyindex import IndexClient, IndexFile
from tritonlock.util.store import Store

BODY = b"wheel bytes"
SHA = hashlib.sha256(BODY).hexdigest()
PAGE = (
    f'<html><a href="/files/six-1.16.0-py2.py3-none-any.whl#sha256={SHA}">six</a></html>'
).encode()


def client(tmp_path: Path, handler: Callable[[httpx.Request], httpx.Response]) -> IndexClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    c = IndexClient("idx", "https://u:tok@idx.example/simple", cache_dir=tmp_path, http=http)
    c.sleep = SLEPT.append
    return c


SLEPT: list[float] = []


def test_pages_are_revalidated_with_etag_and_credentials_stay_on_the_index_host(
    tmp_path: Path,
) -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(
            200, headers={"content-type": "text/html", "etag": '"v1"'}, content=PAGE
        )

    first = client(tmp_path, handler).project("Six")
    again = client(tmp_path, handler).project("six")
    assert first == again and first is not None and first[0].sha256 == SHA
    assert [r.url.path for r in seen] == ["/simple/six/", "/simple/six/"]
    assert seen[1].headers["if-none-match"] == '"v1"'
    assert all(r.headers["authorization"].startswith("Basic ") for r in seen)
    cached = "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    assert "tok" not in cached


def always(resp: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _req: resp


def test_404_is_unknown_and_other_statuses_are_errors(tmp_path: Path) -> None:
    assert client(tmp_path, lambda r: httpx.Response(404)).project("x") is None
    for code, words in ((500, r"HTTP 500 \(gave up after 4 attempts\)"), (401, "refused access")):
        answer = httpx.Response(code, content=b"~~", headers={"content-type": "text/plain"})
        with pytest.raises(ResolveError, match=words) as err:
            client(tmp_path, always(answer)).project("x")
        assert "tok" not in str(err.value) and "\n" not in str(err.value)
    for code, words in ((200, "not a PEP 691/503"),):
        answer = httpx.Response(code, content=b"~~", headers={"content-type": "text/plain"})
        c = client(tmp_path, always(answer))
        with pytest.raises(SourceError, match=words) as err:
            c.project("x")
        assert "tok" not in str(err.value)


def test_a_missing_size_of_a_listed_hash_is_asked_with_head_and_cached(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append((req.method, req.url.path))
        assert req.headers["accept-encoding"] == "identity"
        return httpx.Response(200, headers={"content-length": str(len(BODY))})

    good = IndexFile(filename="six.whl", url="https://files.example/six.whl", sha256=SHA)
    assert client(tmp_path, handler).facts(good) == (SHA, len(BODY))
    assert client(tmp_path, handler).facts(good) == (SHA, len(BODY))
    assert calls == [("HEAD", "/six.whl")]
    listed = IndexFile(filename="six.whl", url="https://x/y", sha256=SHA, size=3)
    assert client(tmp_path, handler).facts(listed) == (SHA, 3)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "head",
    [
        httpx.Response(405),
        httpx.Response(503),
        httpx.Response(200, headers={"content-length": "4", "content-encoding": "gzip"}),
        httpx.Response(200, headers={"transfer-encoding": "chunked"}),
        None,
    ],
    ids=["refused", "failing", "encoded", "no-length", "dropped"],
)
def test_a_head_without_a_plain_length_falls_back_to_the_bytes_hash_checked(
    tmp_path: Path, head: httpx.Response | None
) -> None:
    """HEAD is tried once: whatever does not plainly give the size (``None``: the connection
    drops) leaves it to the download, which has its own retries and errors."""
    calls: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        if req.method != "HEAD":
            return httpx.Response(200, content=BODY)
        if head is None:
            raise httpx.RemoteProtocolError("dropped", request=req)
        return head

    good = IndexFile(filename="six.whl", url="https://files.example/six.whl", sha256=SHA)
    assert client(tmp_path, handler).facts(good) == (SHA, len(BODY))
    assert calls == ["HEAD", "GET"]
    bad = IndexFile(filename="six.whl", url="https://files.example/other.whl", sha256="0" * 64)
    with pytest.raises(SourceError, match="serves wrong bytes"):
        client(tmp_path, handler).facts(bad)


def test_a_file_without_a_listed_hash_is_downloaded_once_into_the_store(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        return httpx.Response(200, content=BODY)

    store = Store(tmp_path / "shared")
    http = httpx.Client(transport=httpx.MockTransport(handler))
    c = IndexClient("idx", "https://idx.example/simple", cache_dir=tmp_path, http=http, store=store)
    unlisted = IndexFile(filename="six.whl", url="https://files.example/six.whl")
    assert c.facts(unlisted) == (SHA, len(BODY))
    assert calls == ["GET"]
    kept = store.get("wheel", SHA)
    assert kept is not None and kept.read_bytes() == BODY
    assert list((tmp_path / "shared" / "files" / "tmp").iterdir()) == []


def test_wrong_bytes_never_become_a_store_entry(tmp_path: Path) -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(405) if req.method == "HEAD" else httpx.Response(200, content=BODY)

    store = Store(tmp_path / "shared")
    http = httpx.Client(transport=httpx.MockTransport(handler))
    c = IndexClient("idx", "https://idx.example/simple", cache_dir=tmp_path, http=http, store=store)
    bad = IndexFile(filename="six.whl", url="https://files.example/six.whl", sha256="0" * 64)
    with pytest.raises(SourceError, match="serves wrong bytes"):
        c.facts(bad)
    assert store.get("wheel", SHA) is None
    assert not (tmp_path / "shared" / "files" / "wheel").exists()


def test_file_on_another_host_gets_no_index_credentials(tmp_path: Path) -> None:
    auth: list[str | None] = []

    def handler(req: httpx.Request) -> httpx.Response:
        auth.append(req.headers.get("authorization"))
        return httpx.Response(200, content=BODY)

    c = client(tmp_path, handler)
    c.facts(IndexFile(filename="a.whl", url="https://cdn.example/a.whl", sha256=SHA))
    c.facts(IndexFile(filename="b.whl", url="https://idx.example/files/b.whl", sha256=SHA))
    assert auth[0] is None and auth[1] is not None


def test_transient_statuses_and_dropped_connections_are_retried(tmp_path: Path) -> None:
    answers = [
        httpx.Response(503, headers={"retry-after": "7"}),
        httpx.Response(429),
        httpx.Response(200, content=PAGE, headers={"content-type": "text/html"}),
    ]
    SLEPT.clear()
    files = client(tmp_path, lambda _r: answers.pop(0)).project("six")
    assert files is not None and [f.filename for f in files] == ["six-1.16.0-py2.py3-none-any.whl"]
    assert SLEPT == [7.0, 1.0]  # Retry-After honoured, then the policy's backoff

    def dropped(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=req)

    with pytest.raises(ResolveError, match=r"timed out \(gave up after 4 attempts\)"):
        client(tmp_path, dropped).project("six")
