"""The lock writer: the bytes tomlkit gives the same data, in time linear in the lock."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomlkit
from hypothesis import given, settings

from tests import strategies as S
from tritonlock import lockfile
from tritonlock.lockfile.tomlout import document
from tritonlock.model import Lock

LOCKS = sorted((Path(__file__).parents[2] / "locks").glob("*.lock"))


def _tomlkit(header: str, data: dict[str, Any]) -> str:
    """The layout as tritonlock wrote it with tomlkit's document model (before 0.2)."""
    doc = tomlkit.document()
    for line in header.splitlines():
        doc.add(tomlkit.comment(line[2:]))
    for key, value in data.items():
        if isinstance(value, dict):
            doc.add(tomlkit.nl())
            doc.add(key, _table(value))
        elif _aot(value):
            doc.add(tomlkit.nl())
            doc.add(key, _tables(value))
        else:
            doc.add(key, _item(value))
    return tomlkit.dumps(doc)


def _aot(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _tables(items: list[dict[str, Any]]) -> Any:
    aot = tomlkit.aot()
    for item in items:
        aot.append(_table(item))
    return aot


def _table(data: dict[str, Any]) -> Any:
    table = tomlkit.table()
    for key, value in data.items():
        if _aot(value):
            table.add(key, _tables(value))
        elif isinstance(value, dict):
            inline = tomlkit.inline_table()
            for k, v in value.items():
                inline.append(k, _item(v))
            table.add(key, inline)
        else:
            table.add(key, _item(value))
    return table


def _item(value: Any) -> Any:
    if isinstance(value, list):
        arr = tomlkit.array()
        arr.extend(value)
        arr.multiline(len(value) > 3)
        return arr
    return value


def test_committed_locks_are_written_back_byte_for_byte() -> None:
    assert LOCKS
    for path in LOCKS:
        assert lockfile.dumps(lockfile.load(path)) == path.read_text("utf-8"), path


@settings(max_examples=150, deadline=None)
@given(S.locks())
def test_same_bytes_as_tomlkit_and_reads_back(lock: Lock) -> None:
    data = lockfile.seal(lock).to_dict()
    text = document(lockfile.HEADER, data)
    assert text == _tomlkit(lockfile.HEADER, data)
    assert tomllib.loads(text) == data


def test_strings_and_keys_are_escaped_as_toml_basic_strings() -> None:
    data = {"a b": 'x"\\\x01\x7f\té\n', "t": {"k": [1, 2, 3, 4], "in": {"q.r": [True]}}}
    text = document("", data)
    assert text == _tomlkit("", data)
    assert tomllib.loads(text) == data
    assert '"a b" = "x\\"\\\\\\u0001\\u007f\\té\\n"' in text
