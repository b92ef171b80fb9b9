"""Reading, writing and hashing lock files: hash invariance and mutation sensitivity."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import strategies as S
from tritonlock import cli, lockfile
from tritonlock.errors import LockInvalid, LockReadError
from tritonlock.lockfile import schema
from tritonlock.model import Lock

VALID = Path(__file__).parent.parent / "data" / "valid" / "complete.lock"


def _restyle(data: Any, rnd: Any, *, inline: bool = False, std: bool = False) -> Any:
    """The same data as tomlkit items in a random style: key order, quoting, inline tables."""
    if isinstance(data, dict):
        keys = list(data)
        rnd.shuffle(keys)
        inline = not std and (inline or rnd.random() < 0.5)
        table: Any = tomlkit.inline_table() if inline else tomlkit.table()
        for key in keys:
            table.add(key, _restyle(data[key], rnd, inline=inline))
            if not inline and rnd.random() < 0.3:
                table.add(tomlkit.comment("a comment does not change the hash"))
        return table
    if isinstance(data, list):
        if data and all(isinstance(v, dict) for v in data) and not inline and rnd.random() < 0.5:
            aot = tomlkit.aot()
            for item in data:
                aot.append(_restyle(item, rnd, std=True))
            return aot
        arr = tomlkit.array()
        for item in data:
            arr.append(_restyle(item, rnd, inline=True))
        arr.multiline(not inline and rnd.random() < 0.5)
        return arr
    if isinstance(data, str) and "'" not in data and rnd.random() < 0.5:
        return tomlkit.string(data, literal=True)
    return data


def restyled_text(data: dict[str, Any], rnd: Any) -> str:
    doc = tomlkit.document()
    doc.add(tomlkit.comment("hand-formatted"))
    keys = list(data)
    rnd.shuffle(keys)
    for key in keys:
        value = data[key]
        doc.add(key, _restyle(value, rnd) if isinstance(value, dict | list) else value)
    lines = tomlkit.dumps(doc).splitlines()
    # whitespace around "=" of top-level-indented keys only (never inside a string)
    lines = [
        re.sub(r"^([A-Za-z0-9_-]+) = ", r"\1=", ln) if rnd.random() < 0.5 else ln for ln in lines
    ]
    return "\n".join(lines) + "\n\n# trailing comment\n"


@settings(max_examples=30, deadline=None)
@given(S.locks(sealed=True), st.randoms(use_true_random=False))
def test_hash_ignores_formatting_and_comments(lock: Lock, rnd: Any) -> None:
    text = restyled_text(lock.to_dict(), rnd)
    assert text != lockfile.dumps(lock)
    raw = lockfile.parse_raw("x.lock", text.encode())
    assert raw.data == lock.to_dict()
    assert lockfile.content_hash(raw.data) == lock.content_hash
    assert lockfile.check_hash(raw) == []
    assert lockfile.loads(text) == lock


def _other_value(data: st.DataObject, field: str, old: Any) -> Any:
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return old + 1 if old < 253402300799 else old - 1
    new = data.draw(S.field_strings(field, adversarial=False).filter(lambda v: v != old))
    return new


@settings(max_examples=30, deadline=None)
@given(lock=S.locks(sealed=True), data=st.data())
def test_any_single_mutation_changes_hash_and_verify_fails(
    lock: Lock, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    original = lock.to_dict()
    leaves = S.string_leaves(original) + _number_leaves(original)
    path, field = data.draw(st.sampled_from(leaves))
    mutated = copy.deepcopy(original)
    old: Any = mutated
    for part in path:
        old = old[part]
    S.set_leaf(mutated, path, _other_value(data, field, old))
    assert lockfile.content_hash(mutated) != lock.content_hash
    target = tmp_path_factory.mktemp("mut") / "triton.lock"
    target.write_text(tomlkit.dumps(mutated))
    assert cli.main(["verify", str(target)]) == 1
    if not schema.problems(mutated):
        raw = lockfile.read_raw(target)
        assert lockfile.check_hash(raw) != []


def _number_leaves(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    if isinstance(data, dict):
        return [
            leaf
            for k, v in data.items()
            if k != "lock-version"
            for leaf in _number_leaves(v, (*path, k))
        ]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in _number_leaves(v, (*path, i))]
    if isinstance(data, int) and not isinstance(data, bool):
        return [(path, "")]
    return []


@settings(max_examples=30, deadline=None)
@given(S.locks())
def test_dumps_is_deterministic_with_header(lock: Lock) -> None:
    text = lockfile.dumps(lock)
    assert text == lockfile.dumps(lockfile.seal(lock))
    assert text.startswith(lockfile.HEADER)


def test_write_returns_sealed_and_reads_back(tmp_path: Path) -> None:
    lock = lockfile.load(VALID)
    path = tmp_path / "triton.lock"
    sealed = lockfile.write(lock, path)
    assert sealed == lock
    assert path.read_bytes() == VALID.read_bytes()
    assert lockfile.file_hash(path) == lock.content_hash


def test_loads_lists_every_schema_problem() -> None:
    text = VALID.read_text().replace('ref = "r25.04"', 'ref = "r25.04;id"')
    with pytest.raises(LockInvalid) as info:
        lockfile.loads(text, "t.lock")
    assert info.value.problems == [
        f'git[{i}].ref: contains characters that are not allowed here: "r25.04;id"' for i in (0, 1)
    ]
    assert str(info.value).endswith("(and 1 more; `tritonlock verify t.lock` lists them all)")
    assert info.value.exit_code == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lock-version = 2\n", "lock-version 2 was written by a newer tritonlock"),
        ("lock-version = 0\n", "lock-version 0 is not a valid lock-version"),
        ('lock-version = "1"\n', "lock-version: expected an integer, got '1'"),
        ("lock-version = true\n", "lock-version: expected an integer, got True"),
        ("[inputs]\n", "lock-version is missing"),
        ("lock-version = \n", "not valid TOML"),
    ],
)
def test_version_checked_before_schema(text: str, message: str) -> None:
    with pytest.raises(LockReadError) as info:
        lockfile.loads(text, "t.lock")
    assert str(info.value).startswith("t.lock: ")
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_validate_data() -> None:
    data = lockfile.load(VALID).to_dict()
    lockfile.validate_data(data)
    data["git"][0]["commit"] = "HEAD"
    with pytest.raises(LockInvalid, match=r"git\[0\]\.commit: not a 40-hex commit id"):
        lockfile.validate_data(data)
