"""The lock's JSON Schema, and its errors as one-line problems with lock paths."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SCHEMA_FILE = "triton-lock.schema.json"

# What each strict pattern means, in words a user can act on.
_PATTERN_WORDS = {
    "^[0-9a-f]{40}$": "not a 40-hex commit id",
    "^sha256:[0-9a-f]{64}$": "not a digest of the form sha256:<64 lowercase hex>",
    "^[a-z0-9]+(-[a-z0-9]+)*$": "not a normalized package name (PEP 503, e.g. foo-bar)",
    "^[0-9]{8}T[0-9]{6}Z$": "not a snapshot timestamp like 20250415T000000Z",
    "^(now|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)$": "not a UTC time like "
    "2025-02-20T18:02:11Z, or now",
    "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}(:(?!.*\\.\\.)(?!.*//)(?!.*\\.lock$)(?!.*/$)"
    "[A-Za-z0-9_][A-Za-z0-9._/+-]*)?$": "not NAME or NAME:REF with a valid git ref "
    "(letters, digits, . _ / + -; no '..', '//', trailing '/' or '.lock')",
}


def schema_text() -> str:
    """The schema exactly as shipped inside the package."""
    # A plain path, not importlib.resources (a 7 ms import that `verify` start-up can spare).
    return (Path(__file__).parent.parent / "schemas" / SCHEMA_FILE).read_text("utf-8")


# A path into lock data: a key per object property, None for every item of an array.
_DataPath = tuple[str | None, ...]


def _validator() -> Any:
    """jsonschema-rs (JSON Schema 2020-12, ECMA-262 regexes: ``$`` is the end of the string
    only, so a commit id followed by a newline does not match ``^[0-9a-f]{40}$``)."""
    return _compiled()[0]


@cache
def _compiled() -> tuple[Any, tuple[_DataPath, ...]]:
    """The validator of the schema without its ``uniqueItems``, and the data paths of the
    arrays that had it: :func:`_repeats` checks those in linear time (a validator compares
    every pair of items, and names the whole array, not the item repeated)."""
    spec = json.loads(schema_text())
    unique = tuple(_take_unique(spec, ()))
    return jsonschema_rs.validator_for(spec), unique


def _take_unique(node: Any, path: _DataPath) -> Iterator[_DataPath]:
    """Remove each ``uniqueItems: true`` under ``node`` (through ``properties`` and
    ``items``), yielding the data path of its array."""
    if not isinstance(node, dict):
        return
    if node.pop("uniqueItems", False) is True:
        yield path
    for key, sub in (node.get("properties") or {}).items():
        yield from _take_unique(sub, (*path, key))
    yield from _take_unique(node.get("items"), (*path, None))


def _arrays(data: Any, path: _DataPath, at: tuple[str | int, ...] = ()) -> Iterator[Any]:
    """Each array at ``path`` in ``data``, with where it is: ``(at, array)``."""
    if not path:
        if isinstance(data, list):
            yield at, data
        return
    step, rest = path[0], path[1:]
    if step is None:
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from _arrays(item, rest, (*at, i))
    elif isinstance(data, dict) and step in data:
        yield from _arrays(data[step], rest, (*at, step))


def _repeats(data: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each item of an array that must hold unique items which repeats an earlier one."""
    for path in _compiled()[1]:
        for at, array in _arrays(data, path):
            first: dict[str, int] = {}
            for i, item in enumerate(array):
                seen = first.setdefault(json.dumps(item, sort_keys=True, default=repr), i)
                if seen != i:
                    shown = "" if isinstance(item, dict | list) else f": {_short(item)}"
                    here = (*at, i)
                    yield here, f"{format_path(here)}: repeats {format_path([*at, seen])}{shown}"


class _NotJson:
    """A TOML value that JSON lacks (a float, a date or time): no schema type accepts it.

    A float would also pass JSON Schema's ``integer`` (``1.0`` is an integer there), yet it
    hashes differently from ``1``; dates and times are never valid in a lock."""

    def __init__(self, value: object) -> None:
        self.value = value


def _as_json(data: Any) -> Any:
    """``data`` with every non-JSON value replaced by a :class:`_NotJson` marker object."""
    if isinstance(data, dict):
        return {k: _as_json(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_as_json(v) for v in data]
    if isinstance(data, bool | int | str) or data is None:
        return data
    return {_MARKER: repr(_plain(data))}


_MARKER = "\x00not-json"


def _plain(value: object) -> object:
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else value


def format_path(parts: Iterable[Any]) -> str:
    """``["git", 3, "commit"]`` → ``git[3].commit``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or "(top level)"


def _shown_url(value: object) -> object:
    """A URL the schema refused, as a message may show it: whole when it carries no secret,
    else its scheme and host only (a lock may hold a token by mistake; the message must not
    repeat it)."""
    if not isinstance(value, str) or "://" not in value:
        return value
    from ..util.redact import public_url

    return public_url(value)


def _describe(err: Any) -> str:
    kind = type(err.kind).__name__
    fields = err.kind.as_dict()
    instance = err.instance
    if kind == "Pattern":
        words = _PATTERN_WORDS.get(str(fields.get("pattern")))
        if words is None:
            last = err.instance_path[-1] if err.instance_path else ""
            if "url" in str(last):
                words = (
                    "not an allowed URL (https/http/git/file, no credentials or shell characters)"
                )
                shown = _shown_url(instance)
                if shown != instance:
                    return f"{words}: {shown} (not shown whole: it may hold a credential)"
                return f"{words}: {_short(instance)}"
            words = "contains characters that are not allowed here"
        return f"{words}: {_short(instance)}"
    if kind == "AdditionalProperties":
        unexpected = [repr(u) for u in fields.get("unexpected", [])]
        verb = "was" if len(unexpected) == 1 else "were"
        return f"unknown field(s): {', '.join(unexpected)} {verb} unexpected"
    if kind == "Type":
        types = fields.get("types", [])
        wanted = types[0] if len(types) == 1 else types
        return f"expected {wanted}, got {_short(instance)}"
    if kind == "Constant":
        return f"must be {json.dumps(fields.get('expected_value'))}, got {_short(instance)}"
    if kind == "PropertyNames":  # what is wrong with the key itself
        inner = fields.get("error")
        return _describe(inner) if inner is not None else f"key not allowed: {_short(instance)}"
    if kind == "MaxLength":
        return f"longer than {fields.get('limit')} characters: {_short(instance)}"
    if kind in ("MinItems", "MinProperties") and fields.get("limit") == 1:
        return f"{_short(instance)} should be non-empty"
    return str(err.message).splitlines()[0]


def _short(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {_MARKER}:
        return str(value[_MARKER])
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _sort_key(path: Iterable[Any]) -> list[tuple[int, str]]:
    """Document order: ``git[2]`` before ``git[10]``."""
    return [(0, f"{p:012d}") if isinstance(p, int) else (1, str(p)) for p in path]


def problems(data: Any) -> list[str]:
    """Every schema problem of ``data``, as ``path: what is wrong``, in document order."""
    plain = _as_json(data)
    found = [(tuple(err.instance_path), _problem(err)) for err in _validator().iter_errors(plain)]
    found += _repeats(plain)
    found.sort(key=lambda where_what: _sort_key(where_what[0]))
    return [what for _, what in found]


def _problem(err: Any) -> str:
    path = list(err.instance_path)
    if type(err.kind).__name__ == "Required":
        return f"{format_path([*path, err.kind.as_dict()['property']])}: is missing"
    return f"{format_path(path)}: {_describe(err)}"
