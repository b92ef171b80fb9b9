"""Mirrors change where bytes come from, never what they are: one prefix rule for all sources."""

from __future__ import annotations

from collections.abc import Sequence


def prefix_matches(prefix: str, url: str) -> bool:
    """True when ``prefix`` covers ``url`` on a path boundary (equal, ends with /, or / next).

    ``https://github.com/google`` covers ``https://github.com/google/crc32c`` but not
    ``https://github.com/googleapis/google-cloud-cpp``.
    """
    if not url.startswith(prefix):
        return False
    return len(url) == len(prefix) or prefix.endswith("/") or url[len(prefix)] == "/"


def rewrite(url: str, mirrors: Sequence[tuple[str, str]]) -> str:
    """Where the bytes of ``url`` come from: the longest matching mirror prefix, else ``url``."""
    best = max(
        (m for m in mirrors if prefix_matches(m[0], url)), key=lambda m: len(m[0]), default=None
    )
    return best[1] + url[len(best[0]) :] if best else url
