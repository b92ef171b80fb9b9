"""The git side of the build: local bare mirrors at pinned commits, and the routing to them.

Every git object is fetched by its pinned commit (or, when a server refuses fetching
by id, by all its refs) and checked; branches and tags named in the lock are then
set to the pinned commits. The compile stage rewrites every pinned URL to its mirror
with ``url.<mirror>.insteadOf``, so upstream's build.py and CMake run unchanged.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..model import Lock, repo_key, without_git_suffix
from .errors import EmitError
from .secrets import Use, mounts, prologue
from .vendored import fetch_bundle
from .vendored import mounts as vendor_mounts

GIT_ROOT = "/tritonlock/git"
SRC_ROOT = "/tritonlock/src"
SERVER_DIR = f"{SRC_ROOT}/server"
# The script that applies the server tree's .dockerignore (tritonlock/emit/context.py).
CONTEXT_FILE = "tritonlock-context.py"
CONTEXT_PATH = "/tritonlock/context.py"


def mirror_key(url: str) -> str:
    """``https://github.com/o/r.git`` → ``github.com/o/r``: :func:`tritonlock.model.repo_key`."""
    return repo_key(url)


def mirror_path(url: str) -> str:
    return f"{GIT_ROOT}/{mirror_key(url)}.git"


def mirror_url(url: str) -> str:
    """The ``file://`` URL the compile stage uses instead of ``url``. Git percent-decodes
    ``file://`` URLs, so a ``%`` of the folder's name is written ``%25``: the folder of
    ``…/a%62c`` is reached as itself, never as ``…/abc``'s."""
    return "file://" + mirror_path(url).replace("%", "%25")


@dataclass(slots=True)
class Mirror:
    """One bare mirror: its canonical URL (the first spelling in the lock, fetched from),
    every spelling the lock has of it, the commits it must hold and the refs to set."""

    url: str
    commits: list[str] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)
    spellings: list[str] = field(default_factory=list)

    def add(self, url: str, commit: str, ref: str | None, what: str) -> None:
        if url not in self.spellings:
            self.spellings.append(url)
        if commit not in self.commits:
            self.commits.append(commit)
        if ref is None:
            return
        if self.refs.get(ref, commit) != commit:
            raise EmitError(
                f"{what}: ref {ref!r} of {self.url} is pinned to two commits in the lock "
                f"({self.refs[ref][:12]} and {commit[:12]}); re-resolve the lock"
            )
        self.refs[ref] = commit


def mirrors(lock: Lock) -> list[Mirror]:
    """Every mirror the lock needs, keyed by URL, in the lock's own (canonical) order."""
    found: dict[str, Mirror] = {}
    for g in lock.git:
        m = found.setdefault(mirror_key(g.url), Mirror(url=g.url))
        m.add(g.url, g.commit, g.ref, f"git {g.name}")
        for s in g.submodules:
            sm = found.setdefault(mirror_key(s.url), Mirror(url=s.url))
            sm.add(s.url, s.commit, None, f"git {g.name} submodule {s.path}")
    return list(found.values())


def fetch_script(m: Mirror, *, vendored: bool = False) -> str:
    """Shell that builds one mirror and checks every pinned commit (lock values quoted);
    ``vendored``: from the repository's bundle (:mod:`tritonlock.emit.vendored`)."""
    q = shlex.quote
    path, url = q(mirror_path(m.url)), q(m.url)
    commits = " ".join(q(c) for c in m.commits)
    fetch = (
        fetch_bundle(path, m.url)
        if vendored
        else f"git -C {path} fetch -q --no-tags {url} {commits}"
        f" || git -C {path} fetch -q --no-tags {url}"
        " '+refs/heads/*:refs/tritonlock-fetch/heads/*'"
        " '+refs/tags/*:refs/tritonlock-fetch/tags/*'"
    )
    lines = [
        "" if vendored else prologue(Use.GIT),
        "set -eu",
        f"git init -q --bare {path}",
        f"git -C {path} config uploadpack.allowAnySHA1InWant true",
        fetch,
    ]
    for c in m.commits:
        lines.append(f"git -C {path} cat-file -e {q(c + '^{commit}')}")
        lines.append(
            f'test "$(git -C {path} rev-parse --verify --end-of-options {q(c + "^{commit}")})"'
            f" = {q(c)}"
        )
        lines.append(f"git -C {path} update-ref {q('refs/tritonlock/pin/' + c)} {q(c)}")
    for ref, c in sorted(m.refs.items()):
        lines.append(f"git -C {path} update-ref {q('refs/heads/' + ref)} {q(c)}")
        lines.append(f"git -C {path} update-ref {q('refs/tags/' + ref)} {q(c)}")
    head = sorted(m.refs)[0] if m.refs else "tritonlock"
    if not m.refs:
        lines.append(f"git -C {path} update-ref refs/heads/tritonlock {q(m.commits[0])}")
    lines += [
        f"git -C {path} symbolic-ref HEAD {q('refs/heads/' + head)}",
        f"git -C {path} for-each-ref --format='%(refname)' refs/tritonlock-fetch"
        f" | xargs -r -n1 git -C {path} update-ref -d",
        f"git -C {path} reflog expire --expire=now --all",
        f"git -C {path} gc -q --prune=now",
    ]
    return "; ".join(filter(None, [lines[0], " && \\\n    ".join(lines[1:])]))


def sources_stage(
    lock: Lock, base: str, server_url: str, server_commit: str, *, vendored: bool = False
) -> list[str]:
    """Dockerfile lines of the ``tritonlock-sources`` stage (built ``FROM base``)."""
    out = [f"FROM {base} AS tritonlock-sources"]
    flags = vendor_mounts(Use.GIT) if vendored else mounts(Use.GIT)
    for m in mirrors(lock):
        out.append(f"RUN {' '.join(flags)} {fetch_script(m, vendored=vendored)}")
    q = shlex.quote
    # the server tree as upstream's build context: its files at the commit, without what
    # its .dockerignore leaves out (.git*), as `COPY . .` in Dockerfile.buildbase takes it
    out += [
        f"COPY {json.dumps([CONTEXT_FILE, CONTEXT_PATH])}",
        f"RUN mkdir -p {SERVER_DIR} && git -C {q(mirror_path(server_url))} archive"
        f" --format=tar {q(server_commit)} | tar -x -C {SERVER_DIR}"
        f" && python3 {CONTEXT_PATH} {SERVER_DIR}",
    ]
    return out


def insteadof_script(lock: Lock) -> str:
    """Shell for the compile stage: route every pinned URL, as each spelling in the lock
    writes it (with and without .git), to its mirror. No two mirrors share a prefix: a
    spelling's form never ends with ``.git`` or ``/`` (:func:`without_git_suffix`), so equal
    forms are equal spellings, which share a mirror."""
    q = shlex.quote
    # git (2.38.1 on) refuses file:// for submodules unless told: without this, every
    # `git clone --recursive` and ExternalProject GIT_SUBMODULES clone fails offline
    cmds = ["git config --global protocol.file.allow always"]
    for m in mirrors(lock):
        key = f"url.{mirror_url(m.url)}.insteadOf"
        bares = dict.fromkeys(without_git_suffix(url) for url in m.spellings)
        for form in (f for bare in bares for f in (bare, bare + ".git")):
            cmds.append(f"git config --global --add {q(key)} {q(form)}")
    return " && \\\n    ".join(cmds)


def urls(lock: Lock) -> Iterable[str]:
    """Every pinned git URL (top repos and submodules), canonical spelling."""
    for m in mirrors(lock):
        yield m.url


def context_script() -> bytes:
    """The text of :mod:`tritonlock.emit.context`, which the sources stage runs."""
    return Path(__file__).with_name("context.py").read_bytes()
