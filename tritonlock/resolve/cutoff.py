"""The wheels' ``--exclude-newer`` cutoff: the package indexes read as they were at a time.

The lock records the cutoff in ``[inputs]`` as a UTC time to the second
(``2025-02-20T18:02:11Z``), or ``now`` for none. uv is given the same value, and the files
tritonlock picks from the index listings agree with uv's: only those with a PEP 700
``upload-time`` before the cutoff count.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone

from ..errors import ResolveError, UsageError
from ..sources.pyindex import IndexFile

NOW = "now"  # no cutoff: the indexes as they are today
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_cutoff(text: str) -> str:
    """``--exclude-newer TEXT`` as the lock records it: ``now``, or a UTC time to the second.

    A date is its whole day in UTC (``2025-02-20`` → ``2025-02-21T00:00:00Z``), as uv takes a
    date (in the local time zone there); a time's offset is applied and its fraction of a
    second dropped."""
    if text == NOW:
        return NOW
    try:
        if m := _DATE.fullmatch(text):
            day = date(int(m[1]), int(m[2]), int(m[3])) + timedelta(days=1)
            return f"{day.isoformat()}T00:00:00Z"
        if at := _parse_time(text):
            return at.astimezone(UTC).strftime(_FORMAT)
    except (ValueError, OverflowError):
        pass
    raise UsageError(
        f"--exclude-newer {text!r}: expected a date YYYY-MM-DD, an RFC 3339 time such as "
        "2025-02-20T18:02:11Z, or now"
    )


def _parse_time(text: str) -> datetime | None:
    """An RFC 3339 time (its fraction of a second dropped), or None if ``text`` is none."""
    m = _TIME.fullmatch(text)
    if m is None:
        return None
    zone = UTC
    if m[8] not in ("Z", "z"):
        sign = -1 if m[8][0] == "-" else 1
        hours, minutes = int(m[8][1:3]), int(m[8][4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(m[8])
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    year, month, day, hour, minute, second = (int(m[i]) for i in range(1, 7))
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


def cutoff_at(committed: int) -> str:
    """The cutoff of a commit time (seconds since the epoch)."""
    return time.strftime(_FORMAT, time.gmtime(committed))


def wheel_cutoff(asked: str | None, committed: int | None) -> str:
    """The cutoff asked for (``now`` included), else the server commit's time."""
    if asked is not None:
        return asked
    if committed is None:
        raise ResolveError(
            "wheels: no server commit time to date the package indexes; pass --exclude-newer"
        )
    return cutoff_at(committed)


def _seconds(text: str | None) -> int | None:
    """An RFC 3339 time, in whole seconds since the epoch (rounded down), or None."""
    try:
        at = _parse_time(text) if text is not None else None
    except (ValueError, OverflowError):
        return None
    return int(at.timestamp()) if at is not None else None


def uploaded_before(files: Sequence[IndexFile], cutoff: str) -> list[IndexFile]:
    """The files uploaded before ``cutoff`` (a UTC time to the second, never ``now``).

    As uv's ``--exclude-newer`` (tried with uv 0.13): a file uploaded at the cutoff itself is
    left out, and so is a file without an upload time (PEP 700 ``upload-time``, which a
    PEP 503 HTML page never has), so an index that dates no file offers nothing. An
    upload time that is no RFC 3339 time counts as none (uv refuses such a page). uv keeps
    upload times to the millisecond; as the cutoff is a whole second, comparing whole
    seconds gives the same answer."""
    limit = _seconds(cutoff)
    if limit is None:
        raise ValueError(f"not a cutoff time: {cutoff!r}")
    out = []
    for f in files:
        uploaded = _seconds(f.upload_time)
        if uploaded is not None and uploaded < limit:
            out.append(f)
    return out


def dated(files: list[IndexFile] | None, cutoff: str | None, where: str) -> list[IndexFile] | None:
    """A project's listing cut at ``cutoff`` (None: all of it). A listing without any upload
    time is an error: uv would find no version there, and say less about why."""
    if files is None or cutoff is None:
        return files
    kept = uploaded_before(files, cutoff)
    if files and all(f.upload_time is None for f in files):
        raise ResolveError(
            f"{where} lists no upload times (PEP 700: PEP 691 JSON pages only, never HTML), "
            f"so no file is known to be older than the --exclude-newer cutoff {cutoff}; pass "
            "--exclude-newer now to read the index as it is today"
        )
    return kept
