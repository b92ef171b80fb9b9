"""A lock whose index URL carries a query, a token-shaped path segment or user info (written
by hand, by an older tritonlock, or by an attacker, and re-sealed): ``verify`` and
``build`` refuse it naming ``index[0].url``, ``diff`` shows it only by host and digest,
emit never writes it, and no command prints the secret back (issue 14)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.emit.dockerfile import index_env

VALID = Path(__file__).parent.parent / "data" / "valid" / "complete.lock"
SECRETS = ("S3CRETQ", "AbC123def456GHI789jkl")

# (URL, whether the schema takes it; else the rule refuses it)
URLS = [
    ("http://127.0.0.1:8080/simple/?token=S3CRETQ", True),
    ("http://127.0.0.1:8080/simple/?foo=S3CRETQ", True),
    ("https://h.example/AbC123def456GHI789jkl/simple/", True),
    ("https://h.example/simple/?private_token=S3CRETQ&x=1", False),
    ("https://u:S3CRETQ@h.example/simple/", False),
    ("https://h.example/AbC123def456GHI789jkl/simple/?a&b", False),
]


def _write(tmp_path: Path, url: str, name: str = "tokened.lock") -> Path:
    lock = lockfile.load(VALID)
    path = tmp_path / name
    bad = replace(lock, index=(replace(lock.index[0], url=url),))
    path.write_text(lockfile.dumps(bad))
    return path


def _quiet(out: str) -> None:
    for secret in SECRETS:
        assert secret not in out, out


@pytest.mark.parametrize(("url", "schema_ok"), URLS)
def test_verify_refuses_it_without_repeating_the_secret(
    url: str, schema_ok: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, url)
    assert main(["verify", str(path)]) == 1
    out, err = capsys.readouterr()
    _quiet(out + err)
    why = "looks like it carries a credential" if schema_ok else "not an allowed URL"
    assert f"index[0].url: {why}" in out, out
    assert main(["verify", "--json", str(path)]) == 1
    out, err = capsys.readouterr()
    _quiet(out + err)
    assert any(p.startswith("index[0].url:") for p in json.loads(out)["problems"])


@pytest.mark.parametrize(("url", "schema_ok"), URLS)
def test_build_refuses_it_before_writing_anything(
    url: str, schema_ok: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, url)
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    out_dir = tmp_path / "out"
    assert main(["build", str(path), "--recipe", str(recipe), "-o", str(out_dir)]) == 1
    out, err = capsys.readouterr()
    _quiet(out + err)
    assert "index[0].url:" in err and "FAILED: nothing was written" in err
    assert not out_dir.exists()


@pytest.mark.parametrize("url", [u for u, schema_ok in URLS if schema_ok])
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_diff_shows_the_index_by_host_and_digest(
    url: str, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, url)
    assert main(["diff", str(VALID), str(path), "--format", fmt]) == 0
    out, err = capsys.readouterr()
    _quiet(out + err)
    assert "(credential hidden; sha256 " in out
    changed = url.replace("S3CRETQ", "S3CRETR").replace("AbC123", "XyZ789")
    other = _write(tmp_path, changed, "other.lock")
    assert main(["diff", str(path), str(other), "--format", fmt]) == 0
    out, _ = capsys.readouterr()
    assert "local" in out and "(credential hidden" in out  # the change is still shown


@pytest.mark.parametrize("url", [u for u, schema_ok in URLS if schema_ok])
def test_emit_never_writes_it(url: str, tmp_path: Path) -> None:
    lock = lockfile.load(_write(tmp_path, url))
    steps = sorted({w.step for w in lock.wheel})
    shell = index_env(lock, *steps)
    _quiet(shell)
    assert "PIP_INDEX_URL" not in shell and "needs the pip-conf secret (index local)" in shell


def test_a_url_pin_quoting_a_signature_is_refused_without_printing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Problems are redacted where they are made, so `build` (which prints them itself)
    never shows a signed URL's secret either."""
    lock = lockfile.load(VALID)
    signed = replace(lock.url[0], url="https://h.example/f.tar.gz?sig=S3CRETQ")
    path = tmp_path / "signed.lock"
    path.write_text(lockfile.dumps(replace(lock, url=(signed, signed))))
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    assert main(["build", str(path), "--recipe", str(recipe), "-o", str(tmp_path / "out")]) == 1
    out, err = capsys.readouterr()
    assert "url[1]: duplicate url 'https://h.example/f.tar.gz?sig=***'" in err, err
    _quiet(out + err)
