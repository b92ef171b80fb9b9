"""One redaction for every message: hostile user info, query secrets, several URLs in a text;
the strict URL split the code uses; which index URLs are credential-free."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.util.redact import (
    BadURL,
    credential_free,
    looks_like_token,
    public_url,
    redact,
    split_url,
    without_userinfo,
)

# (text, secrets that must not survive, what must stay)
HOSTILE = [
    ("http://user:S3C/R@ET@127.0.0.1:8080/auth/git", ["S3C", "R@ET"], "127.0.0.1:8080/auth/git"),
    ("https://u:p@ss@word@idx.example/simple/", ["p@ss", "word"], "idx.example/simple/"),
    ("https://u:a:b:c@idx.example/x", ["a:b:c"], "idx.example/x"),
    ("https://me:t%40ken%2Fx@idx.example:8443/simple/", ["t%40ken"], "idx.example:8443/simple/"),
    ("https://ghp_TOKEN123abc@github.com/o/r.git", ["ghp_TOKEN123abc"], "github.com/o/r.git"),
    ("http://tok/en@host.example/x", ["tok/en"], "host.example/x"),
    ("http://u:a://b@host.example/x", ["u:a", "//b"], "host.example/x"),
    ("https://user://@host.example/x", ["user:"], "host.example/x"),
    ("https://user:/x://@host.example/x", ["user:/x"], "host.example/x"),
    ("http://u:pa?ss#w@host.example/x", ["pa?ss", "#w"], "host.example/x"),
    ("ssh://git:hunter2@[::1]:22/r.git", ["hunter2"], "[::1]:22/r.git"),
    ("https://gitlab.example/g.git?private_token=glpat-XyZ", ["glpat-XyZ"], "gitlab.example/g.git"),
    (
        "https://h.example/f?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA%2Fx&v=1",
        ["deadbeef", "AKIA"],
        "h.example/f?X-Amz-Signature=***",
    ),
    (
        "https://h.example/s?access_token=A1&api_key=K2&password=P3&sig=S4&secret=S5&key=K6",
        ["A1", "K2", "P3", "S4", "S5", "K6"],
        "h.example/s?",
    ),
    ("https://h.example/x#token=frag9", ["frag9"], "h.example/x#token=***"),
    ("--registry-mirror 'docker.io=u:S3CRET@mirror.example'", ["S3CRET"], "mirror.example"),
    ("docker.io=u:S3C/R@ET@mirror.example:5000/x", ["S3C", "R@ET"], "mirror.example:5000/x"),
    (
        "--git-mirror 'https://github.com/org=http://u:S3C/R@ET@127.0.0.1:9/git' failed",
        ["S3C", "R@ET"],
        "https://github.com/org=http://***@127.0.0.1:9/git' failed",
    ),
    (
        "cannot fetch https://a:one1@h1.example/x via mirror http://b:two2@h2.example/y: 401",
        ["one1", "two2"],
        "h1.example/x via mirror http://***@h2.example/y: 401",
    ),
    ("fatal: unable to access 'http://u:S3C/RET@127.0.0.1:1/simple/'", ["S3C"], "127.0.0.1:1"),
    ('{"error": "index http://u:pw1@h.example/s"}', ["pw1"], 'h.example/s"}'),
]


@pytest.mark.parametrize(("text", "secrets", "kept"), HOSTILE)
def test_hostile_secrets_never_survive_and_the_host_does(
    text: str, secrets: list[str], kept: str
) -> None:
    shown = redact(text)
    for secret in secrets:
        assert secret not in shown, shown
    assert kept in shown, shown
    assert redact(shown) == shown


@pytest.mark.parametrize(
    "text",
    [
        "https://github.com/org/repo@v1",
        "https://registry.npmjs.org/@scope/pkg",
        "nvcr.io/nvidia/tritonserver:25.04-py3-min@sha256:" + "ab" * 32,
        "ubuntu:24.04@sha256:" + "12" * 32,
        "git@github.com:org/repo.git",
        "https://h.example/x?ref=main&keyword=a#sha256=" + "cd" * 32,
        "note: pydantic 2.14.4 → 2.10.6 in step final: key: value",
        "https://pypi.org/simple/ and https://github.com/grpc/grpc.git (v1.54.3)",
    ],
)
def test_what_holds_no_secret_is_unchanged(text: str) -> None:
    assert redact(text) == text


_HOSTILE_CHARS = st.text(alphabet="aZ09/@:%?#&=!$'()*+,;~._-", min_size=1, max_size=24)


@given(_HOSTILE_CHARS)
def test_any_password_in_a_url_is_masked_whole(password: str) -> None:
    url = f"https://user:{password}@idx.example:8443/simple/"
    assert redact(f"error at {url}: 401") == "error at https://***@idx.example:8443/simple/: 401"
    assert redact(f"--git-mirror 'https://github.com/=http://user:{password}@h.example/x'") == (
        "--git-mirror 'https://github.com/=http://***@h.example/x'"
    )


@given(_HOSTILE_CHARS)
def test_split_url_decodes_a_percent_encoded_password(password: str) -> None:
    url = f"https://user:{quote(password, safe='')}@idx.example:8443/simple/"
    clean, creds = split_url(url)
    assert clean == "https://idx.example:8443/simple/"
    assert creds is not None and (creds.username, creds.password) == ("user", password)
    assert repr(creds) == "Credentials(***)"


def test_split_url() -> None:
    assert split_url("https://h.example/x") == ("https://h.example/x", None)
    assert split_url("/srv/mirror") == ("/srv/mirror", None)
    clean, creds = split_url("http://tok@h.example/x")
    assert clean == "http://h.example/x" and creds is not None
    assert (creds.username, creds.password) == ("tok", None)
    clean, creds = split_url("http://u:p@ss@h.example/x")
    assert clean == "http://h.example/x" and creds is not None and creds.password == "p@ss"
    assert split_url("https://github.com/org/repo@v1")[1] is None


@pytest.mark.parametrize(
    "url",
    [
        "http://u:S3C/RET@127.0.0.1:1/simple",
        "http://u:S3C@h.example:abc/",
        "http://u:p@/x",
        "http://u:p%0Aw@h.example/",
        "http://[::1/x",
    ],
)
def test_split_url_refuses_what_it_cannot_take_apart_without_echoing(url: str) -> None:
    with pytest.raises(BadURL) as err:
        split_url(url)
    message = str(err.value)
    assert "S3C" not in message and ("percent-encode" in message or "control" in message)


def test_without_userinfo_drops_it_for_recorded_values() -> None:
    assert (
        without_userinfo("https://u:p@h.example/x and git+https://tok@g.example/r.git")
        == "https://h.example/x and git+https://g.example/r.git"
    )


@pytest.mark.parametrize(
    ("url", "free"),
    [
        ("https://pypi.org/simple/", True),
        ("https://pypi.org/simple", True),
        ("https://pypi.jetson-ai-lab.dev/jp6/cu126", True),
        ("https://download.pytorch.org/whl/cu128", True),
        ("https://gitlab.example/api/v4/projects/12345678/packages/pypi/simple", True),
        ("http://127.0.0.1:8080/simple/", True),
        ("https://h.example/simple/?token=abc", False),
        ("https://h.example/simple/?x=1", False),
        ("https://h.example/simple/#frag", False),
        ("https://u:p@h.example/simple/", False),
        ("https://tok@h.example/simple/", False),
        ("https://dl.example/AbCdEf1234567890/org/repo/python/simple/", False),
        ("https://h.example/123e4567-e89b-12d3-a456-426614174000/simple", False),
        ("https://h.example:abc/simple", False),
        ("ftp://h.example/simple", False),
    ],
)
def test_credential_free(url: str, free: bool) -> None:
    assert credential_free(url) is free
    assert (public_url(url) == url) is free


def test_token_segments_are_narrow() -> None:
    for word in ("simple", "jp6", "cu126", "whl", "12345678", "jetson-ai-lab", "nightly-cu128"):
        assert not looks_like_token(word), word
    for word in ("AbCdEf1234567890", "glpat-1a2b3c4d5e6f7g8h9i", "0123456789abcdef0123"):
        assert looks_like_token(word), word
    assert public_url("https://u:p@h.example/TOKEN123tokenABC/simple") == "https://h.example/…"


def test_progress_lines_and_notes_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    from tritonlock.commands._progress import Progress

    with Progress() as progress:  # not a terminal here: plain lines on stderr
        progress("git: listing http://u:S3C/R@ET@h.example/x.git")
        progress.note("note: https://h.example/f?token=S3CRET kept")
    err = capsys.readouterr().err
    assert "http://***@h.example/x.git" in err and "token=*** kept" in err
    assert "S3C" not in err
