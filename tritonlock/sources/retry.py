"""Retries with exponential backoff for transient source failures.

An attempt raises :class:`Transient` for what may pass (429, 5xx, timeouts, truncated
bodies); :func:`with_retries` sleeps and tries again, honouring a capped Retry-After,
and turns the last failure into a one-line :class:`~tritonlock.errors.ResolveError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from tritonlock.errors import ResolveError, Unreachable

T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how long to wait; tests pass tiny delays."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` counts from 0)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_retry_after))
        return float(min(self.base_delay * (2**attempt), self.max_delay))


DEFAULT_POLICY = RetryPolicy()


class Transient(Exception):
    """A failure worth another try; ``reason`` is a short phrase without secrets."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def with_retries(
    attempt: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``attempt`` until it returns or raises something other than Transient."""
    for n in range(policy.attempts):
        try:
            return attempt()
        except Transient as err:
            if n + 1 >= policy.attempts:
                raise Unreachable(
                    f"{what}: {err.reason} (gave up after {policy.attempts} attempts); "
                    "try again later or use a mirror"
                ) from None
            sleep(policy.delay(n, err.retry_after))
    raise AssertionError("unreachable")  # pragma: no cover


def transport_problem(err: httpx.TransportError, what: str, tls_hint: str) -> Exception:
    """A transport failure as a final ResolveError (untrusted TLS) or a Transient to retry."""
    if "CERTIFICATE_VERIFY_FAILED" in str(err):
        return ResolveError(f"{what}: TLS certificate not trusted; {tls_hint}")
    if isinstance(err, httpx.TimeoutException):
        return Transient("timed out")
    if isinstance(err, httpx.RemoteProtocolError):
        return Transient("connection closed early (truncated answer)")
    return Transient(f"connection failed ({type(err).__name__})")


def check_status(
    resp: httpx.Response, what: str, hints: Mapping[int, str], default: str = ""
) -> None:
    """Nothing for a 200; :class:`Transient` for what may pass (429, 5xx, with the server's
    Retry-After); else a one-line :class:`ResolveError` naming the status and its hint
    (``hints[status]``, else ``default``; none when empty)."""
    status = resp.status_code
    if status == 200:
        return
    if status in RETRY_STATUSES or status >= 500:
        raise Transient(
            f"server answered {status}", parse_retry_after(resp.headers.get("retry-after"))
        )
    hint = hints.get(status, default)
    raise ResolveError(f"{what}: server answered {status}" + (f" ({hint})" if hint else ""))
