"""verify over the invalid corpus: one clear line per problem, the right exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tritonlock import cli
from tritonlock.errors import LockReadError
from tritonlock.verify import offline as verify

DATA = Path(__file__).parent.parent / "data"
INVALID = DATA / "invalid"

# file in tests/data/invalid → (exit code of `tritonlock verify`, substring of its output)
CORPUS: dict[str, tuple[int, str]] = {
    "wrong-type-commit.lock": (1, "git[0].commit: expected string, got 123"),
    "wrong-type-backends.lock": (1, 'inputs.backends: expected array, got "python"'),
    "wrong-type-size.lock": (1, "wheel[0].files[0].size: expected integer"),
    "wrong-type-sdist.lock": (1, "wheel[0].sdist: must be true"),
    "datetime-value.lock": (1, "git[0].committed: expected integer"),
    "float-integer.lock": (1, "wheel[0].files[0].size: expected integer, got 18000000.0"),
    "bad-commit-short.lock": (1, "git[0].commit: not a 40-hex commit id"),
    "bad-commit-uppercase.lock": (1, "git[0].commit: not a 40-hex commit id"),
    "bad-commit-newline.lock": (1, "git[0].commit: not a 40-hex commit id"),
    "bad-digest-md5.lock": (1, "image[0].digest: not a digest of the form sha256:"),
    "bad-digest-short.lock": (1, "wheel[0].files[0].sha256: not a digest"),
    "bad-digest-bare-hex.lock": (1, "url[0].sha256: not a digest"),
    "name-shell.lock": (1, "git[0].name: contains characters that are not allowed"),
    "name-newline-dockerfile.lock": (1, "wheel[0].name: not a normalized package name"),
    "name-dollar-paren.lock": (1, "apt.packages[0].name: contains characters"),
    "ref-dollar-paren.lock": (1, "git[0].ref: contains characters"),
    "ref-backticks.lock": (1, "git[0].ref: contains characters"),
    "ref-upload-pack.lock": (1, "git[0].ref: contains characters"),
    "ref-newline.lock": (1, "git[0].ref: contains characters"),
    "backend-ref-dotdot.lock": (1, "inputs.backends[0]: not NAME or NAME:REF with a valid git"),
    "url-upload-pack.lock": (1, "git[0].url: not an allowed URL"),
    "url-ext.lock": (1, "git[0].url: not an allowed URL"),
    "url-credentials.lock": (1, "git[0].url: not an allowed URL"),
    "url-semicolon.lock": (1, "url[0].url: not an allowed URL"),
    "url-newline.lock": (1, "index[0].url: not an allowed URL"),
    "url-index-credentials.lock": (1, "index[0].url: not an allowed URL"),
    "image-ref-newline.lock": (1, "image[0].ref: contains characters"),
    "submodule-path-dotdot.lock": (1, "git[1].submodules[0].path: contains characters"),
    "submodule-path-absolute.lock": (1, "git[1].submodules[0].path: contains characters"),
    "submodule-path-inner-dotdot.lock": (1, "git[1].submodules[0].path: contains characters"),
    "submodule-url-credentials.lock": (1, "git[1].submodules[0].url: not an allowed URL"),
    "unknown-field.lock": (1, "git[0]: unknown field(s): 'branch'"),
    "missing-field.lock": (1, "git[0].commit: is missing"),
    "release-key-shell.lock": (1, 'release: contains characters that are not allowed here: "x;rm'),
    "three-problems.lock": (1, "3 problems"),
    "tampered-hash.lock": (1, "content-hash: does not match the content"),
    "duplicate-git.lock": (1, "git[2]: duplicate name 'server' (first at git[1])"),
    "stale.lock": (1, "git: no pin for 'vllm_backend'"),
    "partial.lock": (1, "unresolved[0]: partial lock: image"),
    "undeclared-index.lock": (1, "wheel[0].index: 'nvidia' is not declared in [[index]]"),
    "wrong-order.lock": (1, "git: entries are not in canonical order"),
    "lock-version-2.lock": (2, "lock-version 2 was written by a newer tritonlock"),
    "lock-version-0.lock": (2, "lock-version 0 is not a valid lock-version"),
    "lock-version-string.lock": (2, "lock-version: expected an integer, got '1'"),
    "lock-version-missing.lock": (2, "lock-version is missing"),
    "empty.lock": (2, "lock-version is missing"),
    "truncated.lock": (2, "not valid TOML"),
    "duplicate-toml-key.lock": (2, "not valid TOML"),
    "deeply-nested.lock": (2, "nested too deeply"),
    "garbage.bin": (2, "binary data, not a TOML lock file"),
    "not-utf8.lock": (2, "not UTF-8 text"),
}


def run_verify(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["verify", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_corpus_table_covers_every_file() -> None:
    assert sorted(p.name for p in INVALID.iterdir()) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_invalid_lock(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected_code, expected_text = CORPUS[name]
    code, out, err = run_verify(INVALID / name, capsys)
    assert code == expected_code
    assert expected_text in out + err
    if code == 2:  # unreadable: exactly one line on stderr, naming the file
        assert out == ""
        assert err.count("\n") == 1
        assert err.startswith(f"tritonlock: error: {INVALID / name}: ")
    else:  # every problem on its own line, naming the file, then a summary
        lines = out.splitlines()
        assert all(line.startswith(f"{INVALID / name}: ") for line in lines[:-1])
        summary = "PARTIAL " if name == "partial.lock" else "FAILED "
        assert lines[-1].startswith(summary)


def test_three_problems_give_three_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_verify(INVALID / "three-problems.lock", capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[:-1] == [
        f'{INVALID / "three-problems.lock"}: git[0].commit: not a 40-hex commit id: "xyz"',
        f"{INVALID / 'three-problems.lock'}: image[0].digest: not a digest of the form "
        'sha256:<64 lowercase hex>: "latest"',
        f"{INVALID / 'three-problems.lock'}: url[0].size: is missing",
    ]
    assert lines[-1] == f"FAILED {INVALID / 'three-problems.lock'}: 3 problems"


def test_rule_problems_are_all_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Tampered hash, a duplicate and partial at once: three lines."""
    text = (INVALID / "duplicate-git.lock").read_text()
    text = text.replace('release = "25.04"', 'release = "25.05"')  # tamper
    text += '\n[[unresolved]]\nkind = "url"\nwhat = "boost"\nwhy = "offline"\n'
    lock = tmp_path / "triton.lock"
    lock.write_text(text)
    code, out, _ = run_verify(lock, capsys)
    assert code == 1
    problems = out.splitlines()[:-1]
    assert len(problems) == 3
    assert "content-hash: does not match" in problems[0]
    assert "git[2]: duplicate name 'server'" in problems[1]
    assert "unresolved[0]: partial lock: url 'boost' is not pinned (offline)" in problems[2]


def test_too_large_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.lock"
    with big.open("wb") as fh:
        fh.write(b"lock-version = 1\n")
        fh.write((b"# " + b"x" * 1021 + b"\n") * (50 * 1024))  # 50 MiB of comments
    assert big.stat().st_size > 50 * 1024 * 1024
    code, out, err = run_verify(big, capsys)
    assert (code, out) == (2, "")
    assert f"{big}: larger than 16 MiB; not a triton.lock" in err


def test_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_verify(tmp_path, capsys)
    assert code == 2
    assert f"{tmp_path}: is a directory, not a lock file" in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_verify(tmp_path / "nope.lock", capsys)
    assert code == 2
    assert "nope.lock: no such file; create it with `tritonlock resolve`" in err


def test_valid_lock_is_ok(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "valid" / "complete.lock"
    report = verify.verify(path)
    assert report.ok and report.lock is not None
    assert report.content_hash == report.lock.content_hash
    code, out, err = run_verify(path, capsys)
    assert (code, out, err) == (0, f"OK {report.content_hash}\n", "")


def test_library_raises_read_error_for_unreadable() -> None:
    with pytest.raises(LockReadError) as info:
        verify.verify(INVALID / "garbage.bin")
    assert info.value.exit_code == 2


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code = cli.main(["verify", "--json", str(INVALID / "partial.lock")])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["ok"] is False
    assert report["content-hash"].startswith("sha256:")
    assert len(report["problems"]) == 1


def test_example_lock_is_honestly_partial() -> None:
    """locks/example.lock holds real r25.04 pins but no digests yet: verify says partial only."""
    report = verify.verify(DATA.parent.parent / "locks" / "example.lock")
    assert report.lock is not None
    assert report.content_hash == report.lock.content_hash  # sealed, untampered
    assert [p.split(":")[0] for p in report.problems] == ["unresolved[0]", "unresolved[1]"]
    assert all("partial lock" in p for p in report.problems)
    assert report.lock.inputs.target == "igpu"
    assert {g.name: g.commit for g in report.lock.git}["server"] == (
        "d79c4f11ed08572571b2eac99e0dac268e38cf9b"
    )
