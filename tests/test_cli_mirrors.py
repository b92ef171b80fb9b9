"""Mirror options are checked by each resolver's own parser, in every command, up front."""

from __future__ import annotations

import subprocess

import pytest

BAD = [
    ("--git-mirror", "https://github.com/=ext::sh -c touch${IFS}/tmp/pwned", "remote-helper"),
    ("--git-mirror", "https://github.com/=--upload-pack=touch", "--git-mirror"),
    ("--url-mirror", "https://example.org/=http://127.0.0.1:1/x", "--allow-http"),
    ("--registry-mirror", "nvcr.io", "--registry-mirror"),
]


@pytest.mark.parametrize(("option", "value", "words"), BAD)
@pytest.mark.parametrize(
    "command",
    [
        ["resolve", "25.04", "--target", "igpu"],
        ["verify", "--deep", "missing.lock"],
    ],
)
def test_bad_mirror_is_a_usage_error_before_anything_runs(
    command: list[str], option: str, value: str, words: str
) -> None:
    done = subprocess.run(
        ["tritonlock", *command, f"{option}={value}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and words in done.stderr


def test_build_checks_git_mirrors_too() -> None:
    done = subprocess.run(
        [
            "tritonlock",
            "build",
            "--lock",
            "missing.lock",
            "--git-mirror",
            "https://github.com/=ext::sh",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "remote-helper" in done.stderr
