"""What changed between two locks, for code review, and a lock as git shows it.

Pure: locks in, changes and text out. :mod:`.entries` turns a lock into the entries a
reviewer compares, :mod:`.changes` compares them, :mod:`.risk` says which version changes
are risks and why, :mod:`.summary` counts them, :mod:`.wording` and :mod:`.render` write
them as text, markdown or json, and :mod:`.textconv` renders one lock for ``git diff``.
"""

from __future__ import annotations

from .changes import Change, Diff, diff_locks
from .entries import KINDS, Fields
from .render import RENDERERS, TITLES, render_json, render_markdown, render_text
from .risk import Risk
from .summary import Summary, summarize
from .wording import describe, short

__all__ = [
    "KINDS",
    "RENDERERS",
    "TITLES",
    "Change",
    "Diff",
    "Fields",
    "Risk",
    "Summary",
    "describe",
    "diff_locks",
    "render_json",
    "render_markdown",
    "render_text",
    "short",
    "summarize",
]
