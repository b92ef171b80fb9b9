"""Read pinned trees: a whole checkout of one commit, or single files of pinned repos."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import ResolveError
from ..model import GitPin
from ..sources.gitclient import GitFailed, run_git, sparse_fetch
from ..sources.mirrors import rewrite as fetch_url
from ..util.atomic import read_json, write_json

TIMEOUT = 600.0


# build.py --dryrun never reads upstream's test suite (``qa/``, half the server tree, with
# large test binaries): the checkout leaves it out, and its blobs are never fetched.
CHECKOUT = ("/*", "!/qa/")


def _fetch(
    url: str, commit: str, work: Path, mirrors: Sequence[tuple[str, str]], patterns: Sequence[str]
) -> None:
    """A shallow, blob-less fetch of ``commit``; only blobs under ``patterns`` are fetched
    later (by checkout, or lazily by ``git show``)."""
    got = sparse_fetch(work, fetch_url(url, mirrors), commit, patterns, timeout=TIMEOUT)
    if got != commit:
        raise GitFailed(f"served {got[:12]} for {commit[:12]}")


def checkout(url: str, commit: str, dest: Path, mirrors: Sequence[tuple[str, str]]) -> None:
    """Materialise ``commit`` of ``url`` (or its mirror) in ``dest``, shallow, by id,
    without upstream's test suite (``qa/``)."""
    try:
        _fetch(url, commit, dest, mirrors, CHECKOUT)
        src = fetch_url(url, mirrors)  # checkout fetches blobs: it needs the remote too
        run_git(["checkout", "-q", "--detach", commit], cwd=dest, timeout=TIMEOUT, remote=src)
    except GitFailed as err:
        raise ResolveError(f"{url} @ {commit[:12]}: cannot check out: {err}") from None


def read_files(
    keys: Sequence[str],
    server_tree: Path | None,
    pins: Sequence[GitPin],
    mirrors: Sequence[tuple[str, str]],
    cache: Path | None = None,
) -> dict[str, str]:
    """Texts of ``tree:path`` keys; ``server`` is read from ``server_tree`` when there is one,
    other trees (and ``server`` without one) from their pins. Files absent from their tree
    are left out (the caller decides). With ``cache`` (a folder), what is read is kept by
    commit and path, and read from there the next time: a commit's files never change."""
    out: dict[str, str] = {}
    by_tree: dict[str, list[str]] = {}
    for key in keys:
        tree, _, path = key.partition(":")
        by_tree.setdefault(tree, []).append(path)
    for tree, paths in sorted(by_tree.items()):
        pin = next((p for p in pins if p.name == tree), None)
        if tree == "server" and server_tree is not None:
            found = {p: _worktree_text(server_tree / p) for p in paths}
            if pin is not None:
                _keep(cache, pin.commit, found)
        elif pin is not None:
            found = kept_files(cache, pin.commit, paths)
            missing = [p for p in paths if p not in found]
            if missing:
                fetched = _show(pin, missing, mirrors)
                _keep(cache, pin.commit, fetched)
                found.update(fetched)
        else:
            continue
        out.update({f"{tree}:{p}": text for p, text in found.items() if text is not None})
    return out


def _worktree_text(file: Path) -> str | None:
    return file.read_text("utf-8", "replace") if file.is_file() else None


def _show(
    pin: GitPin, paths: Sequence[str], mirrors: Sequence[tuple[str, str]]
) -> dict[str, str | None]:
    """Each path's text at the pin's commit, None for a path its tree does not have."""
    out: dict[str, str | None] = {}
    remote = fetch_url(pin.url, mirrors)  # show fetches the blob lazily
    with tempfile.TemporaryDirectory(prefix="tritonlock-files-") as tmp:
        work = Path(tmp)
        try:
            _fetch(pin.url, pin.commit, work, mirrors, [f"/{p}" for p in paths])
            listed = run_git(
                ["ls-tree", "-r", "--name-only", "-z", pin.commit, "--", *paths],
                cwd=work,
                timeout=TIMEOUT,
            )
        except GitFailed as err:
            raise ResolveError(
                f"{pin.name} @ {pin.commit[:12]}: cannot read files: {err}"
            ) from None
        present = set(listed.split("\0"))
        for path in paths:
            if path not in present:
                out[path] = None
                continue
            try:
                out[path] = run_git(
                    ["show", f"{pin.commit}:{path}"], cwd=work, timeout=TIMEOUT, remote=remote
                )
            except GitFailed as err:
                raise ResolveError(
                    f"{pin.name} @ {pin.commit[:12]}: cannot read {path}: {err}"
                ) from None
    return out


# Kept file reads: CACHE/files-by-commit/<sha256 of commit and path>.json, {"text": ...}
# (null: the commit's tree has no such file). One that cannot be read is a miss.
def _entry(cache: Path, commit: str, path: str) -> Path:
    key = hashlib.sha256(f"{commit}\0{path}".encode()).hexdigest()
    return cache / f"{key}.json"


def kept_files(cache: Path | None, commit: str, paths: Sequence[str]) -> dict[str, str | None]:
    """What ``cache`` holds of ``paths`` at ``commit`` (None: the tree has no such file)."""
    out: dict[str, str | None] = {}
    if cache is None:
        return out
    for path in paths:
        data = read_json(_entry(cache, commit, path))
        if isinstance(data, dict) and data.get("commit") == commit and data.get("path") == path:
            text = data.get("text")
            if text is None or isinstance(text, str):
                out[path] = text
    return out


def _keep(cache: Path | None, commit: str, found: dict[str, str | None]) -> None:
    if cache is None:
        return
    for path, text in found.items():
        write_json(_entry(cache, commit, path), {"commit": commit, "path": path, "text": text})
