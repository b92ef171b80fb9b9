"""The recipe cache: build.py's files kept by server commit and options, a bad entry a miss."""

from __future__ import annotations

from pathlib import Path

import pytest

from tritonlock.resolve.recipecache import FOLDER, keep_recipe, kept_recipe
from tritonlock.util.store import Store

COMMIT = "a" * 40
OPTIONS = ["--target-machine=x86_64", "--backend=python"]
FILES = {"Dockerfile": "FROM x\n", "cmake_build": "cmake ..\n"}


def test_kept_files_come_back_for_the_same_commit_and_options(tmp_path: Path) -> None:
    assert kept_recipe(tmp_path, COMMIT, OPTIONS) is None
    keep_recipe(tmp_path, COMMIT, OPTIONS, FILES)
    assert kept_recipe(tmp_path, COMMIT, OPTIONS) == FILES


@pytest.mark.parametrize(
    ("commit", "options"),
    [("b" * 40, OPTIONS), (COMMIT, [*OPTIONS, "--backend=vllm"]), (COMMIT, OPTIONS[::-1])],
)
def test_another_commit_or_options_is_a_miss(
    tmp_path: Path, commit: str, options: list[str]
) -> None:
    keep_recipe(tmp_path, COMMIT, OPTIONS, FILES)
    assert kept_recipe(tmp_path, commit, options) is None


@pytest.mark.parametrize(
    "text",
    [b"", b"{", b"[]", b'{"files": {}}', b'{"files": {"a": 1}}', b'{"files": ["a"]}', b"\xff"],
)
def test_an_entry_that_cannot_be_read_is_a_miss(tmp_path: Path, text: bytes) -> None:
    keep_recipe(tmp_path, COMMIT, OPTIONS, FILES)
    (entry,) = (tmp_path / FOLDER).iterdir()
    entry.write_bytes(text)
    assert kept_recipe(tmp_path, COMMIT, OPTIONS) is None


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    (tmp_path / FOLDER).write_text("a file where the folder should be")
    keep_recipe(tmp_path, COMMIT, OPTIONS, FILES)
    assert kept_recipe(tmp_path, COMMIT, OPTIONS) is None


def test_prune_all_removes_kept_recipes(tmp_path: Path) -> None:
    keep_recipe(tmp_path, COMMIT, OPTIONS, FILES)
    store = Store(tmp_path)
    assert {k.kind: k.entries for k in store.info()}["recipes"] == 1
    store.prune(everything=True)
    assert not (tmp_path / FOLDER).exists()
