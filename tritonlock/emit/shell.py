"""Splitting a RUN line into simple commands, and the quoting of what we put back.

Only what is split is rewritten; every other byte of upstream's shell text is
kept, so a RUN round-trips unchanged when it holds no floating input.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

OPERATORS = ("&&", "||", ";", "|", "(", ")", "\n")
KEYWORDS = frozenset({"then", "else", "do", "!", "{"})


def split(text: str) -> list[str]:
    """``[segment, op, segment, op, …, segment]``; quotes and backslashes respected."""
    out: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                buf.append(text[i : i + 2])
                i += 2
                continue
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "\\":
            buf.append(text[i : i + 2])
            i += 2
            continue
        else:
            op = next((o for o in OPERATORS if text.startswith(o, i)), None)
            if op is not None:
                out += ["".join(buf), op]
                buf = []
                i += len(op)
                continue
        buf.append(ch)
        i += 1
    out.append("".join(buf))
    return out


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command: leading keywords (``then``…), env assignments, and its words."""

    keywords: tuple[str, ...]
    assignments: tuple[str, ...]
    words: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.words[0].rsplit("/", 1)[-1] if self.words else ""

    def render(self, new: str) -> str:
        """``new`` (already quoted shell) behind the kept keywords and assignments."""
        head = " ".join(self.keywords + tuple(shlex.quote(a) for a in self.assignments))
        return f" {head} {new} " if head else f" {new} "


def command(segment: str) -> Command | None:
    """Parse one segment, or None when it is not plain words (then it is kept as written)."""
    try:
        words = shlex.split(segment, posix=True)
    except ValueError:
        return None
    i = 0
    while i < len(words) and words[i] in KEYWORDS:
        i += 1
    j = i
    while j < len(words) and "=" in words[j] and words[j].split("=", 1)[0].isidentifier():
        j += 1
    return Command(tuple(words[:i]), tuple(words[i:j]), tuple(words[j:]))


def join(words: list[str] | tuple[str, ...]) -> str:
    return " ".join(shlex.quote(w) for w in words)


_IF = re.compile(
    r'^\s*if\s+\[\s+"?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?"?\s+(=|==|!=)\s+"?([A-Za-z0-9_.+-]*)"?\s+\]\s*$'
)
_LEAD = re.compile(r"^(\s*)(then|else)\b")


def static_if(parts: list[str], args: Mapping[str, str]) -> list[str] | None:
    """A RUN that is one ``if [ "$ARG" = "lit" ]; then A; else B; fi`` over a build ARG
    with a default: the branch that default selects (``[seg, op, …]``), else None."""
    m = _IF.match(parts[0])
    if m is None or m.group(1) not in args:
        return None
    marks: dict[str, int] = {}
    depth = 0
    for k in range(2, len(parts), 2):
        for word in parts[k].split():
            if word in ("then", "else", "elif"):
                if depth == 0 and (word in marks or word == "elif"):
                    return None
                if depth == 0:
                    marks[word] = k
                continue
            if word == "if":
                depth += 1
            elif word == "fi" and depth:
                depth -= 1
            elif word == "fi":
                marks.setdefault("fi", k)
            break
    if "then" not in marks or "fi" not in marks:
        return None
    if any(parts[k].strip() for k in range(marks["fi"] + 2, len(parts), 2)):
        return None
    equal = args[m.group(1)] == m.group(3)
    take = equal if m.group(2) != "!=" else not equal
    start = marks["then"] if take else marks.get("else")
    if start is None:
        return ["true"]
    end = marks.get("else", marks["fi"]) if take else marks["fi"]
    branch = parts[start : end - 1]
    branch[0] = _LEAD.sub(r"\1", branch[0])
    return branch
