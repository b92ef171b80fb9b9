"""One lock as ``git diff`` shows it through tritonlock's textconv driver: one line per
entry, in the order and with the keys of ``tritonlock diff``, so that git's line diff of two
renderings reads like ``tritonlock diff`` (a moved pin is one changed line under its name).

Values are shown in full (a short form would hide a change in a hash's last digits), a
wheel's files one per line under it, and the content hash with whether it matches.
"""

from __future__ import annotations

from typing import Any

from ..model import Lock
from .entries import Fields, entries

_MAIN = ("version", "commit", "digest", "sha256", "value", "why", "url", "steps")


def render_lock(lock: Lock, actual_hash: str) -> str:
    """The lines of one lock; ``actual_hash`` is the hash computed from its content."""
    claimed = lock.content_hash
    check = (
        "matches its content"
        if claimed == actual_hash
        else (
            f"DOES NOT MATCH its content, which hashes to {actual_hash}: "
            "edited after it was written"
        )
    )
    lines = [f"lock-version {lock.lock_version}", f"content-hash {claimed} ({check})"]
    for kind, group in entries(lock).items():  # in the order of KINDS
        for key in sorted(group):
            lines += _entry(kind, key, group[key])
    return "\n".join(lines) + "\n"


def _entry(kind: str, key: str, fields: Fields) -> list[str]:
    words, skip = _head(kind, fields)
    skip |= {"files", "file-sizes"}
    words += [
        f"{name} {_value(v)}" for name, v in fields.items() if name not in skip and v is not None
    ]
    out = [f"{kind} {key}: {', '.join(words)}"]
    if "files" in fields:
        sizes = dict(str(s).rsplit(" ", 1) for s in fields.get("file-sizes", ()))
        for f in fields["files"]:
            name, _, sha = str(f).partition(" ")
            out.append(f"  file {name} {sha} {sizes.get(name, '?')} bytes")
    return out


def _head(kind: str, fields: Fields) -> tuple[list[str], set[str]]:
    """The words an entry's line starts with, and the fields they show: ``r25.04 → <commit>
    from <url>`` for a repository, ``<ref>@<digest>`` for an image, else the main value."""
    if kind == "git":
        return [f"{fields['ref']} → {fields['commit']} from {fields['url']}"], {
            "ref",
            "commit",
            "url",
        }
    if kind == "submodule":
        return [f"{fields['commit']} from {fields['url']}"], {"commit", "url"}
    if kind == "image":
        return [f"{fields['ref']}@{fields['digest']}"], {"ref", "digest"}
    main = next((k for k in _MAIN if k in fields), None)
    return ([_value(fields[main])] if main is not None else []), {main or ""}


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return " ".join(str(v) for v in value) or "(none)"
    return str(value)


def render_unreadable(error: str, blob: bytes) -> str:
    """A file that is not a readable lock (a half-merged one, say), as written, under one
    line saying why: ``git diff`` still shows it rather than failing."""
    text = blob.decode("utf-8", errors="replace").replace("\x00", "\\0")
    return (
        f"# tritonlock: {error}; shown as written\n" + text + ("" if text.endswith("\n") else "\n")
    )
