"""Redaction gaps left by issue 14's first pass: a password holding whitespace (an option's
value echoed back whole), and ``NAME=VALUE`` secrets outside URLs. Neither may mask what
holds no secret (host and port, requirements, apt pins, our own messages)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tritonlock.cli import main
from tritonlock.util.redact import redact

# Passwords with spaces or tabs inside. One whose first word is all digits stays a limit:
# ``http://user:0000 0000@h`` cannot be told from ``http://host:8080 me@example.com``.
_WORD = st.text(alphabet="aZ09!$*+~._-", min_size=4, max_size=10)
_FIRST = _WORD.filter(lambda w: not w.isdigit())
_SPACED = st.builds(
    lambda a, sep, b: f"{a}{sep}{b}", _FIRST, st.sampled_from([" ", "  ", "\t", " x "]), _WORD
)


@settings(derandomize=True)
@given(password=_SPACED)
def test_a_password_holding_whitespace_is_masked_whole(password: str) -> None:
    for text, shown in (
        (
            f"error at http://user:{password}@idx.example:8443/simple/: 401",
            "error at http://***@idx.example:8443/simple/: 401",
        ),
        (
            f"--git-mirror 'https://github.com/=http://u:{password}@h.example/g': bad",
            "--git-mirror 'https://github.com/=http://***@h.example/g': bad",
        ),
        (
            f"--registry-mirror 'docker.io=u:{password}@mirror.example:5000' is not valid",
            "--registry-mirror 'docker.io=***@mirror.example:5000' is not valid",
        ),
    ):
        assert redact(text) == shown
        assert redact(shown) == shown


SECRETS_OUTSIDE_URLS = [
    ("token=S3CRETtok", "token=***"),
    ("GITHUB_TOKEN=ghp_S3CRET123 uv pip …", "GITHUB_TOKEN=*** uv pip …"),
    (
        "run with --password=hunter22 and --token=abcd1234",
        "run with --password=*** and --token=***",
    ),
    ("'private_token=glpat-S3CRET'", "'private_token=***'"),
    ("client_secret=S3CRET, api_key=K3Y5", "client_secret=***, api_key=***"),
    ("AWS_SECRET_ACCESS_KEY=wJalrS3CRET", "AWS_SECRET_ACCESS_KEY=***"),
    ('{"error": "credentials=u:S3CRET"}', '{"error": "credentials=***"}'),
]


@pytest.mark.parametrize(("text", "shown"), SECRETS_OUTSIDE_URLS)
def test_a_secret_name_value_pair_outside_urls_is_masked(text: str, shown: str) -> None:
    assert redact(text) == shown
    assert redact(shown) == shown


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:8080 is down; write to me@example.com",
        "http://[::1]:80 and me@example.com",
        "ssh://host:22 then git@github.com:org/repo.git",
        "python-secret==1.0 tokenizers==0.19.1 keyring>=24 secretstorage~=3.3",
        "apt: libsecret-1-0=0.20.5-2 ca-certificates=20230311",
        "key=value exit code=2 sort key=name auth=basic session=1 sig=x",
        "--secret id=pip-conf,src=/home/u/.config/pip/pip.conf",
        "git[3].commit: https://h.example/o/r 'r25.04' is ffffffffffff here; one ref, one commit",
        "note: pydantic 2.14.4 → 2.10.6 in step final: key: value",
    ],
)
def test_what_holds_no_secret_stays(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--git-mirror", "https://github.com/=http://u:my S3CRETpw@127.0.0.1:1/"),
        ("--registry-mirror", "docker.io=u:my S3CRETpw@127.0.0.1:1"),
        ("--url-mirror", "https://github.com/=http://u:my S3CRETpw@127.0.0.1:1/"),
        ("--github-organization", "http://u:my S3CRETpw@127.0.0.1:1/org"),
    ],
)
def test_a_spaced_password_in_an_option_is_never_echoed(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """These used to print ``u:my S3CRETpw@…`` back in their usage error."""
    assert main(["resolve", "25.04", "--target", "igpu", option, value]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and option in err, err
    assert "S3CRET" not in out + err and " my " not in err, err


@settings(derandomize=True, max_examples=500)
@given(st.text(alphabet="ab9+.-:/ h@'", max_size=40))
def test_urls_are_found_where_a_plain_scheme_search_finds_them(text: str) -> None:
    """Schemes are looked for from the start of each word only (a search from every letter
    was quadratic in a long word's length), and still found at the same places."""
    from tritonlock.util.redact import _SCHEME, _SCHEME_FIND

    plain = [m.span() for m in _SCHEME.finditer(text)]
    assert [m.span(1) for m in _SCHEME_FIND.finditer(text)] == plain
