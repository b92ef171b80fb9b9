"""``tritonlock export sbom``: a lock's inventory (:mod:`.inventory`) as CycloneDX or SPDX
JSON, dated by ``SOURCE_DATE_EPOCH`` when it is set (so a rerun gives the same bytes), else
by the time of the export."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ..errors import UsageError
from ..model import Lock
from . import cyclonedx, spdx
from .inventory import inventory

FORMATS = ("cyclonedx-json", "spdx-json")


def sbom(lock: Lock, fmt: str, created: datetime) -> str:
    """The SBOM text of ``lock`` in ``fmt`` (one of :data:`FORMATS`)."""
    inv = inventory(lock)
    if fmt == "cyclonedx-json":
        return cyclonedx.render(inv, created)
    if fmt == "spdx-json":
        return spdx.render(inv, created)
    raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")


def created_at(env: Mapping[str, str]) -> datetime:
    """``SOURCE_DATE_EPOCH`` (whole seconds) as a UTC time, else now (to the second)."""
    epoch = env.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(UTC).replace(microsecond=0)
    if not epoch.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r}: expected whole seconds since 1970")
    return datetime.fromtimestamp(int(epoch), UTC)
