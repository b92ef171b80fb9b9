"""The pure half of the git resolver: what was asked (and where), the repositories found
so far and their CMake fetches, conflicts, pin names, and the final :class:`GitResolution`.
:mod:`tritonlock.resolve.git` does the asking."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tritonlock.errors import ResolveError, SourceError
from tritonlock.model import Commit, GitPin, Submodule
from tritonlock.resolve.submodules import SubmoduleProblem, links, lock_url, unsafe_url
from tritonlock.sources.gitclient import Tree
from tritonlock.upstream import cmake
from tritonlock.util.redact import redact

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
# A branch, tag or commit as the lock's schema allows it.
REF = re.compile(r"^(?!.*\.\.)(?!.*//)(?!.*\.lock$)(?!.*/$)[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class GitRequest:
    """A repository to pin: name, canonical URL and ref (branch, tag, pull/N/head, commit)."""

    name: str
    url: str
    ref: str
    found_in: tuple[str, ...] = ("inputs",)
    # The -D variables the recipe configures this repo with (None: not configured by it),
    # and those it defines with a value known only in the build (the environment's).
    variables: tuple[tuple[str, str], ...] | None = None
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GitResolution:
    pins: tuple[GitPin, ...] = ()
    url_requests: tuple[tuple[str, str], ...] = ()  # (url, found_in) of downloads to hash
    # (url, sha256 hex, found_in) of downloads whose SHA256 upstream declares (fixed-output)
    fixed: tuple[tuple[str, str, str], ...] = ()
    failures: tuple[tuple[str, str], ...] = ()  # (what, why), only with strict=False


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
    root: int = 0  # the index of the request this ask descends from (orders failures)
    owner: str = ""  # what a failure of this ask is recorded as (see GitResolution.failures)
    # What the asked repo is configured with (see cmake.Fetch.defines); ``configured``:
    # these are the recipe's own -D flags for it.
    defines: tuple[tuple[str, str], ...] = ()
    unknown: tuple[str, ...] = ()
    inherits: bool = False
    configured: bool = False

    @property
    def origin(self) -> Origin:
        return self.origins[0]

    @classmethod
    def top_level(
        cls,
        name: str,
        url: str,
        ref: str,
        found_in: Sequence[str],
        root: int = 0,
        variables: Sequence[tuple[str, str]] | None = None,
        unknown: Sequence[str] = (),
    ) -> Ask:
        origins = tuple(Origin(text=t) for t in found_in) or (Origin(text="inputs"),)
        return cls(
            name=name,
            url=url,
            ref=ref,
            origins=origins,
            top=True,
            root=root,
            owner=name,
            defines=tuple(variables or ()),
            unknown=tuple(unknown),
            configured=variables is not None,
        )


@dataclass
class Node:
    """One (repository, commit) that becomes a pin."""

    key: tuple[str, str]
    asks: list[Ask] = field(default_factory=list)
    scanned: set[Config] = field(default_factory=set)  # configurations read so far

    @property
    def top(self) -> bool:
        return any(a.top for a in self.asks)

    @property
    def root(self) -> int:
        return min(a.root for a in self.asks)

    @property
    def first_party(self) -> bool:
        """A Triton repo: asked for by the caller, or of the triton-inference-server org."""
        return self.top or any(first_party(a.url) for a in self.asks)

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


def first_party(url: str) -> bool:
    """True for a repository of the ``triton-inference-server`` organization."""
    path = norm(url).partition("://")[2].partition("/")[2]
    return "triton-inference-server" in path.lower().split("/")


# How a repo's CMake is configured: -D variables, the unknown ones, FetchContent or not.
Config = tuple[tuple[tuple[str, str], ...], tuple[str, ...], bool]


def configurations(node: Node, base: Mapping[str, str], final: bool = False) -> list[Config]:
    """Every way a node's CMake is configured in the build (what is reachable in any of
    them is pinned), in the order they were asked.

    A repo the recipe configures itself gets the recipe's ``-D`` flags (over ``base``);
    each CMake file that asks for a repo configures it with what it passes (an
    ExternalProject's ``-D`` arguments, or the scope where a FetchContent dependency is
    made available; over ``base`` for a top-level repo). A top-level repo nothing else
    configures is read with ``base`` once every other ask is known (``final``)."""
    out: list[Config] = []
    config: tuple[dict[str, str], tuple[str, ...], bool]
    for ask in sorted(node.asks, key=lambda a: a.root):
        if ask.configured:
            config = {**base, **dict(ask.defines)}, ask.unknown, False
        elif ask.top:
            continue
        else:
            under = dict(base) if node.top else {}
            if not ask.inherits:
                config = {**under, **dict(ask.defines)}, ask.unknown, False
            else:
                # The declaring project's source paths mean nothing in the dependency's
                # tree (the binary tree is the same build's).
                keep = {k: v for k, v in ask.defines if cmake.SRC not in v}
                dropped = tuple(k for k, _ in ask.defines if k not in keep)
                config = {**under, **keep}, (*ask.unknown, *dropped), True
        key: Config = (tuple(sorted(config[0].items())), tuple(sorted(set(config[1]))), config[2])
        if key not in out:
            out.append(key)
    if not out and node.top and final:
        out.append((tuple(sorted(base.items())), (), False))
    return out


def tree_files(
    trees: Mapping[tuple[str, str], Tree],
    key: tuple[str, str],
    url: str,
    seen: frozenset[str] = frozenset(),
) -> dict[str, str] | None:
    """The CMake files of a tree and of its submodules (at their paths); None while a
    submodule tree is not read (or cannot be)."""
    if key not in trees:
        return None
    files = dict(trees[key].cmake_files)
    try:
        subs = links(trees[key], url)
    except SubmoduleProblem:
        return None
    for link in subs:
        sub = (norm(link.url), link.commit)
        if sub[0] in seen:
            continue
        inner = tree_files(trees, sub, link.url, seen | {key[0]})
        if inner is None:
            return None
        files.update({f"{link.path}/{p}": t for p, t in inner.items()})
    return files


@dataclass
class CMakeFound:
    """What the CMake files of one pinned repo fetch, skip, and fail on (in CMake order).

    ``held``: what an ``EXCLUDE_FROM_ALL`` ExternalProject target would fetch (and fail
    on), by target, taken only once a built target is known to depend on it; ``calls``:
    the build-graph commands reached (:mod:`tritonlock.upstream.cmake.targets`)."""

    asks: list[Ask] = field(default_factory=list)
    urls: list[tuple[str, Origin]] = field(default_factory=list)
    fixed: list[tuple[str, str, Origin]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[SourceError | ResolveError] = field(default_factory=list)
    # Declarations (path, line) reached, and those not reached with what to say of them.
    reached: set[tuple[str, int]] = field(default_factory=set)
    unreached: dict[tuple[str, int], str] = field(default_factory=dict)
    held: dict[str, Held] = field(default_factory=dict)
    calls: tuple[cmake.Call, ...] = ()


@dataclass
class Held:
    """What one EXCLUDE_FROM_ALL ExternalProject target of a repo fetches (``where``:
    ``NAME:PATH:LINE`` of its declarations)."""

    found: CMakeFound
    where: list[str] = field(default_factory=list)


def _is_download(url: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) is not None and not url.startswith(
        "file://"
    )


def cmake_asks(
    node: Node,
    files: Mapping[str, str],
    variables: Mapping[str, str],
    unknown: Sequence[str] = (),
    inherits: bool = False,
) -> CMakeFound:
    """Git repos and URLs that configuring ``files`` (a tree with its submodules) reaches
    for ``variables``; declarations it does not reach are listed as skipped, and what an
    ``EXCLUDE_FROM_ALL`` ExternalProject fetches is held by target."""
    out = CMakeFound()
    name = node.base_name()
    project = cmake.configure(files, variables, unknown=unknown, inherits=inherits)
    out.calls = project.calls
    for problem in project.problems:
        if node.first_party and "cannot read CMake" in problem:
            out.problems.append(SourceError(problem))
        else:
            out.skipped.append(f"{name}:{problem}")
    reached: set[tuple[str, int]] = set()
    for f in project.fetches:
        reached.add((f.path, f.line))
        if f.excluded:
            held = out.held.setdefault(f.target, Held(CMakeFound()))
            held.where.append(f"{name}:{f.path}:{f.line}")
            _take(node, f, held.found)
        else:
            _take(node, f, out)
    out.reached = reached
    out.unreached = {
        (
            path,
            line,
        ): f"{name}:{path}:{line} (not reached when CMake configures {name} for the recipe)"
        for path in sorted(files)
        for line in _lines(files[path])
        if (path, line) not in reached
    }
    return out


def _take(node: Node, f: cmake.Fetch, out: CMakeFound) -> None:
    """Record what the reached download ``f`` of ``node``'s CMake asks for in ``out``."""
    name = node.base_name()
    where = f"{name}:{f.path}:{f.line}"
    if f.kind == "url" and not f.missing and not _is_download(f.url):
        out.skipped.append(f"{where} ({f.url} is a file of the tree, not a download)")
        return
    if f.missing:
        out.problems.append(ResolveError(f"{where}: {f.name} uses {_why(f.missing[0])}"))
        return
    origin = Origin(repo=node.key, path=f.path, line=f.line)
    if f.kind == "url":
        if f.sha256 is not None:
            out.fixed.append((f.url, f.sha256, origin))
        else:
            out.urls.append((f.url, origin))
        return
    why = unsafe_url(f.url)
    if why or not lock_url(f.url):
        why = why or "is not an https/http/git/file URL"
        out.problems.append(SourceError(f"{where}: {f.name} GIT_REPOSITORY {f.url!r} {why}"))
        return
    ref = f.tag or "HEAD"
    if not REF.match(ref):
        out.problems.append(SourceError(f"{where}: {f.name} GIT_TAG {ref!r} is not a valid ref"))
        return
    out.asks.append(
        Ask(
            name=pin_name(f.name),
            url=f.url,
            ref=ref,
            origins=(origin,),
            root=node.root,
            owner=f"{name}: what its CMake files fetch",
            defines=f.defines,
            unknown=f.unknown,
            inherits=f.inherits,
        )
    )


def _why(name: str) -> str:
    """Why a variable's value is not known, for an error message."""
    if name.startswith("$ENV{"):
        return f"{name}, which the recipe does not set"
    if name.endswith("?"):
        return (
            f"${{{name[:-1]}}}, which is set differently under an if() whose condition "
            "is only known when CMake runs; pass the variables it tests in the CMake variables"
        )
    return f"${{{name}}}, which is not set; pass it in the CMake variables"


def _lines(text: str) -> list[int]:
    try:
        return cmake.declarations(text)
    except cmake.CMakeSyntaxError:
        return []


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
        out.append(Submodule(path=path, url=link.url, commit=Commit(link.commit)))
        out.extend(_flatten(trees, sub, link.url, f"{path}/", (*ancestry, sub[0])))
    return out


def complete(
    nodes: Mapping[tuple[str, str], Node], trees: Mapping[tuple[str, str], Tree]
) -> dict[tuple[str, str], Node]:
    """The nodes whose tree and every (recursive) submodule tree were read, and that are
    asked for by the inputs or by another such node: a dependency left out takes what
    only it asked for with it."""

    def read(key: tuple[str, str], url: str, seen: frozenset[tuple[str, str]]) -> bool:
        if key not in trees:
            return False
        if key in seen:
            return True
        try:
            subs = links(trees[key], url)
        except SubmoduleProblem:
            return False
        return all(read((norm(s.url), s.commit), s.url, seen | {key}) for s in subs)

    kept = {k: n for k, n in nodes.items() if read(k, n.url(), frozenset())}
    while True:
        asked = {
            k: n
            for k, n in kept.items()
            if any(o.repo is None or o.repo in kept for a in n.asks for o in a.origins)
        }
        if len(asked) == len(kept):
            return asked
        kept = asked


def finish(
    nodes: Mapping[tuple[str, str], Node],
    trees: Mapping[tuple[str, str], Tree],
    urls: Sequence[tuple[str, Origin]],
    failures: Sequence[tuple[str, str]] = (),
    fixed: Sequence[tuple[str, str, Origin]] = (),
) -> GitResolution:
    """The pins and URL requests of a finished run, in canonical order; downloads asked
    for by a repo that is not among ``nodes`` are left out with it."""
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
                commit=Commit(key[1]),
                found_in=tuple(render_origins(origins, names)),
                committed=trees[key].committed,
                submodules=tuple(
                    sorted(_flatten(trees, key, node.url(), "", (key[0],)), key=lambda s: s.path)
                ),
            )
        )
    requests = sorted({(u, render_origins([o], names)[0]) for u, o in urls if o.repo in nodes})
    hashed = sorted({(u, h, render_origins([o], names)[0]) for u, h, o in fixed if o.repo in nodes})
    return GitResolution(
        pins=tuple(sorted(pins, key=GitPin.sort_key)),
        url_requests=tuple(requests),
        fixed=tuple(hashed),
        failures=tuple(failures),
    )
