"""Semantic diff of two locks, for code review. Pure: locks in, changes out.

Every change is symmetric: ``diff_locks(b, a)`` is ``diff_locks(a, b)`` with old and
new swapped (added ↔ removed), so a reviewer reads the same facts either way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..model import Lock, step_changes

# Groups in the order a reviewer reads them.
KINDS = (
    "inputs",
    "release",
    "recipe",
    "git",
    "submodule",
    "index",
    "wheel",
    "environment",
    "image",
    "url",
    "apt",
    "unresolved",
)

Fields = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One entry added, removed or changed. ``old``/``new`` hold the compared fields."""

    kind: str
    key: str
    op: str  # "added" | "removed" | "changed"
    old: Fields | None
    new: Fields | None
    notes: tuple[str, ...] = ()
    link: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "op": self.op,
            "old": self.old,
            "new": self.new,
            "notes": list(self.notes),
            "link": self.link,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    old_hash: str | None
    new_hash: str | None
    changes: tuple[Change, ...]
    # A side whose claimed content hash is not the hash of its content: edited or tampered.
    old_hash_actual: str | None = None
    new_hash_actual: str | None = None

    def hash_warnings(self, old_name: str, new_name: str) -> list[str]:
        out = []
        for name, claimed, actual in (
            (old_name, self.old_hash, self.old_hash_actual),
            (new_name, self.new_hash, self.new_hash_actual),
        ):
            if actual is not None and claimed != actual:
                out.append(
                    f"{name} claims content-hash {claimed or '(none)'} but its content hashes "
                    f"to {actual}: it was edited after it was written; do not trust it "
                    f"(`tritonlock verify {name}` lists why)"
                )
        return out

    @property
    def hashes_ok(self) -> bool:
        return not self.hash_warnings("", "")

    @property
    def identical(self) -> bool:
        return not self.changes


def _shown_index_url(url: str | None) -> str | None:
    """An index URL as a diff shows it: whole when credential-free, else its host and a
    short digest of the whole (a token in its path or query is never shown, and a change
    of it still is)."""
    if url is None or "://" not in url:
        return url
    from ..util.redact import credential_free, public_url

    if credential_free(url):
        return url
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"{public_url(url)} (credential hidden; sha256 {digest})"


def _entries(lock: Lock) -> dict[str, dict[str, Fields]]:
    """Each kind → key → the fields compared for that entry."""
    out: dict[str, dict[str, Fields]] = {k: {} for k in KINDS}
    inputs = lock.inputs.to_dict()
    for name, value in inputs.items():
        out["inputs"][name] = {"value": value}
    for name, value in lock.release.facts:
        out["release"][name] = {"value": value}
    if lock.recipe:
        out["recipe"]["options"] = {"value": list(lock.recipe.options)}
        for f in lock.recipe.files:
            out["recipe"][f.name] = {"sha256": f.sha256}
    for g in lock.git:
        out["git"][g.name] = {"url": g.url, "ref": g.ref, "commit": g.commit}
        for s in g.submodules:
            out["submodule"][f"{g.name}:{s.path}"] = {"url": s.url, "commit": s.commit}
    for x in lock.index:
        out["index"][x.name] = {"url": _shown_index_url(x.url)}
    for w in lock.wheel:
        out["wheel"][f"{w.step}/{w.name}"] = {
            "version": w.version,
            "index": w.index,
            "files": sorted(f"{f.name} {f.sha256}" for f in w.files),
        }
    for e in lock.environment:  # only what a later step installs at another version
        for before, after in step_changes(e.steps, lock.wheel):
            out["environment"][f"{e.image}/{after.name}"] = {
                "version": after.version,
                "steps": f"{before.version} ({before.step}) → {after.version} ({after.step})",
            }
    for im in lock.image:
        out["image"][im.role] = {
            "ref": im.ref,
            "digest": im.digest,
            "index-digest": im.index_digest,
            "platform": im.platform,
            "copies": list(im.copies) or None,
        }
    for u in lock.url:
        out["url"][u.url] = {"sha256": u.sha256, "size": u.size}
    if lock.apt:
        if lock.apt.snapshot:
            out["apt"]["snapshot"] = {"value": lock.apt.snapshot}
        for p in lock.apt.packages:
            out["apt"][f"{p.step}/{p.name}"] = {"version": p.version}
    for un in lock.unresolved:
        out["unresolved"][f"{un.kind}:{un.what}"] = {"why": un.why}
    return out


def diff_locks(
    old: Lock, new: Lock, *, actual: tuple[str | None, str | None] = (None, None)
) -> Diff:
    """``actual``: the content hashes computed from each file, to check what each claims."""
    a, b = _entries(old), _entries(new)
    changes: list[Change] = []
    for kind in KINDS:
        for key in sorted(a[kind].keys() | b[kind].keys()):
            before, after = a[kind].get(key), b[kind].get(key)
            if before == after:
                continue
            op = "added" if before is None else "removed" if after is None else "changed"
            changes.append(
                Change(
                    kind=kind,
                    key=key,
                    op=op,
                    old=before,
                    new=after,
                    notes=_notes(kind, key, before, after),
                    link=_link(kind, before, after),
                )
            )
    return Diff(
        old_hash=old.content_hash,
        new_hash=new.content_hash,
        changes=tuple(changes),
        old_hash_actual=actual[0],
        new_hash_actual=actual[1],
    )


# A backend framework's version: models may need re-export or re-validation (issue 15).
FRAMEWORKS = {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO"}
REVALIDATE = "models may need re-export or re-validation"


def _risk(note: str) -> bool:
    """A note markdown repeats as a warning: what was built or validated must be redone."""
    return "must be rebuilt" in note or REVALIDATE in note


def _notes(kind: str, key: str, before: Fields | None, after: Fields | None) -> tuple[str, ...]:
    if kind == "environment":  # either side's history, in an order both directions share
        sides = sorted({str(f["steps"]) for f in (before, after) if f is not None})
        return tuple(f"changed between install steps: {steps}" for steps in sides)
    if before is None or after is None:
        return ()
    notes = []
    if kind == "image" and before["ref"] == after["ref"] and before["digest"] != after["digest"]:
        notes.append("rebuilt under the same tag")
    if kind == "release" and key == "tensorrt":
        notes.append("TensorRT changed: serialized TensorRT engines (.plan files) must be rebuilt")
    if kind == "release" and key in FRAMEWORKS:
        notes.append(f"{FRAMEWORKS[key]} changed: {REVALIDATE}")
    if kind == "image" and key == "pytorch" and before["digest"] != after["digest"]:
        notes.append(f"PyTorch (libtorch, from the pytorch image) changed: {REVALIDATE}")
    if kind == "image" and before["platform"] != after["platform"]:
        notes.append("target platform changed")
    if kind == "image" and before["copies"] != after["copies"]:
        notes.append("the files upstream's CMake copies out of it changed")
    if kind == "wheel" and before["version"] == after["version"] and before != after:
        notes.append("files changed at the same version")
    if kind == "url" and before["sha256"] != after["sha256"]:
        notes.append("content changed at the same URL")
    same_ref = before.get("ref") is not None and before.get("ref") == after.get("ref")
    if kind == "git" and same_ref and before["commit"] != after["commit"]:
        notes.append(f"the {before['ref']} ref moved")
    return tuple(notes)


def _link(kind: str, before: Fields | None, after: Fields | None) -> str | None:
    """A GitHub compare link when both sides are the same github.com repository."""
    if kind not in ("git", "submodule") or before is None or after is None:
        return None
    url = str(before["url"])
    if url != after["url"] or not url.startswith("https://github.com/"):
        return None
    base = url.removesuffix("/").removesuffix(".git")
    return f"{base}/compare/{before['commit']}...{after['commit']}"


# ---------------------------------------------------------------- rendering

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
_SIGN = {"added": "+", "removed": "-", "changed": "~"}


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


def _moved(before: Any, after: Any) -> str:
    """``old → new`` in short forms, or in full where the short forms are equal."""
    a, b = short(before), short(after)
    if a == b and before != after:
        a, b = str(before), str(after)
    return f"{a} → {b}"


def _summary(fields: Fields | None) -> str:
    if not fields:
        return ""
    keys = ("version", "commit", "digest", "sha256", "value", "why", "url")
    main = next((k for k in keys if k in fields), next(iter(fields)))
    return short(fields[main])


def describe(change: Change) -> str:
    """One line: what the entry is now, or how it moved (old → new per field)."""
    if change.op != "changed":
        fields = change.new if change.op == "added" else change.old
        extra = f" ({fields['ref']})" if fields and "ref" in fields else ""
        if change.kind == "wheel" and fields:
            return f"{fields['version']} ({len(fields['files'])} files)"
        return _summary(fields) + extra + _where(change)
    assert change.old is not None and change.new is not None
    parts = []
    for field in change.new:
        before, after = change.old.get(field), change.new.get(field)
        if before == after:
            continue
        if isinstance(before, list) and isinstance(after, list) and field != "files":
            gone = [str(v) for v in before if v not in after]
            came = [str(v) for v in after if v not in before]
            words = [f"added {' '.join(came)}"] if came else []
            words += [f"removed {' '.join(gone)}"] if gone else []
            parts.append("; ".join(words) or "reordered")
        elif field == "files":
            parts.append(f"files: {len(before or [])} → {len(after or [])} (hashes changed)")
        elif field in ("value", "version", "commit", "digest", "sha256", "why"):
            parts.append(_moved(before, after))
        else:
            parts.append(f"{field} {_moved(before, after)}")
    text = ", ".join(parts)
    if "ref" in change.new and change.old.get("ref") == change.new["ref"]:
        text = f"{change.new['ref']}: {text}"
    return text + _where(change)


def _where(change: Change) -> str:
    """A git pin or submodule, added or changed, always shows the repository it comes from
    (a reviewer must see where a commit is fetched, not only its name)."""
    if change.kind not in ("git", "submodule") or change.op == "removed" or not change.new:
        return ""
    url = change.new.get("url")
    if change.op == "changed" and change.old and change.old.get("url") != url:
        return ""  # the url change itself is listed
    return f" from {url}"


def _grouped(diff: Diff) -> Iterable[tuple[str, list[Change]]]:
    for kind in KINDS:
        group = [c for c in diff.changes if c.kind == kind]
        if group:
            yield kind, group


def render_text(diff: Diff, old_name: str, new_name: str) -> str:
    warned = "".join(f"WARNING: {w}\n" for w in diff.hash_warnings(old_name, new_name))
    if diff.identical:
        return warned + f"no differences between {old_name} and {new_name}\n"
    lines = [f"WARNING: {w}" for w in diff.hash_warnings(old_name, new_name)]
    lines += [
        f"--- {old_name} ({short(diff.old_hash)})",
        f"+++ {new_name} ({short(diff.new_hash)})",
    ]
    for kind, group in _grouped(diff):
        lines.append(f"{TITLES[kind]}:")
        for c in group:
            line = f"  {_SIGN[c.op]} {c.key}: {describe(c)}"
            if c.notes:
                line += "  [" + "; ".join(c.notes) + "]"
            lines.append(line)
            if c.link:
                lines.append(f"      {c.link}")
    lines.append(_count_line(diff))
    return "\n".join(lines) + "\n"


def _count_line(diff: Diff) -> str:
    counts = {op: sum(1 for c in diff.changes if c.op == op) for op in _SIGN}
    return f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(diff: Diff, old_name: str, new_name: str) -> str:
    warned = [f"> **Warning:** {_md_cell(w)}" for w in diff.hash_warnings(old_name, new_name)]
    if diff.identical:
        head = f"**triton.lock**: no differences between `{old_name}` and `{new_name}`.\n"
        return "".join(f"{w}\n\n" for w in warned) + head
    out = [
        f"### triton.lock changes: {_count_line(diff)}",
        "",
        f"`{short(diff.old_hash)}` → `{short(diff.new_hash)}`",
    ]
    for w in warned:
        out += ["", w]
    warnings = sorted({n for c in diff.changes for n in c.notes if _risk(n)})
    for w in warnings:
        out += ["", f"> **Warning:** {w}"]
    for kind, group in _grouped(diff):
        out += ["", f"#### {TITLES[kind]}", "", "| | entry | change | notes |", "|---|---|---|---|"]
        for c in group:
            change = _md_cell(describe(c))
            if c.link:
                change += f" ([compare]({c.link}))"
            notes = _md_cell("; ".join(c.notes))
            out.append(f"| {_SIGN[c.op]} | `{_md_cell(c.key)}` | {change} | {notes} |")
    return "\n".join(out) + "\n"


def render_json(diff: Diff, old_name: str, new_name: str) -> dict[str, Any]:
    return {
        "format": "tritonlock-diff",
        "version": 1,
        "old": {"path": old_name, "content-hash": diff.old_hash},
        "new": {"path": new_name, "content-hash": diff.new_hash},
        "identical": diff.identical,
        "hash-warnings": diff.hash_warnings(old_name, new_name),
        "changes": [c.to_json() for c in diff.changes],
    }


RENDERERS: Mapping[str, Callable[[Diff, str, str], Any]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}
