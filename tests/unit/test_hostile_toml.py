"""Readable but hostile lock files: bounded before parsing, one line naming the file, exit 2
(issue 14). Each once crashed with an internal error or took gigabytes."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

HEAD = 'lock-version = 1\ncontent-hash = "sha256:' + "a" * 64 + '"\n'

CASES = {
    # 20k dotted parts once took the TOML parser 1.6 GB
    "dotted-key": (HEAD + ".".join(["a"] * 20_000) + " = 1\n", "a key of more than 16 dotted"),
    "quoted-dotted-key": (HEAD + ".".join(['"a"'] * 40) + " = 1\n", "a key of more than 16"),
    "inline-dotted-key": (HEAD + "x = { " + ".".join(["b"] * 40) + " = 1 }\n", "dotted parts"),
    "deep-table-header": (HEAD + "[" + ".".join(["a"] * 1000) + "]\n", "dotted parts"),
    "deep-aot-header": (HEAD + "[[" + ".".join(["a"] * 40) + "]]\n", "dotted parts"),
    "many-tables": (HEAD + "".join(f"[t{i}]\n" for i in range(300_000)), "300000 tables"),
    "huge-integer": (HEAD + "x = " + "9" * 5000 + "\n", "value has 5000 digits"),
    "nested-arrays": (
        HEAD + '[inputs]\nrelease = "25.04"\nbackends = ' + "[" * 300 + "]" * 300 + "\n",
        "nested more than 32 levels deep",
    ),
    "nested-inline-tables": (HEAD + "x = " + "{a = " * 200 + "1" + "}" * 200 + "\n", "nested"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["verify", "hash", "export requirements --step final"])
def test_hostile_input_is_one_line_exit_2(case: str, command: str, tmp_path: Path) -> None:
    text, expected = CASES[case]
    path = tmp_path / f"{case}.lock"
    path.write_text(text)

    def limit() -> None:  # a regression to the old blow-up fails instead of swapping
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "tritonlock", *command.split(), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert str(path) in done.stderr and expected in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_a_lock_with_many_pins_is_not_refused(tmp_path: Path) -> None:
    from tritonlock import lockfile

    lines = [f'[[t]]\nname = "p{i}.{i}.{i}"\nversion = "1.2.3.4.5"\n' for i in range(2000)]
    data = lockfile.parse_raw("x.lock", ("lock-version = 1\n" + "".join(lines)).encode()).data
    assert len(data["t"]) == 2000
