"""One `git bundle` per repository: every commit the lock pins in it, each under
``refs/tritonlock/pin/<commit>``, with their history and nothing else (no other branch or
tag travels). The build fetches those refs from the bundle file (:mod:`tritonlock.emit.vendored`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import ResolveError
from ..sources.fetchfile import part_of
from ..sources.gitclient import GitFailed, git_url, run_git
from ..util import interrupt
from ..util.redact import redact
from .layout import PIN_REF


def make_bundle(
    fetch_url: str, commits: Sequence[str], dest: Path, *, scratch: Path, timeout: float
) -> None:
    """Fetch ``commits`` from ``fetch_url`` (by id, else every branch and tag) into a scratch
    repository and write their bundle to ``dest``, verified; a commit the remote does not
    have is a :class:`ResolveError`."""
    what = f"git {redact(fetch_url)}"
    work = Path(tempfile.mkdtemp(prefix="bundle-", dir=scratch))
    interrupt.temporary(work)
    try:
        repo = work / "repo.git"
        _git(["init", "-q", "--bare", str(repo)], what, timeout)
        _fetch(repo, fetch_url, commits, what, timeout)
        for c in commits:
            _git(["update-ref", PIN_REF + c, c], what, timeout, cwd=repo)
        part = part_of(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        interrupt.temporary(part)
        try:
            refs = [PIN_REF + c for c in commits]
            _git(["bundle", "create", "-q", str(part), *refs], what, timeout, cwd=repo)
            check_bundle(part, commits, scratch=work, timeout=timeout)
            os.replace(part, dest)
        finally:
            if part.exists():
                part.unlink()
            interrupt.settled(part)
    finally:
        interrupt.remove(work)


def _fetch(repo: Path, fetch_url: str, commits: Sequence[str], what: str, timeout: float) -> None:
    url = git_url(fetch_url)
    try:
        run_git(
            ["fetch", "-q", "--no-tags", "--", url, *commits],
            cwd=repo,
            timeout=timeout,
            remote=fetch_url,
        )
    except GitFailed:  # a server that refuses fetching by id: every branch and tag
        refspecs = ["+refs/heads/*:refs/tritonlock-fetch/heads/*"]
        refspecs.append("+refs/tags/*:refs/tritonlock-fetch/tags/*")
        try:
            run_git(
                ["fetch", "-q", "--no-tags", "--", url, *refspecs],
                cwd=repo,
                timeout=timeout,
                remote=fetch_url,
            )
        except GitFailed as err:
            raise ResolveError(f"{what}: {err.reason}") from None
    for c in commits:
        try:
            got = run_git(
                ["rev-parse", "--verify", "--end-of-options", c + "^{commit}"],
                cwd=repo,
                timeout=timeout,
            ).strip()
        except GitFailed:
            got = ""
        if got != c:
            raise ResolveError(
                f"{what}: the remote does not have the pinned commit {c}; is the mirror "
                "complete? (`tritonlock verify --deep` checks every pin)"
            )


def heads(bundle: Path, *, timeout: float) -> dict[str, str]:
    """ref → commit of every ref a bundle holds."""
    out = run_git(["bundle", "list-heads", str(bundle)], timeout=timeout)
    found = {}
    for line in out.splitlines():
        oid, _, ref = line.partition(" ")
        found[ref.strip()] = oid
    return found


def check_bundle(bundle: Path, commits: Sequence[str], *, scratch: Path, timeout: float) -> None:
    """``bundle`` verifies in an empty repository (it needs no other commit) and holds
    exactly one pin ref per commit; else :class:`ResolveError`."""
    what = f"git bundle {bundle.name}"
    want = {PIN_REF + c: c for c in commits}
    try:
        got = heads(bundle, timeout=timeout)
    except GitFailed as err:
        raise ResolveError(f"{what}: {err.reason}") from None
    if got != want:
        raise ResolveError(f"{what}: holds {sorted(got)} instead of the pinned commits")
    empty = Path(tempfile.mkdtemp(prefix="verify-", dir=scratch))
    try:
        _git(["init", "-q", "--bare", str(empty)], what, timeout)
        _git(["bundle", "verify", "-q", str(bundle)], what, timeout, cwd=empty)
    finally:
        shutil.rmtree(empty, ignore_errors=True)


def holds(bundle: Path, commits: Sequence[str], *, timeout: float) -> bool:
    """Whether ``bundle`` lists exactly the pin refs of ``commits`` (a cheap look at its
    header, for a bundle whose bytes are already known to be the ones written)."""
    try:
        return heads(bundle, timeout=timeout) == {PIN_REF + c: c for c in commits}
    except GitFailed:
        return False


def _git(args: list[str], what: str, timeout: float, *, cwd: Path | None = None) -> str:
    try:
        return run_git(args, cwd=cwd, timeout=timeout)
    except GitFailed as err:
        raise ResolveError(f"{what}: git {args[0]} failed: {err.reason}") from None
