"""The one shell reader: the rewriting side (segments, command) and the reading side (split)
give the same Command for the same simple command, and one ``[ A = B ]`` evaluator serves
the recipe's conditions and the docker cp scripts."""

from __future__ import annotations

import pytest

from tritonlock.upstream.shell import Command, command, segments, split, strip_prefix, truth


@pytest.mark.parametrize(
    "line",
    [
        "A=1 B='x y' pip install -r r.txt",
        "then pip install 'numpy<2'",
        "do /usr/bin/git clone --depth 1 https://h/x.git",
        "wget -O /tmp/f https://h/f",
    ],
)
def test_both_readings_agree_on_a_simple_command(line: str) -> None:
    parts = segments(line)
    assert parts == [line] and "".join(segments(f"{line} && {line}")) == f"{line} && {line}"
    cmd = command(line)
    assert cmd is not None
    (read,) = split(line.removeprefix("then ").removeprefix("do "))
    assert read.argv == cmd.argv and read.words == cmd.words
    assert cmd.words == strip_prefix(cmd.argv)
    assert cmd.name == cmd.words[0].rsplit("/", 1)[-1]


def test_a_command_keeps_its_keywords_and_assignments_when_rendered() -> None:
    cmd = command(" then A='x y' pip install numpy ")
    assert cmd == Command(("A=x y", "pip", "install", "numpy"), keywords=("then",))
    assert (cmd.assignments, cmd.words) == (("A=x y",), ("pip", "install", "numpy"))
    assert cmd.render("true") == " then 'A=x y' true "
    assert command("echo 'unbalanced") is None


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("[[ a == a ]]", True),
        ("test a != b", True),
        ("! [[ a = b ]]", True),
        ("[ $X = ON ]", None),
        ("grep -q x f", None),
        ("[ it's = x ]", None),
    ],
)
def test_truth_of_a_test_of_literal_words(text: str, result: bool | None) -> None:
    """(the rest of its table is test_dockercp.py's test_decide)"""
    assert truth(text) is result
