"""Resolve git sources to commits: Triton repos, their submodules, and what CMake fetches.

:func:`resolve_git` asks each remote for the requested ref (``ls-remote`` style),
reads each pinned tree with the least transfer that works
(:mod:`tritonlock.sources.gitclient`), follows gitlinks recursively
(:mod:`tritonlock.resolve.submodules`) and the ``ExternalProject_Add`` /
``FetchContent_Declare`` calls of every pinned repo's CMake files
(:mod:`tritonlock.upstream.cmake`). Remotes are asked concurrently (``jobs`` at a time). What
was asked, what was found and the final pins are planned in :mod:`tritonlock.resolve.gitplan`
(pure); this module does the asking.

Mirrors (``--git-mirror PREFIX=MIRROR``) rewrite where bytes come from, like
git's ``insteadOf`` (longest prefix wins); the lock records the canonical URL.
A mirror prefix matches on path boundaries: ``https://github.com/google`` covers
``https://github.com/google/re2`` but not ``https://github.com/googleapis/...``.
A mirror that cannot serve a pinned commit is an error, never a fallback.

Each pinned repo's CMake (with its submodules' files at their paths) is read the way
CMake would configure it (:mod:`tritonlock.upstream.cmake`), once per way the build configures
it (:func:`tritonlock.resolve.gitplan.configurations`: the recipe's ``-D`` flags, an
ExternalProject's ``-D`` arguments, a FetchContent scope). A declaration it does not
reach is skipped with a progress message naming file:line. A reached declaration whose
URL or tag uses a variable that is not known is an error, in a Triton repo and in a
third-party dependency alike; a file that is not CMake is an error in a Triton repo and
skipped (and said) in a dependency.

A reached ``ExternalProject_Add`` declared ``EXCLUDE_FROM_ALL`` downloads only when it is
built: what it fetches (and fails on) is held until a built target is known to depend on
it (:mod:`tritonlock.upstream.cmake.targets`, over the build-graph commands of every tree
read so far, with ``roots``, the targets the recipe builds by name). Once nothing else is
under way the held ones that became built are followed, and so on; one still held at the
end is never built, and is skipped (and said), its failures with it.

A ref of 7 to 39 lowercase hex digits that the remote does not list as a branch or
tag is an abbreviated commit id, as CMake's ``GIT_TAG`` allows: it is expanded from
the commits of the remote's branches and tags (fetched without trees or blobs, and
only for such refs), and pinned like a full commit id, with the abbreviation as its
ref. An abbreviation that names no commit, or several, is an error.

Remote answers are taken in submission order, so the first failure reported is the
same on every run, and so is everything else the run records (the lock is byte-identical
however the network answers); a tree found in the cache takes its turn like a fetched
one, so a warm run records in the order of a cold one. The network does not wait for
that order: each tree read starts the moment its commit is known (:class:`_Ahead`), a
top repo's tree as soon as its ``ls-remote`` answers, a submodule's as soon as its
superproject's tree is read, however far back in the queue the run will take them; the
run then finds them read or under way. With ``strict=False`` a failure does not stop
the run: the pins that could be made are returned with :attr:`GitResolution.failures`,
one per repo whose own pin failed (``what`` is its name) or whose CMake fetches failed
(``what`` is "NAME: what its CMake files fetch"), each with its first failure in CMake order.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

from tritonlock.errors import ResolveError, SourceError, TritonLockError, UsageError
from tritonlock.model import GitPin
from tritonlock.resolve.gitplan import (
    REF,
    Ask,
    CMakeFound,
    Config,
    GitRequest,
    GitResolution,
    Held,
    Node,
    Origin,
    add,
    cmake_asks,
    complete,
    configurations,
    finish,
    norm,
    render_origins,
    tree_files,
)
from tritonlock.resolve.submodules import SubmoduleProblem, links, lock_url, unsafe_url
from tritonlock.sources.gitclient import GitFailed, SubprocessGit, Tree
from tritonlock.sources.hosts import GITHUB_ORG
from tritonlock.sources.mirrors import rewrite as fetch_url
from tritonlock.upstream import cmake
from tritonlock.util.redact import BadURL, redact, split_url

__all__ = [
    "GitRequest",
    "GitResolution",
    "GitSource",
    "abbreviates",
    "check_request",
    "expanded",
    "fetch_url",
    "is_abbreviation",
    "norm",
    "parse_mirror",
    "pick_ref",
    "resolve_git",
]

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_ABBREV = re.compile(r"^[0-9a-f]{7,39}$")


class GitSource(Protocol):
    """Where refs and trees come from; :class:`SubprocessGit` is the real one."""

    def ls_remote(self, fetch_url: str, patterns: list[str]) -> list[tuple[str, str]]: ...

    def cached_tree(self, url: str, commit: str) -> Tree | None: ...

    def read_tree(self, url: str, fetch_url: str, commit: str, want: str) -> Tree: ...

    def cached_commit(self, url: str, abbrev: str) -> str | None: ...

    def expand(self, url: str, fetch_url: str, abbrev: str) -> tuple[str, ...]:
        """The commits ``abbrev`` may name: one when it is unique (see
        :func:`tritonlock.sources.gitclient.commit_candidates`)."""
        ...


def parse_mirror(spec: str) -> tuple[str, str]:
    """``PREFIX=MIRROR`` as a pair; UsageError when malformed or unsafe."""
    prefix, sep, mirror = spec.partition("=")
    if not sep or not prefix or not mirror:
        raise UsageError(f"--git-mirror {redact(spec)!r}: expected PREFIX=MIRROR")
    for what, url in (("prefix", prefix), ("mirror", mirror)):
        why = unsafe_url(url) or _mirror_problem(url)
        if why:
            raise UsageError(f"--git-mirror {redact(spec)!r}: the {what} {why}")
    return prefix, mirror


def _mirror_problem(url: str) -> str | None:
    """Why git cannot be given ``url``'s credentials safely (they travel through a credential
    helper, never argv or a config file: see :mod:`tritonlock.sources.gitclient`)."""
    try:
        clean, creds = split_url(url)
    except BadURL as err:
        return str(err)
    if "?" in clean or "#" in clean:
        return (
            "has a query or fragment, which the repository's path would follow; give a "
            "token as user info (https://USER:TOKEN@host/...)"
        )
    if creds is not None and creds.password is not None and not url.startswith("http"):
        return "has a password, which git sends only over http(s); use an ssh key"
    return None


def check_request(req: GitRequest) -> None:
    """UsageError for a request whose URL or ref is unsafe or malformed."""
    why = unsafe_url(req.url)
    if why:
        raise UsageError(f"{req.name}: URL {redact(req.url)!r} {why}")
    if not lock_url(req.url):
        raise UsageError(f"{req.name}: URL {redact(req.url)!r} is not an https/http/git/file URL")
    if not REF.match(req.ref):
        raise UsageError(f"{req.name}: ref {req.ref!r} is not a valid branch, tag or commit")


def ref_names(ref: str) -> list[str]:
    """The full ref names ``ref`` may stand for, in the order :func:`pick_ref` tries them."""
    if ref.startswith("refs/"):
        return [ref]
    if ref.startswith("pull/"):
        return [f"refs/{ref}"]
    if ref == "HEAD":
        return ["HEAD"]
    return [f"refs/heads/{ref}", f"refs/tags/{ref}"]


def pick_ref(ref: str, listing: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The (full ref name, peeled commit) ``ref`` names in ``listing``, branches first."""
    refs = dict(listing)
    for name in ref_names(ref):
        if name in refs:
            return name, refs.get(f"{name}^{{}}", refs[name])
    return None


def is_abbreviation(ref: str) -> bool:
    """True for a ref that may be an abbreviated commit id (7 to 39 lowercase hex digits)."""
    return bool(_ABBREV.match(ref))


def abbreviates(ref: str, commit: str) -> bool:
    """True when ``ref`` is an abbreviation of the full commit id ``commit``."""
    return is_abbreviation(ref) and bool(_HEX40.match(commit)) and commit.startswith(ref)


Owner = tuple[int, str]  # (root, what): where a failure is recorded
_Then = Callable[[object], None]  # what to do with a call's result
_Failed = Callable[[TritonLockError], None]  # what to do when it failed
_Wrap = Callable[[GitFailed], TritonLockError]  # a git failure as the run reports it
_ReadKey = tuple[str, str, str, str]  # (url, fetch url, commit, want): one read_tree call


class _Ahead:
    """Tree reads started before the run takes them: a tree the moment its commit is
    known. Each read is started once (by its exact arguments) and shared with the run;
    what it returns or raises is what the run would have got asking itself. Only the
    order of starting changes, never what the run records."""

    def __init__(
        self,
        source: GitSource,
        pool: ThreadPoolExecutor,
        mirrors: Sequence[tuple[str, str]],
        previous: Mapping[tuple[str, str], str],
    ) -> None:
        self.source = source
        self.pool = pool
        self.mirrors = mirrors
        self.previous = previous
        self.lock = threading.Lock()
        self.reads: dict[_ReadKey, Future[object]] = {}
        self.seen: set[tuple[str, str]] = set()  # (canonical url, commit) looked ahead at
        self.stopped = False

    def started(self, url: str, src: str, commit: str, want: str) -> Future[object] | None:
        with self.lock:
            return self.reads.get((url, src, commit, want))

    def read(self, url: str, src: str, commit: str, want: str) -> Future[object]:
        """The read of ``commit`` of ``url`` (from ``src``, as ``want``): the one under
        way, or a new one."""
        key = (url, src, commit, want)
        with self.lock:
            fut = self.reads.get(key)
            if fut is None:
                fut = self.pool.submit(self._read, url, src, commit, want)
                self.reads[key] = fut
            return fut

    def _read(self, url: str, src: str, commit: str, want: str) -> object:
        tree = self.source.read_tree(url, src, commit, want)
        self.submodules(url, tree)
        return tree

    def submodules(self, url: str, tree: Tree) -> None:
        """Start reading each submodule tree of ``tree`` (read from ``url``)."""
        try:
            subs = links(tree, url)
        except SubmoduleProblem:
            return  # the run says why
        for link in subs:
            self.tree(link.url, link.commit, link.commit)

    def listed(self, ask: Ask, listing: Sequence[tuple[str, str]]) -> None:
        """Start reading the tree ``ask.ref`` names in ``listing`` (unless the run will
        refuse it: a tag that moved since the previous lock)."""
        found = pick_ref(ask.ref, listing)
        if found is None:
            return
        refname, commit = found
        old = self.previous.get((norm(ask.url), ask.ref))
        if refname.startswith("refs/tags/") and old is not None and old != commit:
            return
        self.tree(ask.url, commit, refname)

    def tree(self, url: str, commit: str, want: str) -> None:
        with self.lock:
            if self.stopped or (norm(url), commit) in self.seen:
                return
            self.seen.add((norm(url), commit))
        cached = self.source.cached_tree(url, commit)
        if cached is not None:
            self.submodules(url, cached)
            return
        try:
            self.read(url, fetch_url(url, self.mirrors), commit, want)
        except RuntimeError:  # the pool shut down: the run is over
            return

    def stop(self) -> None:
        """Start nothing more; what has not started is cancelled."""
        with self.lock:
            self.stopped = True
            pending = list(self.reads.values())
        for fut in pending:
            fut.cancel()


@dataclass
class _Run:
    """The state of one resolve: what was asked, what was found, what is under way."""

    source: GitSource
    mirrors: Sequence[tuple[str, str]]
    variables: Mapping[str, str]
    platform: Mapping[str, str]
    follow_cmake: bool
    previous: Mapping[tuple[str, str], str]
    progress: Callable[[str], None]
    pool: ThreadPoolExecutor
    ahead: _Ahead
    strict: bool = True
    roots: frozenset[str] = frozenset()  # targets the recipe builds by name
    nodes: dict[tuple[str, str], Node] = field(default_factory=dict)
    refs: dict[tuple[str, str], tuple[str, str] | None] = field(default_factory=dict)
    trees: dict[tuple[str, str], Tree] = field(default_factory=dict)
    waiting: deque[tuple[Future[object], _Then, _Failed, _Wrap | None]] = field(
        default_factory=deque
    )
    asked: set[tuple[str, str]] = field(default_factory=set)
    tree_keys: set[tuple[str, str]] = field(default_factory=set)
    ref_waiters: dict[tuple[str, str], list[Ask]] = field(default_factory=dict)
    ref_errors: dict[tuple[str, str], TritonLockError] = field(default_factory=dict)
    tree_owners: dict[tuple[str, str], list[Owner]] = field(default_factory=dict)
    tree_errors: dict[tuple[str, str], TritonLockError] = field(default_factory=dict)
    urls: list[tuple[str, Origin]] = field(default_factory=list)
    fixed: list[tuple[str, str, Origin]] = field(default_factory=list)
    pending: list[Node] = field(default_factory=list)
    reported: set[tuple[tuple[str, str], str]] = field(default_factory=set)
    reached: set[tuple[tuple[str, str], str, int]] = field(default_factory=set)
    unreached: dict[tuple[tuple[str, str], str, int], str] = field(default_factory=dict)
    failed: list[tuple[int, int, str, str]] = field(default_factory=list)
    calls: list[cmake.Call] = field(default_factory=list)  # the build graph, every tree
    held: list[tuple[Node, str, Held]] = field(default_factory=list)  # (node, target, what)

    def submit(
        self,
        fn: Callable[[], object],
        then: _Then,
        failed: _Failed,
    ) -> None:
        self.waiting.append((self.pool.submit(fn), then, failed, None))

    def record(self, owners: Sequence[Owner], err: TritonLockError) -> None:
        """Raise ``err`` (strict), or note it for each owner."""
        if self.strict:
            raise err
        why = " ".join(str(err).split())
        for root, what in dict.fromkeys(owners):
            self.failed.append((root, len(self.failed), what, why))
            self.progress(f"failed: {what}: {why}")

    def failures(self) -> tuple[tuple[str, str], ...]:
        """One (what, why) per owner: its first failure, in request and then run order."""
        firsts: dict[str, tuple[str, int]] = {}
        for _root, _seq, what, why in sorted(self.failed):
            first, more = firsts.get(what, (why, -1))
            firsts[what] = (first, more + 1)
        return tuple(
            (what, why if more == 0 else f"{why} (and {more} more)")
            for what, (why, more) in firsts.items()
        )

    # -- refs -------------------------------------------------------------
    def ask(self, ask: Ask) -> None:
        key = (norm(ask.url), ask.ref)
        if key in self.ref_errors:
            self.record([(ask.root, ask.owner)], self.ref_errors[key])
            return
        if key in self.refs:
            self._asked_or_record(ask, self.refs[key])
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
                listing = self.source.ls_remote(src, [ask.ref])
            except GitFailed as err:
                raise _fail(ask, src, err.reason) from None
            self.ahead.listed(ask, listing)
            return listing

        def failed(err: TritonLockError) -> None:
            self.ref_errors[key] = err
            waiters = self.ref_waiters.pop(key, [])
            self.record([(a.root, a.owner) for a in waiters], err)

        self.submit(
            call,
            lambda listing: self._listed(ask, key, listing, failed),  # type: ignore[arg-type]
            failed,
        )

    def _listed(
        self,
        ask: Ask,
        key: tuple[str, str],
        listing: Sequence[tuple[str, str]],
        failed: _Failed,
    ) -> None:
        found = pick_ref(ask.ref, listing)
        if found is None and is_abbreviation(ask.ref):
            self._expand(ask, key, failed)
            return
        self._answer(key, found)

    def _expand(self, ask: Ask, key: tuple[str, str], failed: _Failed) -> None:
        """Expand an abbreviated commit id that the remote lists as no branch or tag."""
        cached = self.source.cached_commit(ask.url, ask.ref)
        if cached is not None and abbreviates(ask.ref, cached):
            self._answer(key, ("", cached))
            return
        src = fetch_url(ask.url, self.mirrors)
        self.progress(f"fetch history {ask.name} to expand {ask.ref}")

        def call() -> object:
            try:
                commits = self.source.expand(ask.url, src, ask.ref)
            except GitFailed as err:
                raise _expand_fail(ask, src, err.reason) from None
            return expanded(ask, commits)

        self.submit(call, lambda commit: self._answer(key, ("", str(commit))), failed)

    def _answer(self, key: tuple[str, str], found: tuple[str, str] | None) -> None:
        self.refs[key] = found
        for ask in self.ref_waiters.pop(key, []):
            self._asked_or_record(ask, found)

    def _asked_or_record(self, ask: Ask, found: tuple[str, str] | None) -> None:
        try:
            self._asked(ask, found)
        except TritonLockError as err:
            self.record([(ask.root, ask.owner)], err)

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
        self.tree(
            node.url(),
            commit,
            refname or commit,
            node=node,
            label=f"{ask.name} {ask.ref}",
            owners=[(ask.root, ask.owner)],
        )

    # -- trees ------------------------------------------------------------
    def tree(
        self,
        url: str,
        commit: str,
        want: str,
        *,
        node: Node | None,
        label: str,
        owners: Sequence[Owner],
    ) -> None:
        key = (norm(url), commit)
        self.tree_owners.setdefault(key, []).extend(owners)
        if key in self.tree_keys:
            if key in self.tree_errors:
                self.record(owners, self.tree_errors[key])
            elif node is not None and key in self.trees:
                self._queue(node)
            return
        self.tree_keys.add(key)
        src = fetch_url(url, self.mirrors)
        fut = self.ahead.started(url, src, commit, want)
        cached = None if fut is not None else self.source.cached_tree(url, commit)
        if cached is not None:  # taken in its turn, as if fetched: the same order warm or cold
            self.ahead.submodules(url, cached)
            fut = Future()
            fut.set_result(cached)
        elif fut is None:
            fut = self.ahead.read(url, src, commit, want)
        if cached is None:
            self.progress(f"fetch {label} {commit[:12]}")

        def failed(err: TritonLockError) -> None:
            self.tree_errors[key] = err
            self.record(self.tree_owners[key], err)

        def wrap(err: GitFailed) -> TritonLockError:
            return _tree_fail(label, url, src, commit, want, err.reason)

        def got(tree: object) -> None:
            self._got(key, url, cast(Tree, tree))

        self.waiting.append((fut, got, failed, wrap))

    def _got(self, key: tuple[str, str], url: str, tree: Tree) -> None:
        self.trees[key] = tree
        try:
            subs = links(tree, url)
        except SubmoduleProblem as err:
            problem = SourceError(f"{redact(url)} at {tree.commit[:12]}: {err}")
            self.record(self.tree_owners[key], problem)
            return
        for link in subs:
            self.tree(
                link.url,
                link.commit,
                link.commit,
                node=None,
                label=f"submodule {link.path}",
                owners=self.tree_owners[key],
            )
        node = self.nodes.get(key)
        if node is not None:
            self._queue(node)
        else:
            self._scan_ready()

    def _queue(self, node: Node) -> None:
        if self.follow_cmake and node not in self.pending:
            self.pending.append(node)
        self._scan_ready()

    def _scan_ready(self, final: bool = False) -> bool:
        """Read each waiting node's CMake in every configuration not read yet, once its
        tree and submodule trees have all been read (a submodule's CMake files are part
        of its superproject's build); True when something was read."""
        did = False
        while True:
            work = []
            for node in self.pending:
                todo = [
                    c for c in configurations(node, self.variables, final) if c not in node.scanned
                ]
                files = tree_files(self.trees, node.key, node.url()) if todo else None
                if files is not None:
                    work.append((node, files, todo))
            if not work:
                return did
            for node, files, todo in work:
                for config in todo:
                    node.scanned.add(config)
                    self._cmake(node, files, config)
            did = True

    def _cmake(self, node: Node, files: Mapping[str, str], config: Config) -> None:
        owner = (node.root, f"{node.base_name()}: what its CMake files fetch")
        variables, unknown, inherits = config
        try:
            found = cmake_asks(node, files, {**self.platform, **dict(variables)}, unknown, inherits)
        except TritonLockError as err:
            self.record([owner], err)
            return
        self.calls.extend(found.calls)
        self.held.extend((node, target, held) for target, held in found.held.items())
        self.reached.update((node.key, *r) for r in found.reached)
        for (path, line), what in found.unreached.items():
            self.unreached.setdefault((node.key, path, line), what)
        self._take(node, found)

    def _take(self, node: Node, found: CMakeFound) -> None:
        """Follow what a node's CMake fetches (its problems recorded once)."""
        owner = (node.root, f"{node.base_name()}: what its CMake files fetch")
        found.problems = [p for p in found.problems if (node.key, str(p)) not in self.reported]
        self.reported.update((node.key, str(p)) for p in found.problems)
        for problem in found.problems:
            self.record([owner], problem)
        self.urls.extend(found.urls)
        self.fixed.extend(found.fixed)
        for what in found.skipped:
            self.progress(f"skip {what}")
        for ask in found.asks:
            self.ask(ask)

    def _release(self) -> bool:
        """Follow what each held EXCLUDE_FROM_ALL ExternalProject fetches once a built
        target depends on it (over every tree read so far); True when one was."""
        built = cmake.graph(self.calls, self.roots)
        now = [h for h in self.held if built.is_built(h[1])]
        self.held = [h for h in self.held if not built.is_built(h[1])]
        for node, _target, held in now:
            self._take(node, held.found)
        return bool(now)

    def drain(self) -> None:
        """Take each answer in submission order, so the run (and its errors) is repeatable;
        when all are in, read the top-level repos nothing else configures."""
        while True:
            while self.waiting:
                fut, then, failed, wrap = self.waiting.popleft()
                try:
                    value = fut.result()
                except GitFailed as err:
                    if wrap is None:
                        raise
                    failed(wrap(err))
                    continue
                except TritonLockError as err:
                    failed(err)
                    continue
                then(value)
            if not self._scan_ready(final=True) and not self._release():
                break
        for key, what in self.unreached.items():  # not reached in any configuration
            if key not in self.reached:
                self.progress(f"skip {what}")
        built = cmake.graph(self.calls, self.roots)
        never = {(where, target): None for _n, target, h in self.held for where in h.where}
        for where, target in never:  # each said once, however often it was configured
            self.progress(f"skip {where} ({built.why_not_built(target)})")


def _fail(ask: Ask, src: str, reason: str) -> ResolveError:
    via = f" via mirror {redact(src)}" if src != ask.url else ""
    return ResolveError(
        f"{ask.name}: cannot list {ask.ref!r} of {redact(ask.url)}{via}: {reason}"
        + route_hint(ask.url, src, reason)
    )


_UNREACHABLE = ("host not found", "unreachable", "timed out")


def route_hint(url: str, src: str, reason: str) -> str:
    """For github.com, unreachable and not mirrored: the options that route it elsewhere."""
    if src != url or not url.startswith("https://github.com/"):
        return ""
    if not reason.startswith(_UNREACHABLE):
        return ""
    org = " or --github-organization URL" if url.startswith(f"{GITHUB_ORG}/") else ""
    return f" (route it elsewhere with --git-mirror https://github.com/=MIRROR{org})"


def _where(ask: Ask) -> str:
    return ", ".join(render_origins([ask.origin], {}))


def expanded(ask: Ask, commits: Sequence[str]) -> str:
    """The one commit ``ask.ref`` abbreviates among ``commits``, or a ResolveError."""
    where = _where(ask)
    if len(commits) == 1 and abbreviates(ask.ref, commits[0]):
        return commits[0]
    advice = f"use the full 40-hex commit in {where}"
    if len(commits) > 1:
        some = ", ".join(c[:12] for c in commits[:3]) + (", ..." if len(commits) > 3 else "")
        raise ResolveError(
            f"{ask.name}: the abbreviated commit {ask.ref!r} of {redact(ask.url)} is ambiguous: "
            f"{len(commits)} objects start with it ({some}) (asked in {where}); {advice}"
        )
    raise ResolveError(
        f"{ask.name}: {redact(ask.url)} has no branch or tag {ask.ref!r}, and no commit of "
        f"its branches and tags starts with it (asked in {where}); check the ref, or {advice}"
    )


def _expand_fail(ask: Ask, src: str, reason: str) -> ResolveError:
    via = f" via mirror {redact(src)}" if src != ask.url else ""
    return ResolveError(
        f"{ask.name}: cannot fetch the history of {redact(ask.url)}{via} to expand the "
        f"abbreviated commit {ask.ref!r} (asked in {_where(ask)}): {reason}"
    )


def _tree_fail(label: str, url: str, src: str, commit: str, want: str, reason: str) -> ResolveError:
    via = f" from mirror {redact(src)} (no fallback to another source)" if src != url else ""
    if reason.startswith("moved to "):
        return ResolveError(
            f"{label}: {want} of {redact(url)} moved during the resolve ({commit[:12]} -> "
            f"{reason[9:21]}); run again"
        )
    return ResolveError(
        f"{label}: cannot fetch {commit} of {redact(url)}{via}: {reason}"
        + route_hint(url, src, reason)
    )


def resolve_git(
    requests: Sequence[GitRequest],
    *,
    mirrors: Sequence[tuple[str, str]] = (),
    cache_dir: Path,
    jobs: int = 24,
    variables: Mapping[str, str] | None = None,
    platform: Mapping[str, str] | None = None,
    follow_cmake: bool = True,
    previous: Sequence[GitPin] = (),
    progress: Callable[[str], None] | None = None,
    source: GitSource | None = None,
    timeout: float = 120.0,
    strict: bool = True,
    roots: Sequence[str] = (),
) -> GitResolution:
    """Pin ``requests`` and everything they pull in (see the module docstring).

    ``strict=False`` returns what could be pinned with :attr:`GitResolution.failures`
    instead of raising the first failure (usage errors and conflicts still raise).
    ``platform``: what CMake itself knows of the build machine (``CMAKE_SYSTEM_PROCESSOR``),
    under every configuration's variables. ``roots``: the targets the recipe builds by
    name (``cmake --build . -t NAME``), besides ALL: an ``EXCLUDE_FROM_ALL``
    ExternalProject is followed only when one of these, a target in ALL, or a target
    they depend on needs it (:mod:`tritonlock.upstream.cmake.targets`)."""
    for req in requests:
        check_request(req)
    for prefix, mirror in mirrors:
        parse_mirror(f"{prefix}={mirror}")
    src = source or SubprocessGit(cache_dir, timeout=timeout)
    old = {(norm(p.url), p.ref): p.commit for p in previous}
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="git") as pool:
        run = _Run(
            source=src,
            mirrors=tuple(mirrors),
            variables=dict(variables or {}),
            platform=dict(platform or {}),
            follow_cmake=follow_cmake,
            previous=old,
            progress=progress or (lambda _msg: None),
            pool=pool,
            ahead=_Ahead(src, pool, tuple(mirrors), old),
            strict=strict,
            roots=frozenset(roots),
        )
        try:
            for i, req in enumerate(requests):
                run.ask(
                    Ask.top_level(
                        req.name,
                        req.url,
                        req.ref,
                        req.found_in,
                        root=i,
                        variables=req.variables,
                        unknown=req.unknown,
                    )
                )
            run.drain()
        finally:  # a read looked ahead at that the run did not take is not waited for
            run.ahead.stop()
            for fut, *_ in run.waiting:
                fut.cancel()
    if strict:
        return finish(run.nodes, run.trees, run.urls, fixed=run.fixed)
    kept = complete(run.nodes, run.trees)
    return finish(kept, run.trees, run.urls, run.failures(), fixed=run.fixed)
