"""The schema itself: shipped copy identical, every string field strict, newlines refused."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import strategies as S
from tritonlock.lockfile import schema

ROOT = Path(__file__).parent.parent.parent

# String fields deliberately left as free text (no pattern, no enum). Keep this empty unless a
# field can never reach a Dockerfile, a shell or a terminal; a new field needs a pattern.
FREE_TEXT: set[str] = set()


def _nodes(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema node describing a value, with its dotted path."""
    if not isinstance(node, dict):
        return []
    out = [(path, node)]
    for key, sub in node.get("properties", {}).items():
        out += _nodes(sub, f"{path}.{key}" if path else key)
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(node.get(key), dict):
            suffix = {"items": "", "additionalProperties": ".*", "propertyNames": ".<key>"}[key]
            out += _nodes(node[key], path + suffix)
    return out


def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "schemas" / "triton-lock.schema.json").read_text())
    return data


def test_one_schema_file() -> None:
    """The schema is one file, shipped in the package; the top-level path links to it."""
    top = ROOT / "schemas" / "triton-lock.schema.json"
    packaged = ROOT / "tritonlock" / "schemas" / "triton-lock.schema.json"
    assert top.is_symlink() and top.resolve() == packaged.resolve()
    assert not packaged.is_symlink()
    assert schema.schema_text().encode() == packaged.read_bytes()


def test_every_string_field_has_a_pattern_or_enum() -> None:
    free = {
        path
        for path, node in _nodes(_schema())
        if node.get("type") == "string" and "pattern" not in node and "enum" not in node
    }
    assert free == FREE_TEXT


def test_every_pattern_is_anchored() -> None:
    for path, node in _nodes(_schema()):
        if "pattern" in node:
            assert node["pattern"].startswith("^") and node["pattern"].endswith("$"), path


def test_long_strings_are_bounded_by_max_length_not_counted_repetition() -> None:
    """No pattern repeats a class 100+ times: a regex engine expands `{0,199}` into 199
    states, and compiling them was a third of `verify`'s start-up; `*` with a `maxLength`
    beside it costs nothing. The free-text fields keep their bound that way."""
    import re

    for path, node in _nodes(_schema()):
        assert not re.search(r"\{\d*,?\d{3,}\}", node.get("pattern", "")), path
    lengths = {path: node.get("maxLength") for path, node in _nodes(_schema())}
    assert lengths["unresolved.why"] == lengths["release-source.note"] == 500
    assert lengths["git.ref"] == 200 and lengths["wheel.requested"] == 200


def test_every_integer_has_a_minimum_and_objects_are_closed() -> None:
    for path, node in _nodes(_schema()):
        if node.get("type") == "integer":
            assert "minimum" in node, path
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, path


def test_string_fields_helper_sees_every_field() -> None:
    paths = set(S.string_fields())
    assert {"git.commit", "git.submodules.path", "wheel.files.name", "release.*"} <= paths
    assert {"inputs.target", "unresolved.kind"} <= paths  # enums


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_field_values_are_valid_and_trailing_newline_is_not(data: st.DataObject) -> None:
    """A value from a field's own pattern is valid there; the same value plus "\\n" never is.

    Python's ``$`` matches before a final newline: the validator must not.
    """
    field = data.draw(
        st.sampled_from([f for f in S.string_fields() if "pattern" in S.field_schema(f)])
    )
    value = data.draw(S.field_strings(field))
    pattern = S.field_schema(field)["pattern"]
    only = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    assert only.is_valid(value)
    for bad in (value + "\n", value + "\r\n", "\n" + value):
        assert not only.is_valid(bad), (field, bad)


def test_format_path() -> None:
    assert schema.format_path(["git", 3, "submodules", 0, "path"]) == "git[3].submodules[0].path"
    assert schema.format_path([]) == "(top level)"


def test_problems_are_in_document_order() -> None:
    bad_git = [{"name": "x", "url": "http://h/x", "ref": "main", "commit": "z"} for _ in range(12)]
    found = schema.problems({"lock-version": 1, "git": bad_git})
    commit_problems = [p.split(":")[0] for p in found if ".commit" in p]
    assert commit_problems == [f"git[{i}].commit" for i in range(12)]
    assert found[0] == "content-hash: is missing"


def test_non_canonical_spellings_are_refused() -> None:
    """Forms the model would drop (and so change the hash of) are not valid locks."""
    from tritonlock import lockfile

    data = lockfile.load(ROOT / "tests" / "data" / "valid" / "complete.lock").to_dict()
    for path, value, problem in [
        (("wheel", 0, "sdist"), False, "wheel[0].sdist: must be true"),
        (("git", 0, "found-in"), [], "git[0].found-in: [] should be non-empty"),
        (("git", 0, "submodules"), [], "git[0].submodules: [] should be non-empty"),
        (("url", 0, "found-in"), [], "url[0].found-in: [] should be non-empty"),
        (("inputs", "images"), {}, "inputs.images: {} should be non-empty"),
        (("wheel", 0, "name"), "Numpy", "wheel[0].name: not a normalized package name"),
        (("wheel", 0, "name"), "foo_bar", "wheel[0].name: not a normalized package name"),
        (("inputs", "backends"), ["--upload-pack"], "inputs.backends[0]: not NAME or NAME:REF"),
        (("unresolved",), [{"kind": "git", "what": "a\x9bb", "why": "c"}], "unresolved[0].what"),
        (("unresolved",), [{"kind": "git", "what": "a", "why": "b\u2028c"}], "unresolved[0].why"),
    ]:
        bad = json.loads(json.dumps(data))
        S.set_leaf(bad, path, value)
        found = schema.problems(bad)
        assert len(found) == 1 and found[0].startswith(problem), (path, found)


def test_every_unique_items_array_is_checked_by_key() -> None:
    """uniqueItems is checked by :func:`schema._repeats`, not by the validator (which compares
    every pair of items): each array of the schema that has it is found."""
    unique = [path for path, node in _nodes(_schema()) if node.get("uniqueItems")]
    assert unique
    assert len(schema._compiled()[1]) == len(unique)


def test_a_repeated_item_is_named_with_the_one_it_repeats() -> None:
    data = tomllib.loads((ROOT / "locks" / "example.lock").read_text())
    data["inputs"]["backends"] = ["python", "onnxruntime", "python"]
    data["apt"] = {
        "packages": [
            {"step": "final", "name": "zlib1g", "version": "1:1.3"},
            {"step": "final", "name": "curl", "version": "8.5"},
            {"step": "final", "name": "zlib1g", "version": "1:1.3"},
        ]
    }
    assert schema.problems(data) == [
        "apt.packages[2]: repeats apt.packages[0]",
        'inputs.backends[2]: repeats inputs.backends[0]: "python"',
    ]
