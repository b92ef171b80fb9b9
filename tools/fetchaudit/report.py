"""The audit of compile_fetches.py as a markdown table or JSON (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .model import NOT_PROVIDED, STATUSES, Audit, Finding, counts

SECTIONS = {
    "cmake": "CMake download declarations",
    "command": "commands CMake runs",
    "script": "scripts those commands run",
    "recipe": "cmake_build",
}


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def title(a: Audit) -> str:
    inputs = a.lock.inputs
    backends = ", ".join(inputs.backends) or "no backends"
    return f"Triton {inputs.release} {inputs.target} ({backends})"


def summary_row(a: Audit) -> str:
    """``| provided | not reached | NOT PROVIDED | unresolved | no fetch |`` counts."""
    c = counts(a.findings)
    return " | ".join(
        str(c[s]) for s in ("provided", "not reached", NOT_PROVIDED, "unresolved", "no fetch")
    )


def markdown(a: Audit, lock_path: str) -> str:
    c = counts(a.findings)
    lines = [
        f"# What the offline compile fetches: {title(a)}",
        "",
        f"lock `{lock_path}` ({a.lock.content_hash or 'no content-hash'}), "
        + (
            f"partial: {len(a.lock.unresolved)} `[[unresolved]]` entries"
            if a.lock.partial
            else "complete"
        ),
        "",
        "| " + " | ".join(STATUSES) + " |",
        "|" + "---|" * len(STATUSES),
        "| " + " | ".join(str(c[s]) for s in STATUSES) + " |",
    ]
    for status in STATUSES:
        rows = [f for f in a.findings if f.status == status]
        if rows:
            lines += ["", f"## {status} ({len(rows)})", "", *_table(rows)]
    if a.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in a.notes)]
    return "\n".join(lines) + "\n"


def _table(rows: Sequence[Finding]) -> list[str]:
    out = ["| where | what | fetches | how / why |", "|---|---|---|---|"]
    for f in rows:
        where = f.where + (f" (run by {f.via})" if f.via else "")
        what = f"{SECTIONS[f.section]}: {f.construct}"
        out.append(f"| {_cell(where)} | {_cell(what)} | `{_cell(f.fetches)}` | {_cell(f.detail)} |")
    return out


def to_json(a: Audit, lock_path: str) -> str:
    data = {
        "format": "tritonlock-compile-fetches",
        "version": 1,
        "lock": {"path": lock_path, "content-hash": a.lock.content_hash},
        "release": a.lock.inputs.release,
        "target": a.lock.inputs.target,
        "backends": list(a.lock.inputs.backends),
        "partial": a.lock.partial,
        "counts": counts(a.findings),
        "findings": [f.to_dict() for f in a.findings],
        "notes": list(a.notes),
    }
    return json.dumps(data, indent=2) + "\n"
