"""Which git URLs of a lock name one repository, and the rules that keep repositories apart
in the build.

In the emitted build every repository is a local bare mirror, ``GIT_ROOT/<repo_key>.git``
(:func:`tritonlock.model.repo_key`), and the compile stage reaches it through
``url.<mirror>.insteadOf`` rules and rewritten ``git clone`` URLs. A lock could otherwise
redirect what the build checks out (issue 14):

* by pinning a ref of a repository it already pins to another commit under a second
  spelling of its URL (``…/CORE``, ``…/%63ore``, ``…/core.git.git``, ``…:443/…``), which
  :func:`one_commit_per_ref` refuses whatever the spelling (:func:`same_repository`);
* by making two repositories share one folder (``https://h:1/x`` and ``https://h_1/x``) or
  putting one folder inside another (``…/core.git/refs/heads/x``, whose ``git init`` would
  write into core's refs), which :func:`mirror_folders_apart` refuses.
"""

from __future__ import annotations

import re

from ..model import Lock, repo_key, without_git_suffix

_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_DEFAULT_PORT = {"https": "443", "http": "80", "git": "9418"}


def same_repository(url: str) -> str:
    """What ``url`` names, whatever its spelling: equal for every spelling a git host may
    take for one repository. Scheme, a default port, a host's trailing dot and user info are
    dropped; the rest is percent-decoded, lowercased (GitHub and most hosts ignore case),
    with ``.``/``..`` segments resolved and no trailing ``/`` or ``.git``. Wider than
    :func:`tritonlock.model.repo_key` (one mirror folder): two spellings with one
    ``same_repository`` may have two folders, but then each folder holds the same commits
    for the refs both pin."""
    scheme, _, rest = url.rpartition("://")
    rest = _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), rest).lower()
    host, _, path = rest.partition("/")
    name, _, port = host.rpartition("@")[2].partition(":")
    name = name.rstrip(".")
    host = name if port in ("", _DEFAULT_PORT.get(scheme.lower())) else f"{name}:{port}"
    segments: list[str] = []
    for segment in without_git_suffix(path).split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return "/".join([host, *segments])


def one_commit_per_ref(lock: Lock) -> list[str]:
    """Each ref of a repository points at one commit, however many spellings of its URL the
    lock holds (upstream writes ``…/pybind11`` and ``…/pybind11.git``): a second entry that
    pins a ref of the same repository to another commit would redirect what the build
    checks out."""
    first: dict[tuple[str, str], tuple[str, str]] = {}  # (repository, ref) → (where, commit)
    out = []
    for i, g in enumerate(lock.git):
        key = (same_repository(g.url), g.ref)
        where, commit = first.setdefault(key, (f"git[{i}]", g.commit))
        if commit != g.commit:
            out.append(
                f"git[{i}].commit: {g.url} {g.ref!r} is {g.commit[:12]} here but "
                f"{commit[:12]} in {where} (the same repository); one ref, one commit"
            )
    return out


def _urls(lock: Lock) -> list[tuple[str, str]]:
    """(where, URL) of every repository of the lock, top-level and submodules."""
    out = []
    for i, g in enumerate(lock.git):
        out.append((f"git[{i}].url", g.url))
        out += [(f"git[{i}].submodules[{j}].url", s.url) for j, s in enumerate(g.submodules)]
    return out


def mirror_folders_apart(lock: Lock) -> list[str]:
    """Every repository gets a mirror folder of its own, and no folder lies inside another."""
    folders: dict[str, tuple[str, str]] = {}  # folder → (where, URL) of its first repository
    out = []
    for where, url in _urls(lock):
        folder = repo_key(url) + ".git"
        first, first_url = folders.setdefault(folder, (where, url))
        if same_repository(first_url) != same_repository(url):
            out.append(
                f"{where}: {url} and {first_url} ({first}) are different repositories "
                f"but would share the mirror folder {folder}; spell one of them differently"
            )
    for where, url in _urls(lock):
        parts = (repo_key(url) + ".git").split("/")
        outer = next(
            ("/".join(parts[:k]) for k in range(1, len(parts)) if "/".join(parts[:k]) in folders),
            None,
        )
        if outer is not None:
            around, around_url = folders[outer]
            out.append(
                f"{where}: {url} goes on past the repository {around_url} ({around}): "
                f"its mirror folder would lie inside {outer}"
            )
    return out
