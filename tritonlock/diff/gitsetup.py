"""What ``tritonlock git-setup`` writes, as data: the ``.gitattributes`` lines that route
locks to tritonlock's diff and merge drivers, and the git config that defines the drivers.

git runs ``diff.<driver>.textconv FILE`` and uses its output as the text it diffs, and
``merge.<driver>.driver`` with ``%O %A %B %P`` replaced by the base, ours (where the result
goes), theirs and the path; a non-zero exit marks the file conflicted.
"""

from __future__ import annotations

import re

DRIVER = "tritonlock"
DEFAULT_PATTERNS = ("triton.lock",)
# A gitattributes pattern: no whitespace (the line is split on it), no comment start.
_PATTERN = re.compile(r"^[^\s#!\"][^\s\"]*$")


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a .gitattributes pattern, or None."""
    if not _PATTERN.match(pattern):
        return "a gitattributes pattern has no spaces or quotes and starts with no # or !"
    return None


def attributes_line(pattern: str) -> str:
    return f"{pattern} diff={DRIVER} merge={DRIVER}"


def with_attributes(text: str, patterns: tuple[str, ...]) -> str:
    """``text`` (a .gitattributes file) with a line for each pattern: a line for that
    pattern that names other drivers is replaced, one that is already right is kept."""
    lines = text.splitlines()
    for pattern in patterns:
        line = attributes_line(pattern)
        same = [i for i, old in enumerate(lines) if old.split()[:1] == [pattern]]
        if any(lines[i] == line for i in same):
            continue
        for i in reversed(same):
            if _ours_or_none(lines[i]):
                del lines[i]
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def _ours_or_none(line: str) -> bool:
    """A line for the pattern that sets only diff/merge attributes (which ours replaces)."""
    return all(a.startswith(("diff", "merge", "-diff", "-merge")) for a in line.split()[1:])


def config(command: str) -> tuple[tuple[str, str], ...]:
    """The git config entries of both drivers, running ``command`` (``tritonlock``)."""
    return (
        (f"diff.{DRIVER}.textconv", f"{command} diff --textconv"),
        (f"merge.{DRIVER}.name", "tritonlock: entry-by-entry merge of triton.lock"),
        (f"merge.{DRIVER}.driver", f"{command} merge-driver %O %A %B %P"),
    )
