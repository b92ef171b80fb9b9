"""How one change reads: short forms of pins, ``old → new`` per field, the wheel files that
appeared and went, and the repository every added or changed git pin comes from."""

from __future__ import annotations

from typing import Any

from .changes import Change, file_hashes
from .entries import Fields

_SIGN = {"added": "+", "removed": "-", "changed": "~"}
# Fields that are shown on lines of their own (wheel files) or not at all (their sizes,
# when the files themselves changed).
_OWN_LINES = ("files", "file-sizes")
_MAIN = ("version", "commit", "digest", "sha256", "value", "why", "url", "steps")


def sign(change: Change) -> str:
    return _SIGN[change.op]


def short(value: Any) -> str:
    """Short form of a pinned value: 12-hex commits and digests, lists joined."""
    if value is None:
        return "∅"
    if isinstance(value, list):
        return ", ".join(short(v) for v in value) or "(none)"
    text = str(value)
    if len(text) == 40 and all(c in "0123456789abcdef" for c in text):
        return text[:12]
    if text.startswith("sha256:") and len(text) == 71:
        return text[:19]
    return text


def moved(before: Any, after: Any) -> str:
    """``old → new`` in short forms, or in full where the short forms are equal."""
    a, b = short(before), short(after)
    if a == b and before != after:
        a, b = str(before), str(after)
    return f"{a} → {b}"


def _summary(fields: Fields | None) -> str:
    if not fields:
        return ""
    main = next((k for k in _MAIN if k in fields), next(iter(fields)))
    return short(fields[main])


def describe(change: Change) -> str:
    """One line: what the entry is now, or how it moved (old → new per field)."""
    if change.op != "changed":
        fields = change.new if change.op == "added" else change.old
        if change.kind == "wheel" and fields:
            return f"{fields['version']} ({len(fields['files'])} files)"
        extra = f" ({fields['ref']})" if fields and "ref" in fields else ""
        return _summary(fields) + extra + _where(change)
    assert change.old is not None and change.new is not None
    parts = [_field(change, f) for f in dict.fromkeys([*change.old, *change.new])]
    text = ", ".join(p for p in parts if p)
    if "ref" in change.new and change.old.get("ref") == change.new["ref"]:
        text = f"{change.new['ref']}: {text}"
    return text + _where(change)


def _field(change: Change, field: str) -> str:
    assert change.old is not None and change.new is not None
    before, after = change.old.get(field), change.new.get(field)
    if before == after:
        if field == "version" and change.kind == "wheel":
            return f"{after} (same version)"
        return ""
    if field == "files":
        came, went = file_changes(change)
        return f"files: {len(came)} added, {len(went)} removed" + (
            "" if came or went else f", {len(replaced(change))} replaced"
        )
    if field == "file-sizes":
        return "" if change.old["files"] != change.new["files"] else "file sizes changed"
    if isinstance(before, list) and isinstance(after, list):
        gone = [str(v) for v in before if v not in after]
        came = [str(v) for v in after if v not in before]
        words = [f"added {' '.join(came)}"] if came else []
        words += [f"removed {' '.join(gone)}"] if gone else []
        label = "" if field == "value" else f"{field}: "
        return label + ("; ".join(words) or "reordered")
    if field in ("value", "version") and change.direction is not None:
        return f"{moved(before, after)} ({change.direction})"
    if field in ("value", "version", "commit", "digest", "sha256", "why"):
        return moved(before, after)
    return f"{field} {moved(before, after)}"


def file_changes(change: Change) -> tuple[list[str], list[str]]:
    """The file names of a wheel entry that appeared and that went (each sorted)."""
    a = file_hashes(change.old) if change.old else {}
    b = file_hashes(change.new) if change.new else {}
    return sorted(b.keys() - a.keys()), sorted(a.keys() - b.keys())


def replaced(change: Change) -> list[str]:
    """The file names of a wheel entry whose sha256 changed under the same name."""
    if change.old is None or change.new is None:
        return []
    a, b = file_hashes(change.old), file_hashes(change.new)
    return sorted(n for n in a.keys() & b.keys() if a[n] != b[n])


def file_lines(change: Change) -> list[str]:
    """``+ name`` / ``- name`` / ``~ name (sha256 a → b)`` for a changed wheel's files."""
    if change.kind != "wheel" or change.op != "changed":
        return []
    assert change.old is not None and change.new is not None
    came, went = file_changes(change)
    a, b = file_hashes(change.old), file_hashes(change.new)
    lines = [f"+ {n}" for n in came] + [f"- {n}" for n in went]
    return lines + [f"~ {n} (sha256 {moved(a[n], b[n])})" for n in replaced(change)]


def _where(change: Change) -> str:
    """A git pin or submodule, added or changed, always shows the repository it comes from
    (a reviewer must see where a commit is fetched, not only its name)."""
    if change.kind not in ("git", "submodule") or change.op == "removed" or not change.new:
        return ""
    url = change.new.get("url")
    if change.op == "changed" and change.old and change.old.get("url") != url:
        return ""  # the url change itself is listed
    return f" from {url}"


def long_text(change: Change) -> tuple[str, str] | None:
    """(before, after) of a long free-text field (an unresolved entry's reason), which
    renderers fold rather than put on one line."""
    if change.kind != "unresolved":
        return None
    before = str((change.old or {}).get("why", ""))
    after = str((change.new or {}).get("why", ""))
    return (before, after) if max(len(before), len(after)) > FOLD_AT else None


FOLD_AT = 100
