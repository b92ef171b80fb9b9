"""One `git bundle` per repository: every commit the lock pins in it, each under
``refs/tritonlock/pin/<commit>``, with their history; and, for each ref the lock names (a
top-level pin's ``ref`` that is not a full commit id), the branch or tag upstream has of that
name (as `resolve` picks it: the branch first), at the pinned commit, so that `resolve` against
a site loaded from the bundle finds the same commits. Nothing else travels. The build fetches
the pin refs from the bundle file (:mod:`tritonlock.emit.vendored`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import ResolveError
from ..resolve.git import ref_names
from ..sources.fetchfile import part_of
from ..sources.gitclient import GitFailed, git_url, run_git
from ..util import interrupt
from ..util.redact import redact
from .layout import PIN_REF


def make_bundle(
    fetch_url: str,
    commits: Sequence[str],
    dest: Path,
    *,
    refs: Mapping[str, str] | None = None,
    scratch: Path,
    timeout: float,
) -> None:
    """Fetch ``commits`` from ``fetch_url`` (by id, else every branch and tag) into a scratch
    repository and write their bundle to ``dest``, verified, with ``refs`` (full ref name →
    one of ``commits``) besides the pin refs; a commit the remote does not have is a
    :class:`ResolveError`."""
    what = f"git {redact(fetch_url)}"
    refs = dict(refs or {})
    work = Path(tempfile.mkdtemp(prefix="bundle-", dir=scratch))
    interrupt.temporary(work)
    try:
        repo = work / "repo.git"
        _git(["init", "-q", "--bare", str(repo)], what, timeout)
        _fetch(repo, fetch_url, commits, what, timeout)
        named = {PIN_REF + c: c for c in commits} | refs
        for name, c in named.items():
            _git(["update-ref", name, c], what, timeout, cwd=repo)
        part = part_of(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        interrupt.temporary(part)
        try:
            _git(["bundle", "create", "-q", str(part), *named], what, timeout, cwd=repo)
            check_bundle(part, commits, refs=refs, scratch=work, timeout=timeout)
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


def check_bundle(
    bundle: Path,
    commits: Sequence[str],
    *,
    refs: Mapping[str, str] | None = None,
    scratch: Path,
    timeout: float,
) -> None:
    """``bundle`` verifies in an empty repository (it needs no other commit) and holds
    exactly one pin ref per commit and the ``refs`` it was made with; else
    :class:`ResolveError`."""
    what = f"git bundle {bundle.name}"
    want = {PIN_REF + c: c for c in commits} | dict(refs or {})
    try:
        got = heads(bundle, timeout=timeout)
    except GitFailed as err:
        raise ResolveError(f"{what}: {err.reason}") from None
    if got != want:
        raise ResolveError(f"{what}: holds {sorted(got)} instead of {sorted(want)}")
    empty = Path(tempfile.mkdtemp(prefix="verify-", dir=scratch))
    try:
        _git(["init", "-q", "--bare", str(empty)], what, timeout)
        _git(["bundle", "verify", "-q", str(bundle)], what, timeout, cwd=empty)
    finally:
        shutil.rmtree(empty, ignore_errors=True)


def ref_problem(
    got: Mapping[str, str], commits: Sequence[str], refs: Sequence[tuple[str, str]]
) -> str | None:
    """What is wrong with the refs ``got`` (name → commit) of a bundle for ``commits`` and
    the lock's ``refs`` ((ref, pinned commit) pairs); None when nothing is. A bundle holds
    exactly one pin ref per commit and, besides them, for each of ``refs`` at most one of
    the branch or tag it may name, at its pinned commit; nothing else. A ref upstream no
    longer had when the bundle was made is not in it (see :func:`missing_refs`)."""
    pins = {PIN_REF + c: c for c in commits}
    for name, oid in sorted(got.items()):
        if name.startswith(PIN_REF):
            if pins.get(name) != oid:
                return f"holds {name} at {oid}, which is no pinned commit of it"
            continue
        allowed = [c for ref, c in refs if name != "HEAD" and name in ref_names(ref)]
        if not allowed:
            return f"holds {name}, which the lock names no ref for"
        if oid not in allowed:
            return f"holds {name} at {oid}, the lock pins {allowed[0]}"
    lacking = sorted(set(pins) - set(got))
    if lacking:
        return f"lacks the pinned commit {pins[lacking[0]]}"
    for ref, _ in refs:
        names = [n for n in ref_names(ref) if n in got]
        if len(names) > 1:
            return f"holds {' and '.join(names)} for the one ref {ref}"
    return None


def missing_refs(got: Mapping[str, str], refs: Sequence[tuple[str, str]]) -> list[str]:
    """The lock's refs (of ``refs``) that the bundle's refs ``got`` carry no branch or tag of."""
    return [ref for ref, _ in refs if not any(n in got for n in ref_names(ref))]


def holds(
    bundle: Path, commits: Sequence[str], refs: Sequence[tuple[str, str]], *, timeout: float
) -> bool:
    """Whether ``bundle`` holds exactly the refs :func:`ref_problem` accepts (a cheap look at
    its header, for a bundle whose bytes are already known to be the ones written)."""
    try:
        return ref_problem(heads(bundle, timeout=timeout), commits, refs) is None
    except GitFailed:
        return False


def _git(args: list[str], what: str, timeout: float, *, cwd: Path | None = None) -> str:
    try:
        return run_git(args, cwd=cwd, timeout=timeout)
    except GitFailed as err:
        raise ResolveError(f"{what}: git {args[0]} failed: {err.reason}") from None
