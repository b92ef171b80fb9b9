"""Resolve git sources to commits: Triton repos, their submodules, and what CMake fetches.

:func:`resolve_git` asks each remote for the requested ref (``ls-remote`` style),
reads each pinned tree with the least transfer that works
(:mod:`tritonlock.resolve.gitclient`), follows gitlinks recursively
(:mod:`tritonlock.resolve.submodules`) and the ``ExternalProject_Add`` /
``FetchContent_Declare`` calls of every pinned repo's CMake files
(:mod:`tritonlock.cmake`). Remotes are asked concurrently (``jobs`` at a time).

Mirrors (``--git-mirror PREFIX=MIRROR``) rewrite where bytes come from, like
git's ``insteadOf`` (longest prefix wins); the lock records the canonical URL.
A mirror that cannot serve a pinned commit is an error, never a fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tritonlock import cmake
from tritonlock.errors import ResolveError, SourceError, UsageError
from tritonlock.model import GitPin, Submodule
from tritonlock.resolve.gitclient import GitFailed, SubprocessGit, Tree, redact
from tritonlock.resolve.submodules import SubmoduleProblem, links, lock_url, unsafe_url

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_REF = re.compile(r"^(?!.*\.\.)(?!.*//)(?!.*\.lock$)(?!.*/$)[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class GitRequest:
    """A repository to pin: name, canonical URL and ref (branch, tag, pull/N/head, commit)."""

    name: str
    url: str
    ref: str
    found_in: tuple[str, ...] = ("inputs",)


@dataclass(frozen=True, slots=True, kw_only=True)
class GitResolution:
    pins: tuple[GitPin, ...] = ()
    url_requests: tuple[tuple[str, str], ...] = ()  # (url, found_in) of unhashed downloads


class GitSource(Protocol):
    """Where refs and trees come from; :class:`SubprocessGit` is the real one."""

    def ls_remote(self, fetch_url: str, patterns: list[str]) -> list[tuple[str, str]]: ...

    def cached_tree(self, url: str, commit: str) -> Tree | None: ...

    def read_tree(self, url: str, fetch_url: str, commit: str, want: str) -> Tree: ...


def parse_mirror(spec: str) -> tuple[str, str]:
    """``PREFIX=MIRROR`` as a pair; UsageError when malformed or unsafe."""
    prefix, sep, mirror = spec.partition("=")
    if not sep or not prefix or not mirror:
        raise UsageError(f"--git-mirror {spec!r}: expected PREFIX=MIRROR")
    for what, url in (("prefix", prefix), ("mirror", mirror)):
        why = unsafe_url(url)
        if why:
            raise UsageError(f"--git-mirror {redact(spec)!r}: the {what} {why}")
    return prefix, mirror


def fetch_url(url: str, mirrors: Sequence[tuple[str, str]]) -> str:
    """Where the bytes of ``url`` come from: the longest matching mirror prefix, else ``url``."""
    best = max((m for m in mirrors if url.startswith(m[0])), key=lambda m: len(m[0]), default=None)
    return best[1] + url[len(best[0]) :] if best else url


def check_request(req: GitRequest) -> None:
    """UsageError for a request whose URL or ref is unsafe or malformed."""
    why = unsafe_url(req.url)
    if why:
        raise UsageError(f"{req.name}: URL {redact(req.url)!r} {why}")
    if not lock_url(req.url):
        raise UsageError(f"{req.name}: URL {redact(req.url)!r} is not an https/http/git/file URL")
    if not _REF.match(req.ref):
        raise UsageError(f"{req.name}: ref {req.ref!r} is not a valid branch, tag or commit")


def pick_ref(ref: str, listing: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The (full ref name, peeled commit) ``ref`` names in ``listing``, branches first."""
    refs = dict(listing)
    if ref.startswith("refs/"):
        names = [ref]
    elif ref.startswith("pull/"):
        names = [f"refs/{ref}"]
    elif ref == "HEAD":
        names = ["HEAD"]
    else:
        names = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    for name in names:
        if name in refs:
            return name, refs.get(f"{name}^{{}}", refs[name])
    return None


# -- planning (pure) ------------------------------------------------------


def norm(url: str) -> str:
    """The identity of a repository URL: scheme and host lowercased, no trailing / or .git."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    path = path.rstrip("/").removesuffix(".git").rstrip("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a pin was asked for: a caller's label, or a file and line of a pinned repo."""

    text: str | None = None
    repo: tuple[str, str] | None = None
    path: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Ask:
    name: str
    url: str
    ref: str
    origins: tuple[Origin, ...]
    top: bool = False

    @property
    def origin(self) -> Origin:
        return self.origins[0]

    @classmethod
    def top_level(cls, name: str, url: str, ref: str, found_in: Sequence[str]) -> Ask:
        origins = tuple(Origin(text=t) for t in found_in) or (Origin(text="inputs"),)
        return cls(name=name, url=url, ref=ref, origins=origins, top=True)


@dataclass
class Node:
    """One (repository, commit) that becomes a pin."""

    key: tuple[str, str]
    asks: list[Ask] = field(default_factory=list)
    scanned: bool = False

    @property
    def top(self) -> bool:
        return any(a.top for a in self.asks)

    def url(self) -> str:
        tops = sorted(a.url for a in self.asks if a.top)
        return tops[0] if tops else sorted(a.url for a in self.asks)[0]

    def base_name(self) -> str:
        tops = sorted(a.name for a in self.asks if a.top)
        return tops[0] if tops else sorted(a.name for a in self.asks)[0]

    def ref(self) -> str:
        refs = sorted({a.ref for a in self.asks if a.top}) or sorted(
            {a.ref for a in self.asks}, key=lambda r: (bool(_HEX40.match(r)), r)
        )
        return refs[0]


def add(nodes: dict[tuple[str, str], Node], ask: Ask, commit: str) -> Node:
    key = (norm(ask.url), commit)
    node = nodes.setdefault(key, Node(key=key))
    node.asks.append(ask)
    return node


def pin_name(cmake_name: str) -> str:
    """A pin name from an ExternalProject/FetchContent name: lowercased, no repo- affix."""
    name = cmake_name.lower()
    name = name.removeprefix("repo-").removesuffix("-repo").removesuffix("_repo")
    name = re.sub(r"[^a-z0-9._-]+", "-", name).strip("-._")
    return name or "dep"


def _scan_order(path: str) -> tuple[int, str, int]:
    folder, _, base = path.rpartition("/")
    return (path.count("/"), folder, 0 if base == "CMakeLists.txt" else 1)


def _scopes(tree: Tree, variables: Mapping[str, str]) -> list[tuple[str, cmake.Scan]]:
    """Each CMake file scanned with the scope of its nearest parent CMakeLists.txt."""
    ends: dict[str, Mapping[str, str]] = {}
    out: list[tuple[str, cmake.Scan]] = []
    for path, text in sorted(tree.cmake_files, key=lambda f: _scan_order(f[0])):
        folder = path.rpartition("/")[0]
        scope: Mapping[str, str] = variables
        probe = folder
        while True:
            if probe in ends and not (probe == folder and path.endswith("CMakeLists.txt")):
                scope = ends[probe]
                break
            if not probe:
                break
            probe = probe.rpartition("/")[0]
        try:
            result = cmake.scan(text, scope)
        except cmake.CMakeSyntaxError as err:
            raise SourceError(f"{path}: cannot read CMake ({err})") from None
        if path.rpartition("/")[2] == "CMakeLists.txt":
            ends[folder] = result.scope
        out.append((path, result))
    return out


def cmake_asks(
    node: Node, tree: Tree, variables: Mapping[str, str]
) -> tuple[list[Ask], list[tuple[str, Origin]], list[str]]:
    """Git repos and unhashed URLs the CMake files of ``tree`` fetch, and what was skipped.

    Only declarations inside a function or macro whose variables are unknown are skipped.
    """
    asks: list[Ask] = []
    urls: list[tuple[str, Origin]] = []
    skipped: list[str] = []
    for path, result in _scopes(tree, variables):
        for f in result.fetches:
            where = f"{node.base_name()}:{path}:{f.line}"
            if f.kind == "url" and f.hashed:
                continue
            if f.missing and f.template:
                skipped.append(f"{where} (a declaration in a function or macro)")
                continue
            if f.missing:
                raise ResolveError(
                    f"{where}: {f.name} uses ${{{f.missing[0]}}}, which is not set; "
                    "pass it in the CMake variables"
                )
            origin = Origin(repo=node.key, path=path, line=f.line)
            if f.kind == "url":
                urls.append((f.url, origin))
                continue
            why = unsafe_url(f.url)
            if why or not lock_url(f.url):
                why = why or "is not an https/http/git/file URL"
                raise SourceError(f"{where}: {f.name} GIT_REPOSITORY {f.url!r} {why}")
            ref = f.tag or "HEAD"
            if not _REF.match(ref):
                raise SourceError(f"{where}: {f.name} GIT_TAG {ref!r} is not a valid ref")
            asks.append(Ask(name=pin_name(f.name), url=f.url, ref=ref, origins=(origin,)))
    return asks, urls, skipped


def render_origins(origins: Sequence[Origin], names: Mapping[tuple[str, str], str]) -> list[str]:
    """``found_in`` strings: callers' labels first, then file:line places, sorted."""
    labels = [o.text for o in origins if o.text is not None]
    places = sorted(
        {
            f"{names.get(o.repo, o.repo[0].rsplit('/', 1)[-1])}:{o.path}:{o.line}"
            for o in origins
            if o.repo is not None
        }
    )
    return list(dict.fromkeys([*labels, *places]))


def _check_conflicts(nodes: Mapping[tuple[str, str], Node]) -> None:
    by_url: dict[str, list[Node]] = {}
    for node in nodes.values():
        by_url.setdefault(node.key[0], []).append(node)
    for group in by_url.values():
        if len(group) < 2 or not any(n.top for n in group):
            continue
        stray = sorted((n for n in group if not n.top), key=lambda n: n.key)
        if stray:
            top = next(n for n in sorted(group, key=lambda n: n.key) if n.top)
            other = stray[0]
            there = render_origins([a.origin for a in other.asks], {})[0]
            raise ResolveError(
                f"{top.base_name()}: {top.url()} resolves to {top.key[1][:12]} for the inputs "
                f"({top.ref()}) but to {other.key[1][:12]} at {there} ({other.ref()}); pass "
                "matching CMake variables (e.g. TRITON_*_REPO_TAG)"
            )


def _names(nodes: Mapping[tuple[str, str], Node]) -> dict[tuple[str, str], str]:
    groups: dict[str, list[Node]] = {}
    for node in nodes.values():
        groups.setdefault(node.base_name(), []).append(node)
    names: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for base, group in sorted(groups.items()):
        group.sort(key=lambda n: (not n.top, bool(_HEX40.match(n.ref())), n.ref(), n.url(), n.key))
        for i, node in enumerate(group):
            name = base if i == 0 else f"{base}-{re.sub(r'[^A-Za-z0-9._-]+', '-', node.ref())[:40]}"
            n = 2
            candidate = name
            while candidate in taken:
                candidate = f"{name}-{n}"
                n += 1
            taken.add(candidate)
            names[node.key] = candidate
    return names


def _flatten(
    trees: Mapping[tuple[str, str], Tree],
    key: tuple[str, str],
    url: str,
    prefix: str,
    ancestry: tuple[str, ...],
) -> list[Submodule]:
    out: list[Submodule] = []
    for link in links(trees[key], url):
        sub = (norm(link.url), link.commit)
        path = f"{prefix}{link.path}"
        if sub[0] in ancestry:
            raise SourceError(f"{redact(url)}: submodule cycle at {path} ({redact(link.url)})")
        if sub not in trees:
            raise ResolveError(f"{redact(url)}: submodule {path} was not read")
        out.append(Submodule(path=path, url=link.url, commit=link.commit))
        out.extend(_flatten(trees, sub, link.url, f"{path}/", (*ancestry, sub[0])))
    return out


def finish(
    nodes: Mapping[tuple[str, str], Node],
    trees: Mapping[tuple[str, str], Tree],
    urls: Sequence[tuple[str, Origin]],
) -> GitResolution:
    """The pins and URL requests of a finished run, in canonical order."""
    _check_conflicts(nodes)
    names = _names(nodes)
    pins = []
    for key, node in nodes.items():
        origins = [o for a in node.asks for o in a.origins]
        pins.append(
            GitPin(
                name=names[key],
                url=node.url(),
                ref=node.ref(),
                commit=key[1],
                found_in=tuple(render_origins(origins, names)),
                committed=trees[key].committed,
                submodules=tuple(
                    sorted(_flatten(trees, key, node.url(), "", (key[0],)), key=lambda s: s.path)
                ),
            )
        )
    requests = sorted({(u, render_origins([o], names)[0]) for u, o in urls})
    return GitResolution(
        pins=tuple(sorted(pins, key=GitPin.sort_key)), url_requests=tuple(requests)
    )


@dataclass
class _Run:
    """The state of one resolve: what was asked, what was found, what is under way."""

    source: GitSource
    mirrors: Sequence[tuple[str, str]]
    variables: Mapping[str, str]
    follow_cmake: bool
    previous: Mapping[tuple[str, str], str]
    progress: Callable[[str], None]
    pool: ThreadPoolExecutor
    nodes: dict[tuple[str, str], Node] = field(default_factory=dict)
    refs: dict[tuple[str, str], tuple[str, str] | None] = field(default_factory=dict)
    trees: dict[tuple[str, str], Tree] = field(default_factory=dict)
    waiting: dict[Future[object], Callable[[object], None]] = field(default_factory=dict)
    asked: set[tuple[str, str]] = field(default_factory=set)
    tree_keys: set[tuple[str, str]] = field(default_factory=set)
    ref_waiters: dict[tuple[str, str], list[Ask]] = field(default_factory=dict)
    urls: list[tuple[str, Origin]] = field(default_factory=list)

    def submit(self, fn: Callable[[], object], then: Callable[[object], None]) -> None:
        self.waiting[self.pool.submit(fn)] = then

    # -- refs -------------------------------------------------------------
    def ask(self, ask: Ask) -> None:
        key = (norm(ask.url), ask.ref)
        if key in self.refs:
            self._asked(ask, self.refs[key])
            return
        self.ref_waiters.setdefault(key, []).append(ask)
        if key in self.asked:
            return
        self.asked.add(key)
        if _HEX40.match(ask.ref):
            self._answer(key, ("", ask.ref))
            return
        src = fetch_url(ask.url, self.mirrors)
        self.progress(f"ls-remote {ask.name} {ask.ref}")

        def call() -> object:
            try:
                return self.source.ls_remote(src, [ask.ref])
            except GitFailed as err:
                raise _fail(ask, src, err.reason) from None

        self.submit(call, lambda listing: self._answer(key, pick_ref(ask.ref, listing)))  # type: ignore[arg-type]

    def _answer(self, key: tuple[str, str], found: tuple[str, str] | None) -> None:
        self.refs[key] = found
        for ask in self.ref_waiters.pop(key, []):
            self._asked(ask, found)

    def _asked(self, ask: Ask, found: tuple[str, str] | None) -> None:
        if found is None:
            where = ", ".join(render_origins([ask.origin], {}))
            raise ResolveError(
                f"{ask.name}: {redact(ask.url)} has no branch or tag {ask.ref!r} "
                f"(asked in {where}); check the release or pass an explicit ref"
            )
        refname, commit = found
        if refname.startswith("refs/tags/"):
            old = self.previous.get((norm(ask.url), ask.ref))
            if old is not None and old != commit:
                raise ResolveError(
                    f"{ask.name}: tag {ask.ref} of {redact(ask.url)} moved: the previous lock "
                    f"pinned {old}, the remote now has {commit}; check why before updating"
                )
        node = add(self.nodes, ask, commit)
        self.tree(node.url(), commit, refname or commit, node=node, label=f"{ask.name} {ask.ref}")

    # -- trees ------------------------------------------------------------
    def tree(self, url: str, commit: str, want: str, *, node: Node | None, label: str) -> None:
        key = (norm(url), commit)
        if key in self.tree_keys:
            if node is not None and key in self.trees:
                self._cmake(node, self.trees[key])
            return
        self.tree_keys.add(key)
        cached = self.source.cached_tree(url, commit)
        if cached is not None:
            self._got(key, url, cached)
            return
        src = fetch_url(url, self.mirrors)
        self.progress(f"fetch {label} {commit[:12]}")

        def call() -> object:
            try:
                return self.source.read_tree(url, src, commit, want)
            except GitFailed as err:
                raise _tree_fail(label, url, src, commit, want, err.reason) from None

        self.submit(call, lambda t: self._got(key, url, t))  # type: ignore[arg-type]

    def _got(self, key: tuple[str, str], url: str, tree: Tree) -> None:
        self.trees[key] = tree
        try:
            subs = links(tree, url)
        except SubmoduleProblem as err:
            raise SourceError(f"{redact(url)} at {tree.commit[:12]}: {err}") from None
        for link in subs:
            self.tree(link.url, link.commit, link.commit, node=None, label=f"submodule {link.path}")
        node = self.nodes.get(key)
        if node is not None:
            self._cmake(node, tree)

    def _cmake(self, node: Node, tree: Tree) -> None:
        if not self.follow_cmake or node.scanned:
            return
        node.scanned = True
        asks, urls, skipped = cmake_asks(node, tree, self.variables)
        self.urls.extend(urls)
        for what in skipped:
            self.progress(f"skip {what}: its arguments are only known when CMake runs")
        for ask in asks:
            self.ask(ask)

    def drain(self) -> None:
        while self.waiting:
            done, _ = wait(list(self.waiting), return_when=FIRST_COMPLETED)
            for fut in done:
                then = self.waiting.pop(fut)
                then(fut.result())


def _fail(ask: Ask, src: str, reason: str) -> ResolveError:
    via = f" via mirror {redact(src)}" if src != ask.url else ""
    return ResolveError(f"{ask.name}: cannot list {ask.ref!r} of {redact(ask.url)}{via}: {reason}")


def _tree_fail(label: str, url: str, src: str, commit: str, want: str, reason: str) -> ResolveError:
    via = f" from mirror {redact(src)} (no fallback to another source)" if src != url else ""
    if reason.startswith("moved to "):
        return ResolveError(
            f"{label}: {want} of {redact(url)} moved during the resolve ({commit[:12]} -> "
            f"{reason[9:21]}); run again"
        )
    return ResolveError(f"{label}: cannot fetch {commit} of {redact(url)}{via}: {reason}")


def resolve_git(
    requests: Sequence[GitRequest],
    *,
    mirrors: Sequence[tuple[str, str]] = (),
    cache_dir: Path,
    jobs: int = 8,
    variables: Mapping[str, str] | None = None,
    follow_cmake: bool = True,
    previous: Sequence[GitPin] = (),
    progress: Callable[[str], None] | None = None,
    source: GitSource | None = None,
    timeout: float = 120.0,
) -> GitResolution:
    """Pin ``requests`` and everything they pull in (see the module docstring)."""
    for req in requests:
        check_request(req)
    for prefix, mirror in mirrors:
        parse_mirror(f"{prefix}={mirror}")
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="git") as pool:
        run = _Run(
            source=source or SubprocessGit(cache_dir, timeout=timeout),
            mirrors=tuple(mirrors),
            variables=dict(variables or {}),
            follow_cmake=follow_cmake,
            previous={(norm(p.url), p.ref): p.commit for p in previous},
            progress=progress or (lambda _msg: None),
            pool=pool,
        )
        try:
            for req in requests:
                run.ask(Ask.top_level(req.name, req.url, req.ref, req.found_in))
            run.drain()
        except BaseException:
            for fut in run.waiting:
                fut.cancel()
            raise
    return finish(run.nodes, run.trees, run.urls)
