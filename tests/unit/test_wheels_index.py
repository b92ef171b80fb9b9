"""Parsing PEP 691 / PEP 503 project pages, and keeping credentials out of everything."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tritonlock.sources.pyindex import parse_html, parse_json, split_credentials
from tritonlock.util.redact import redact

PAGE = "https://idx.example/simple/six/"
SHA = "ab" * 32


def test_pep503_html_with_hash_fragment_and_attributes() -> None:
    html = (
        "<!DOCTYPE html><html><body>"
        f'<a href="../../packages/six-1.16.0-py2.py3-none-any.whl#sha256={SHA}" '
        'data-requires-python="&gt;=2.7">six-1.16.0-py2.py3-none-any.whl</a>'
        '<a href="/p/six-1.16.0.tar.gz#md5=00" data-yanked="">six-1.16.0.tar.gz</a>'
        "</body></html>"
    )
    files = parse_html(PAGE, html)
    assert files is not None and len(files) == 2
    whl, sdist = files
    assert whl.url == "https://idx.example/packages/six-1.16.0-py2.py3-none-any.whl"
    assert (whl.sha256, whl.requires_python, whl.size, whl.yanked) == (SHA, ">=2.7", None, False)
    assert (sdist.filename, sdist.sha256, sdist.yanked) == ("six-1.16.0.tar.gz", None, True)


def test_garbage_is_not_a_page_but_an_empty_project_is() -> None:
    assert parse_html(PAGE, "\x00\x01 not an index ~~~") is None
    assert parse_html(PAGE, "<html><body></body></html>") == []
    assert parse_json(PAGE, {"meta": {}}) is None
    assert parse_json(PAGE, ["x"]) is None


def test_pep691_json_has_size_and_hashes() -> None:
    data = {
        "meta": {"api-version": "1.1"},
        "files": [
            {
                "filename": "six-1.16.0-py2.py3-none-any.whl",
                "url": "https://files.example/six-1.16.0-py2.py3-none-any.whl",
                "hashes": {"sha256": SHA.upper()},
                "size": 11053,
                "requires-python": ">=2.7",
                "yanked": "broken",
            }
        ],
    }
    files = parse_json(PAGE, data)
    assert files is not None
    (f,) = files
    assert (f.sha256, f.size, f.requires_python, f.yanked) == (SHA, 11053, ">=2.7", True)


def test_split_credentials_and_redact() -> None:
    url, auth = split_credentials("https://me:t%40ken@idx.example:8443/simple/")
    assert url == "https://idx.example:8443/simple/" and auth is not None
    assert split_credentials("https://idx.example/simple/") == ("https://idx.example/simple/", None)
    assert (
        redact("from https://me:tok@h/x and http://h2/y") == "from https://***@h/x and http://h2/y"
    )


@given(
    st.text(alphabet="abcdefXYZ019-_.~", min_size=1),
    st.text(alphabet="abcXYZ019-_.~!$", min_size=1),
)
def test_no_secret_survives(user: str, secret: str) -> None:
    url = f"https://{user}:{secret}@idx.example/simple/"
    clean, auth = split_credentials(url)
    assert clean == "https://idx.example/simple/" and auth is not None
    assert f"{user}:{secret}@" not in redact(f"error at {url}")
