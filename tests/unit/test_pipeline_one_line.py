"""Reasons of ``[[unresolved]]`` entries: one line, within the schema's limit, cut visibly."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tritonlock.resolve.context import WHY_LIMIT
from tritonlock.resolve.context import one_line as _one_line

SCHEMA_REFUSES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # unresolved.why


@given(st.text())
def test_reason_is_one_line_within_the_limit(text: str) -> None:
    why = _one_line(text)
    assert 1 <= len(why) <= WHY_LIMIT
    assert why == " ".join(why.split())
    assert not SCHEMA_REFUSES.search(why)


@given(st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=300))
def test_short_reasons_keep_every_word(text: str) -> None:
    assert _one_line(text) == (" ".join(text.split()) or "unknown error")


def test_long_reason_is_cut_visibly() -> None:
    uv = "No solution found when resolving dependencies: " + "because x depends on y; " * 40
    why = _one_line(uv)
    assert len(why) <= WHY_LIMIT
    assert why.endswith("\u2026")
    assert why.startswith("No solution found when resolving dependencies: because x")


def test_control_characters_become_spaces() -> None:
    assert _one_line("\x1b[31mhost not found\x1b[0m\x00 (uv)") == "[31mhost not found [0m (uv)"
