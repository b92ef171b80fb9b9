"""TOML text of lock data in tritonlock's fixed layout, for :func:`lockfile.dumps`.

Written directly, in one pass (linear in the lock's size: tomlkit's document model took
11 s for 20k pins). The layout is the one tomlkit gives the same data, byte for byte
(tests/unit/test_tomlout.py compares the two on generated locks): the header as comments,
top-level scalars, then each table and array of tables after a blank line; inside a table
its scalars first, then its arrays of tables; tables nested in tables are inline, arrays of
more than 3 items multi-line.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import Data

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_SHORT_ESCAPES |= {'"': '\\"', "\\": "\\\\"}


def document(header: str, data: Data) -> str:
    """``header`` (``# `` lines) as comments, then ``data`` (a lock's ``to_dict``)."""
    out = [f"# {line[2:]}\n" for line in header.splitlines()]
    _scalars(out, data)
    for key, value in data.items():
        if isinstance(value, dict):
            out.append("\n")
            _table(out, _key(key), value)
        elif _is_aot(value):
            out.append("\n")
            _aot(out, _key(key), value, first_indent=False)
    return "".join(out)


def _is_aot(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _scalars(out: list[str], data: Data) -> None:
    for key, value in data.items():
        if not isinstance(value, dict) and not _is_aot(value):
            out.append(f"{_key(key)} = {_value(value, top=True)}\n")


def _table(out: list[str], name: str, data: Data) -> None:
    """``[name]``, its scalars, then its arrays of tables (a table holding nothing but arrays
    of tables has no header of its own, as in tomlkit)."""
    if not data or not all(_is_aot(v) for v in data.values()):
        out.append(f"[{name}]\n")
    _children(out, name, data)


def _children(out: list[str], name: str, data: Data) -> None:
    """Scalars (inline tables included), then arrays of tables: the first element of an
    array is set off by a blank line when anything came before it in the table's data."""
    for key, value in data.items():
        if not _is_aot(value):
            out.append(f"{_key(key)} = {_value(value, top=True)}\n")
    for position, (key, value) in enumerate(data.items()):
        if _is_aot(value):
            _aot(out, f"{name}.{_key(key)}", value, first_indent=position > 0)


def _aot(out: list[str], name: str, items: list[Data], *, first_indent: bool) -> None:
    for i, item in enumerate(items):
        if i > 0 or first_indent:
            out.append("\n")
        out.append(f"[[{name}]]\n")
        _children(out, name, item)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    return '"' + _ESCAPE.sub(_escaped, text) + '"'


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _value(value: Any, *, top: bool = False) -> str:
    """A value as TOML: only a key's own array (``top``) of more than 3 items is split over
    lines, one item a line indented by 4 spaces, with a trailing comma."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        items = [_value(v) for v in value]
        if top and len(items) > 3:
            return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
        return "[" + ", ".join(items) + "]"
    raise TypeError(f"{type(value).__name__} is not lock data")
