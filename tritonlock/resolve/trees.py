"""Read pinned trees: a whole checkout of one commit, or single files of pinned repos."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import ResolveError
from ..model import GitPin
from ..sources.gitclient import GitFailed, run_git, sparse_fetch
from ..sources.mirrors import rewrite as fetch_url

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
    server_tree: Path,
    pins: Sequence[GitPin],
    mirrors: Sequence[tuple[str, str]],
) -> dict[str, str]:
    """Texts of ``tree:path`` keys; ``server`` is read from ``server_tree``, other trees from
    their pins. Files absent from their tree are left out (the caller decides)."""
    out: dict[str, str] = {}
    by_tree: dict[str, list[str]] = {}
    for key in keys:
        tree, _, path = key.partition(":")
        by_tree.setdefault(tree, []).append(path)
    for tree, paths in sorted(by_tree.items()):
        if tree == "server":
            for path in paths:
                file = server_tree / path
                if file.is_file():
                    out[f"server:{path}"] = file.read_text("utf-8", "replace")
            continue
        pin = next((p for p in pins if p.name == tree), None)
        if pin is not None:
            out.update(_show(pin, paths, mirrors))
    return out


def _show(pin: GitPin, paths: Sequence[str], mirrors: Sequence[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="tritonlock-files-") as tmp:
        try:
            _fetch(pin.url, pin.commit, Path(tmp), mirrors, [f"/{p}" for p in paths])
        except GitFailed as err:
            raise ResolveError(
                f"{pin.name} @ {pin.commit[:12]}: cannot read files: {err}"
            ) from None
        for path in paths:
            try:
                text = run_git(
                    ["show", f"{pin.commit}:{path}"],
                    cwd=Path(tmp),
                    timeout=TIMEOUT,
                    remote=fetch_url(pin.url, mirrors),  # show fetches the blob lazily
                )
            except GitFailed:
                continue
            out[f"{pin.name}:{path}"] = text
    return out
