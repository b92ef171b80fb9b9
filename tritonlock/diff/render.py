"""The diff as a reviewer reads it: text for a terminal, markdown for a pull request (a
summary and the risk flags first, then each kind folded in a ``<details>`` section, so a
PR comment stays short) and json for machines (documented in the README)."""

from __future__ import annotations

import html
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .changes import Change, Diff
from .entries import KINDS
from .summary import Summary, summarize
from .wording import FOLD_AT, describe, file_lines, long_text, short, sign

TITLES = {
    "inputs": "Inputs",
    "release": "Release facts",
    "recipe": "Upstream recipe",
    "git": "Git repositories",
    "submodule": "Submodules",
    "index": "Package indexes",
    "wheel": "Wheels",
    "environment": "Versions changed between install steps",
    "image": "Images",
    "url": "URL downloads",
    "apt": "Apt",
    "unresolved": "Unresolved",
}
_WIDTH = 100


def _grouped(diff: Diff) -> Iterable[tuple[str, list[Change]]]:
    for kind in KINDS:
        group = diff.of_kind(kind)
        if group:
            yield kind, group


def count_line(diff: Diff) -> str:
    counts = {op: sum(1 for c in diff.changes if c.op == op) for op in ("added", "removed")}
    changed = len(diff.changes) - counts["added"] - counts["removed"]
    return f"{counts['added']} added, {counts['removed']} removed, {changed} changed"


def _flags(c: Change) -> list[str]:
    """The notes of a change and, marked, the risks it raises."""
    return [*c.notes, *(f"RISK: {r.what}" for r in c.risks)]


# ---------------------------------------------------------------- text


def render_text(diff: Diff, old_name: str, new_name: str) -> str:
    warned = [f"WARNING: {w}" for w in diff.hash_warnings(old_name, new_name)]
    if diff.identical:
        return (
            "".join(f"{w}\n" for w in warned)
            + f"no differences between {old_name} and {new_name}\n"
        )
    summary = summarize(diff)
    lines = [
        *warned,
        f"--- {old_name} ({short(diff.old_hash)})",
        f"+++ {new_name} ({short(diff.new_hash)})",
        f"Summary: {summary.text}",
    ]
    for flag in summary.flags:
        lines += _wrapped(f"RISK: {flag.risk.text} ({', '.join(flag.keys)})", "", "      ")
    for kind, group in _grouped(diff):
        lines.append(f"{TITLES[kind]}:")
        for c in group:
            lines += _text_change(c)
    lines.append(count_line(diff))
    return "\n".join(lines) + "\n"


def _text_change(c: Change) -> list[str]:
    folded = long_text(c)
    line = f"  {sign(c)} {c.key}: " + ("reason changed" if folded and c.op == "changed" else "")
    if not folded:
        line += describe(c)
    if _flags(c):
        line += "  [" + "; ".join(_flags(c)) + "]"
    out = [line]
    if folded:
        before, after = folded
        if c.op != "added":
            out += _wrapped(before, "      was: " if c.op == "changed" else "      ", "           ")
        if c.op != "removed":
            out += _wrapped(after, "      now: " if c.op == "changed" else "      ", "           ")
    out += [f"      {line}" for line in file_lines(c)]
    if c.link:
        out.append(f"      {c.link}")
    return out


def _wrapped(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=False,
    )


# ---------------------------------------------------------------- markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_text(text: str) -> str:
    """Free text in a table cell: HTML-escaped (``numpy<2`` is no tag), no cell breaks."""
    return _md_cell(html.escape(text, quote=False))


def _fold(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>{body}</details>"


def _md_change(c: Change) -> str:
    folded = long_text(c)
    if folded is None:
        text = _md_cell(describe(c))
    elif c.op == "changed":
        text = _fold(
            "reason changed",
            f"<b>was:</b> {_md_text(folded[0])}<br><b>now:</b> {_md_text(folded[1])}",
        )
    else:
        why = folded[1] if c.op == "added" else folded[0]
        text = _fold(_md_text(why[: FOLD_AT - 20].rstrip() + " …"), _md_text(why))
    files = file_lines(c)
    if files:
        text += "<br>" + "<br>".join(f"`{_md_cell(f)}`" for f in files)
    if c.link:
        text += f" ([compare]({c.link}))"
    return text


def _md_group(kind: str, group: list[Change], summary: Summary) -> list[str]:
    counts = ", ".join(f"{n.count} {n.what}" for n in summary.counts if n.kind == kind)
    if kind == "inputs":
        counts = f"{len(group)} changed"
    risky = " ⚠" if any(c.risks for c in group) else ""
    out = [
        "",
        f"<details><summary><b>{TITLES[kind]}</b>: {counts}{risky}</summary>",
        "",
        "| | entry | change | notes |",
        "|---|---|---|---|",
    ]
    for c in group:
        notes = _md_text("; ".join(_flags(c)))
        out.append(f"| {sign(c)} | `{_md_cell(c.key)}` | {_md_change(c)} | {notes} |")
    return [*out, "", "</details>"]


def render_markdown(diff: Diff, old_name: str, new_name: str) -> str:
    warned = [f"> **Warning:** {_md_text(w)}" for w in diff.hash_warnings(old_name, new_name)]
    if diff.identical:
        head = f"**triton.lock**: no differences between `{old_name}` and `{new_name}`.\n"
        return "".join(f"{w}\n\n" for w in warned) + head
    summary = summarize(diff)
    out = [
        f"### triton.lock: {_md_text(summary.text)}",
        "",
        f"`{short(diff.old_hash)}` → `{short(diff.new_hash)}` ({count_line(diff)})",
    ]
    for w in warned:
        out += ["", w]
    for flag in summary.flags:
        keys = ", ".join(f"`{_md_cell(k)}`" for k in flag.keys)
        out += ["", f"> **Warning:** {_md_text(flag.risk.text)} ({keys})"]
    for kind, group in _grouped(diff):
        out += _md_group(kind, group, summary)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- json


def render_json(diff: Diff, old_name: str, new_name: str) -> dict[str, Any]:
    return {
        "format": "tritonlock-diff",
        "version": 1,
        "old": {"path": old_name, "content-hash": diff.old_hash},
        "new": {"path": new_name, "content-hash": diff.new_hash},
        "identical": diff.identical,
        "hash-warnings": diff.hash_warnings(old_name, new_name),
        "summary": summarize(diff).to_json(),
        "changes": [c.to_json() for c in diff.changes],
    }


RENDERERS: Mapping[str, Callable[[Diff, str, str], Any]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}
