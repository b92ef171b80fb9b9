"""A secret in an option's value never comes back on stdout, stderr or in --json: hostile
URLs are usage errors (exit 2, one line) naming the option, never internal errors."""

from __future__ import annotations

import json

import pytest

from tritonlock.cli import main

SECRETS = ("S3C", "R@ET", "S3CRET", "hunter2")
RAW_SLASH = "http://u:S3C/R@ET@127.0.0.1:9"  # a password with a raw / (and an @)
RESOLVE = ["resolve", "25.04", "--target", "igpu"]
DEEP = ["verify", "--deep", "missing.lock"]

CASES = [
    (RESOLVE, "--git-mirror", f"https://github.com/={RAW_SLASH}/git", "percent-encode"),
    (
        RESOLVE,
        "--git-mirror",
        "https://github.com/=https://h.example/g?private_token=S3CRET",
        "query",
    ),
    (RESOLVE, "--git-mirror", "https://github.com/=ssh://git:hunter2@h.example/g", "ssh key"),
    (RESOLVE, "--registry-mirror", "docker.io=u:S3CRET@mirror.example", "no credentials"),
    (RESOLVE, "--registry-mirror", "docker.io=u:S3C/R@ET@mirror.example", "no credentials"),
    (RESOLVE, "--url-mirror", f"https://github.com/={RAW_SLASH}/x", "no credentials"),
    (RESOLVE, "--github-organization", f"{RAW_SLASH}/org", "--github-organization"),
    (RESOLVE, "--index-url", f"{RAW_SLASH}/simple", "percent-encode"),
    (RESOLVE, "--extra-index-url", f"jetson={RAW_SLASH}/simple", "percent-encode"),
    (RESOLVE, "--apt-archive", f"{RAW_SLASH}/ubuntu", "percent-encode"),
    (DEEP, "--index-url", "local=http://u:S3C/RET@127.0.0.1:1/simple", "percent-encode"),
    (DEEP, "--git-mirror", f"https://github.com/={RAW_SLASH}/git", "percent-encode"),
    (DEEP, "--apt-archive", f"{RAW_SLASH}/ubuntu", "percent-encode"),
    (
        ["build", "--lock", "missing.lock"],
        "--git-mirror",
        f"https://github.com/={RAW_SLASH}",
        "percent-encode",
    ),
]


# Every case in text and in --json, except build, which has no --json.
MATRIX = [(*case, as_json) for case in CASES for as_json in (False, True)
          if not (as_json and case[0][0] == "build")]  # fmt: skip


@pytest.mark.parametrize(("command", "option", "value", "words", "as_json"), MATRIX)
def test_hostile_option_is_a_usage_error_that_never_echoes_the_secret(
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    option: str,
    value: str,
    words: str,
    as_json: bool,
) -> None:
    code = main([*command, option, value, *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert err.count("\n") == 1 and "internal error" not in err, err
    assert option in err and words in err, err
    for secret in SECRETS:
        assert secret not in out + err, out + err
    if as_json:
        assert json.loads(out)["exit"] == 2


def test_an_unrecognized_argument_is_echoed_masked(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*RESOLVE, "--json", "https://u:S3CRET@h.example/x"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "unrecognized arguments: https://***@h.example/x" in err
    assert "S3CRET" not in out + err
