"""The lock's JSON Schema, and its errors as one-line problems with lock paths."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

SCHEMA_FILE = "triton-lock.schema.json"

# What each strict pattern means, in words a user can act on.
_PATTERN_WORDS = {
    "^[0-9a-f]{40}$": "not a 40-hex commit id",
    "^sha256:[0-9a-f]{64}$": "not a digest of the form sha256:<64 lowercase hex>",
    "^[a-z0-9]+([._-][a-z0-9]+)*$": "not a normalized package name (PEP 503)",
    "^[0-9]{8}T[0-9]{6}Z$": "not a snapshot timestamp like 20250415T000000Z",
}


def schema_text() -> str:
    """The schema exactly as shipped inside the package."""
    return resources.files("tritonlock").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_text()))


def format_path(parts: Iterable[Any]) -> str:
    """``["git", 3, "commit"]`` → ``git[3].commit``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or "(top level)"


def _describe(err: jsonschema.ValidationError) -> str:
    if err.validator == "pattern":
        words = _PATTERN_WORDS.get(str(err.validator_value))
        if words is None:
            scheme_hint = "url" in (str(err.path[-1]) if err.path else "")
            words = (
                "not an allowed URL (https/http/git/file, no credentials or shell characters)"
                if scheme_hint
                else "contains characters that are not allowed here"
            )
        return f"{words}: {_short(err.instance)}"
    if err.validator == "required":
        return str(err.message).replace("is a required property", "is missing")
    if err.validator == "additionalProperties":
        return f"unknown field(s): {err.message.split('(')[-1].rstrip(')')}"
    if err.validator == "type":
        return f"expected {err.validator_value}, got {_short(err.instance)}"
    if err.validator == "propertyNames":
        return f"key not allowed: {_short(err.instance)}"
    return str(err.message).splitlines()[0]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."


def problems(data: Any) -> list[str]:
    """Every schema problem of ``data``, as ``path: what is wrong``, in document order."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    out: list[str] = []
    for err in errors:
        path = list(err.absolute_path)
        if err.validator == "required":
            field = str(err.message).split("'")[1]
            path = [*path, field]
            out.append(f"{format_path(path)}: is missing")
            continue
        out.append(f"{format_path(path)}: {_describe(err)}")
    return out
