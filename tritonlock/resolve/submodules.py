"""Submodules of a pinned tree, as git sees them (pure).

A submodule is a gitlink (mode 160000) in the tree; ``.gitmodules`` only says
where to fetch it from. Relative URLs resolve against the superproject's URL the
way ``git submodule`` resolves them; paths and names that could escape the
work tree are refused; so are URLs the lock cannot record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tritonlock.sources.gitclient import Tree

_LOCK_URL = re.compile(
    r"^(https|http|git|file)://[A-Za-z0-9._~%+-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+-]+)*/?$"
)
_SEGMENT = re.compile(r"^[A-Za-z0-9_.+-]+$")
_TRANSPORT = re.compile(r"^[A-Za-z0-9+.-]+::")
_FETCH_URL = re.compile(r"^(https?|git|file|ssh)://|^/")


class SubmoduleProblem(ValueError):
    """A submodule that must not be followed; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One direct submodule: path inside its superproject, absolute URL, commit."""

    path: str
    url: str
    commit: str


def _chop_last(url: str) -> str:
    for sep in ("/", ":"):
        i = url.rfind(sep)
        if i > 0:
            head = url[:i]
            if sep == "/" and head.endswith(("/", ":")):
                break
            return head
    raise SubmoduleProblem(f"relative URL climbs above {url}")


def resolve_url(super_url: str, url: str) -> str:
    """``url`` made absolute against ``super_url`` (git's ``../`` and ``./`` rules)."""
    if not url.startswith(("./", "../")):
        return url
    base = super_url.rstrip("/")
    rest = url
    while True:
        if rest.startswith("../"):
            rest = rest[3:]
            base = _chop_last(base)
        elif rest.startswith("./"):
            rest = rest[2:]
        else:
            break
    rest = rest.rstrip("/")
    return f"{base}/{rest}" if rest else base


def unsafe_path(path: str) -> str | None:
    """Why ``path`` may not be a submodule path or name, or None when it is fine."""
    if not path or path.startswith("/") or "\\" in path:
        return "is absolute or empty"
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "escapes the work tree"
    if any(p.lower() == ".git" for p in parts):
        return "names a .git directory"
    if not all(_SEGMENT.match(p) for p in parts):
        return "has characters a lock path cannot hold"
    return None


def unsafe_url(url: str) -> str | None:
    """Why ``url`` must never reach git (option or transport injection), or None."""
    if not url or url.startswith("-"):
        return "looks like an option"
    if _TRANSPORT.match(url) or url.startswith("ext:"):
        return "uses a remote-helper transport"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "contains whitespace or control characters"
    if not _FETCH_URL.match(url):
        return "is not an https/http/git/file/ssh URL"
    return None


def lock_url(url: str) -> bool:
    """True when ``url`` is a URL the lock can record (https/http/git/file, no credentials)."""
    return bool(_LOCK_URL.match(url))


def _modules(tree: Tree) -> Mapping[str, dict[str, str]]:
    modules: dict[str, dict[str, str]] = {}
    for name, key, value in tree.gitmodules:
        modules.setdefault(name, {})[key] = value
    return modules


def links(tree: Tree, super_url: str) -> list[Link]:
    """The direct submodules of ``tree`` (raises :class:`SubmoduleProblem`)."""
    if tree.gitmodules_error and tree.gitlinks:
        raise SubmoduleProblem(tree.gitmodules_error)
    by_path: dict[str, str] = {}
    for name, entry in sorted(_modules(tree).items()):
        path = entry.get("path", "")
        for what, value in (("name", name), ("path", path)):
            why = unsafe_path(value)
            if why:
                raise SubmoduleProblem(f"submodule {what} {value!r} {why}")
        if "url" in entry:
            by_path[path] = entry["url"]
    out: list[Link] = []
    for path, commit in sorted(tree.gitlinks):
        why = unsafe_path(path)
        if why:
            raise SubmoduleProblem(f"submodule path {path!r} {why}")
        if path not in by_path:
            raise SubmoduleProblem(f"gitlink {path} has no url in .gitmodules")
        url = resolve_url(super_url, by_path[path])
        if unsafe_url(url):
            raise SubmoduleProblem(f"submodule {path} has an unsafe url {by_path[path]!r}")
        if not lock_url(url):
            raise SubmoduleProblem(
                f"submodule {path} url {url!r} is not an https/http/git/file URL the lock can hold"
            )
        out.append(Link(path=path, url=url, commit=commit))
    return out
