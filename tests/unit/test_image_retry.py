"""Backoff policy and Retry-After parsing (no real sleeping)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.errors import ResolveError
from tritonlock.sources.retry import RetryPolicy, Transient, parse_retry_after, with_retries


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


@given(attempt=st.integers(0, 30), retry_after=st.none() | st.floats(0, 1e6))
def test_delay_is_bounded(attempt: int, retry_after: float | None) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8, max_retry_after=30)
    assert 0 <= policy.delay(attempt, retry_after) <= 30
    if retry_after is None:
        assert policy.delay(attempt) <= 8


def test_with_retries_backs_off_then_succeeds() -> None:
    slept: list[float] = []
    answers: Iterator[Transient | str] = iter(
        [Transient("503"), Transient("429", retry_after=100.0), "ok"]
    )

    def attempt() -> str:
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    policy = RetryPolicy(attempts=3, base_delay=1, max_delay=8, max_retry_after=5)
    assert with_retries(attempt, what="x", policy=policy, sleep=slept.append) == "ok"
    assert slept == [1.0, 5.0]  # exponential first, then Retry-After capped


def test_with_retries_gives_up_with_one_line() -> None:
    slept: list[float] = []

    def attempt() -> None:
        raise Transient("registry r answered 503")

    with pytest.raises(ResolveError) as info:
        with_retries(attempt, what="image a:b", policy=RetryPolicy(attempts=3), sleep=slept.append)
    assert str(info.value).startswith("image a:b: registry r answered 503 (gave up after 3")
    assert len(slept) == 2


def test_with_retries_does_not_retry_other_errors() -> None:
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise ResolveError("404")

    with pytest.raises(ResolveError, match="404"):
        with_retries(attempt, what="x", sleep=lambda s: None)
    assert calls == [1]
