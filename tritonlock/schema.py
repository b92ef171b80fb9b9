"""The lock's JSON Schema, and its errors as one-line problems with lock paths."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

SCHEMA_FILE = "triton-lock.schema.json"

# What each strict pattern means, in words a user can act on.
_PATTERN_WORDS = {
    "^[0-9a-f]{40}$": "not a 40-hex commit id",
    "^sha256:[0-9a-f]{64}$": "not a digest of the form sha256:<64 lowercase hex>",
    "^[a-z0-9]+(-[a-z0-9]+)*$": "not a normalized package name (PEP 503, e.g. foo-bar)",
    "^[0-9]{8}T[0-9]{6}Z$": "not a snapshot timestamp like 20250415T000000Z",
    "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}(:(?!.*\\.\\.)(?!.*//)(?!.*\\.lock$)(?!.*/$)"
    "[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199})?$": "not NAME or NAME:REF with a valid git ref "
    "(letters, digits, . _ / + -; no '..', '//', trailing '/' or '.lock')",
}


def schema_text() -> str:
    """The schema exactly as shipped inside the package."""
    return resources.files("tritonlock").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` with ECMA-262 meaning of ``$``: the end of the string only.

    Python's ``$`` also matches before a final newline, so ``^[0-9a-f]{40}$``
    would accept a commit id followed by a newline; ``\\Z`` does not.
    """
    out, in_class, escaped = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "$" and not in_class:
            ch = r"\Z"
        out.append(ch)
    return re.compile("".join(out))


def _pattern(
    validator: Any, pattern: str, instance: Any, _schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_integer(_checker: Any, instance: Any) -> bool:
    """A TOML integer only: ``1.0`` is a float, and would hash differently from ``1``."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {"pattern": _pattern},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@cache
def _validator() -> Any:
    return _Validator(json.loads(schema_text()))


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
    if err.validator == "const":
        return f"must be {json.dumps(err.validator_value)}, got {_short(err.instance)}"
    if err.validator == "propertyNames":
        return f"key not allowed: {_short(err.instance)}"
    return str(err.message).splitlines()[0]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _sort_key(path: Iterable[Any]) -> list[tuple[int, str]]:
    """Document order: ``git[2]`` before ``git[10]``."""
    return [(0, f"{p:012d}") if isinstance(p, int) else (1, str(p)) for p in path]


def problems(data: Any) -> list[str]:
    """Every schema problem of ``data``, as ``path: what is wrong``, in document order."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: _sort_key(e.absolute_path))
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
