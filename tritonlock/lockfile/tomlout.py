"""TOML text of lock data in tritonlock's fixed layout (tomlkit), for :func:`lockfile.dumps`."""

from __future__ import annotations

from typing import Any

import tomlkit

from ..model import Data


def document(header: str, data: Data) -> str:
    """``header`` (``# `` lines) as comments, then ``data``: scalars first as written, each
    table and array of tables after a blank line, arrays of more than 3 items multi-line."""
    doc = tomlkit.document()
    for line in header.splitlines():
        doc.add(tomlkit.comment(line[2:]))
    _fill(doc, data)
    return tomlkit.dumps(doc)


def _fill(doc: tomlkit.TOMLDocument, data: Data) -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            doc.add(tomlkit.nl())
            doc.add(key, _table(value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            doc.add(tomlkit.nl())
            aot = tomlkit.aot()
            for item in value:
                aot.append(_table(item))
            doc.add(key, aot)
        else:
            doc.add(key, _item(value))


def _table(data: Data) -> Any:
    table = tomlkit.table()
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            aot = tomlkit.aot()
            for item in value:
                aot.append(_table(item))
            table.add(key, aot)
        elif isinstance(value, dict):
            table.add(key, _inline(value))
        else:
            table.add(key, _item(value))
    return table


def _inline(data: Data) -> Any:
    inline = tomlkit.inline_table()
    for key, value in data.items():
        inline.append(key, _item(value))
    return inline


def _item(value: Any) -> Any:
    if isinstance(value, list):
        arr = tomlkit.array()
        arr.extend(value)
        if len(value) > 3:
            arr.multiline(True)
        return arr
    return value
