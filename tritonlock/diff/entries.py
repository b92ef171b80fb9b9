"""A lock as the entries a reviewer compares: kind → key → the fields compared for that entry.

Every field of a lock that reaches its content hash is compared somewhere, so two locks that
hash differently always differ here (an environment's ``packages`` are the exception: they
follow from the wheels, and ``verify`` holds them to it).
"""

from __future__ import annotations

import hashlib
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
# The key of an ``[apt]`` table that pins nothing (no snapshot, no package): it still
# reaches the content hash, unlike no ``[apt]`` table at all.
EMPTY_APT = "[apt]"


def shown_index_url(url: str | None) -> str | None:
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


def _opt(fields: Fields, key: str, value: Any) -> Fields:
    """``fields`` with ``key`` only when ``value`` is set (optional fields of a lock)."""
    if value is not None and value != () and value is not False:
        fields[key] = list(value) if isinstance(value, tuple) else value
    return fields


def entries(lock: Lock) -> dict[str, dict[str, Fields]]:
    """Each kind → key → the fields compared for that entry."""
    out: dict[str, dict[str, Fields]] = {k: {} for k in KINDS}
    for name, value in lock.inputs.to_dict().items():
        out["inputs"][name] = {"value": value}
    for name, value in lock.release.facts:
        source = lock.release.source(name)
        fields: Fields = {"value": value}
        if source is not None:
            _opt(_opt(fields, "source", source.source), "note", source.note)
        out["release"][name] = fields
    if lock.recipe:
        out["recipe"]["options"] = {"value": list(lock.recipe.options)}
        for f in lock.recipe.files:
            out["recipe"][f.name] = {"sha256": f.sha256}
    _git(lock, out)
    for x in lock.index:
        out["index"][x.name] = {"url": shown_index_url(x.url)}
    _wheels(lock, out)
    for im in lock.image:
        image: Fields = {
            "ref": im.ref,
            "digest": im.digest,
            "index-digest": im.index_digest,
            "platform": im.platform,
        }
        _opt(image, "copies", im.copies)
        out["image"][im.role] = _opt(image, "copies-found-in", im.copies_found_in)
    for u in lock.url:
        out["url"][u.url] = _opt(
            _opt({"sha256": u.sha256, "size": u.size}, "fixed-output", u.fixed_output),
            "found-in",
            u.found_in,
        )
    _apt(lock, out)
    for un in lock.unresolved:
        out["unresolved"][f"{un.kind}:{un.what}"] = {"why": un.why}
    return out


def _git(lock: Lock, out: dict[str, dict[str, Fields]]) -> None:
    for g in lock.git:
        fields: Fields = {"url": g.url, "ref": g.ref, "commit": g.commit}
        out["git"][g.name] = _opt(_opt(fields, "committed", g.committed), "found-in", g.found_in)
        for s in g.submodules:
            out["submodule"][f"{g.name}:{s.path}"] = {"url": s.url, "commit": s.commit}


def _wheels(lock: Lock, out: dict[str, dict[str, Fields]]) -> None:
    for w in lock.wheel:
        fields: Fields = {
            "version": w.version,
            "index": w.index,
            "files": sorted(f"{f.name} {f.sha256}" for f in w.files),
            "file-sizes": sorted(f"{f.name} {f.size}" for f in w.files),
            "image": w.image,
        }
        out["wheel"][f"{w.step}/{w.name}"] = _opt(
            _opt(fields, "requested", w.requested), "sdist", w.sdist
        )
    for e in lock.environment:
        out["environment"][e.image] = {"steps": list(e.steps)}
        for before, after in step_changes(e.steps, lock.wheel):  # a later step moved it
            out["environment"][f"{e.image}/{after.name}"] = {
                "version": after.version,
                "steps": f"{before.version} ({before.step}) → {after.version} ({after.step})",
            }


def _apt(lock: Lock, out: dict[str, dict[str, Fields]]) -> None:
    if lock.apt is None:
        return
    if lock.apt.snapshot:
        out["apt"]["snapshot"] = {"value": lock.apt.snapshot}
    for p in lock.apt.packages:
        out["apt"][f"{p.step}/{p.name}"] = {"version": p.version}
    if not out["apt"]:
        out["apt"][EMPTY_APT] = {"value": "an [apt] table that pins nothing"}
