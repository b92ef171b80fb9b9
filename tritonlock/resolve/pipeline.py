"""`resolve`: tie the git, upstream, wheel, image, URL and apt resolvers into one lock.

Order: pin the server repo → read release facts and capture upstream's recipe at that
commit → pin every git source (and what CMake fetches) → in parallel: wheels, images,
URL downloads, apt → check the rules → return the lock (the caller writes it atomically).
Each resolver failure is an error, or with ``allow_partial`` an ``[[unresolved]]`` entry.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import ParamSpec, TypeVar

from ..errors import ResolveError, TritonLockError, UsageError
from ..model import Apt, GitPin, ImagePin, Inputs, Lock, Release, UrlPin, environments
from ..sources import urls as urlres
from ..upstream import (
    FloatingInputs,
    buildpy_options,
    check_image_roles,
    read_release_facts,
)
from ..upstream.backends import refusal, unbuildable
from ..upstream.dockercp import ImageCopies
from ..upstream.pybuild import ISOLATED_BUILDS
from ..upstream.recipe import assemble, generate
from ..upstream.steps import files_needed
from ..upstream.targets import TARGETS
from ..util.store import Store
from . import git as gitres
from . import images as imgres
from . import rules
from .aptplan import apt_pins
from .cmakeflags import configures, named_targets
from .context import (
    Ctx,
    Progress,
    ResolveOptions,
    Wheels,
    interruptible_pool,
)
from .cutoff import wheel_cutoff
from .imagecopies import copying_repos, read_copies, with_copies
from .recipecache import keep_recipe, kept_recipe
from .trees import checkout, kept_files, read_files
from .wheelsteps import pin_wheels

T = TypeVar("T")
P = ParamSpec("P")


def _quiet(_message: str) -> None:
    return None


def resolve(
    inputs: Inputs,
    opts: ResolveOptions,
    progress: Progress | None = None,
    notes: Progress | None = None,
) -> Lock:
    """A complete lock for ``inputs`` (or a partial one with ``allow_partial``)."""
    ctx = Ctx(inputs=inputs, opts=opts, say=progress or _quiet, notes=notes or _quiet)
    _unbuildable(ctx)
    server = opts.server or _server_pin(ctx)
    with tempfile.TemporaryDirectory(prefix="tritonlock-") as tmp:
        read = _Reader(ctx, server, Path(tmp) / "server")
        build_py = read.one("build.py", required=True) or ""
        facts = read_release_facts(
            build_py,
            read.one("TRITON_VERSION"),
            read.one("docs/introduction/compatibility.md"),
            upstream_release=inputs.release,
        )
        _say_doubts(ctx, facts)
        check_image_roles(build_py, inputs.images, server.ref or server.commit[:12])
        images_of = facts.get("upstream-container-version")
        options = buildpy_options(inputs, images_of)
        generated = kept_recipe(opts.cache_dir, server.commit, options)
        kept = " (kept from an earlier resolve of this commit)" if generated else ""
        ctx.say("recipe: build.py --dryrun " + " ".join(options) + kept)
        if generated is None:
            tree = read.checkout()
            generated = generate(tree, options, timeout=opts.timeout, commit=server.commit)
            keep_recipe(opts.cache_dir, server.commit, options, generated)
        recipe, floating = assemble(build_py, options, generated)
        lock = Lock(inputs=inputs, release=facts, recipe=recipe)
        flags = configures(generated.get("cmake_build", ""))
        ctx.build_targets = named_targets(generated.get("cmake_build", ""))
        git = _git(ctx, server, floating, flags) if opts.wants("git", "url") else _kept_git(opts)
        texts = _step_files(ctx, floating, read, git.pins) if opts.wants("wheel") else {}
    copies = _copies(ctx, git.pins, flags) if opts.wants("image") else ()
    git = replace(git, pins=_with_server(git.pins, server))
    lock = _rest(ctx, lock, git, floating, texts, copies)
    if opts.kinds is None:
        check_rules(lock)
    return lock


def _unbuildable(ctx: Ctx) -> None:
    """A backend `tritonlock build` cannot build is refused before any network, or with
    ``allow_partial`` listed as unresolved (the lock does not pin what its build needs)."""
    inputs = ctx.inputs
    for name, why in unbuildable(inputs.backends, inputs.release):
        if not ctx.opts.allow_partial:
            line = refusal(name, why, inputs.release, inputs.target)
            raise UsageError(f"{line}; drop it, or pass --allow-partial to lock the rest")
        ctx.unresolve("recipe", f"backend {name}", f"`tritonlock build` cannot build it: {why}")


def _say_doubts(ctx: Ctx, facts: Release) -> None:
    """A release fact upstream got wrong is kept as upstream wrote it, and said."""
    for source in facts.sources:
        if source.note:
            value = facts.get(source.fact)
            ctx.notes(f"release: {source.fact}={value} ({source.source}): {source.note}")


def check_rules(lock: Lock) -> None:
    """The coherence rules (an unresolved entry is not a broken rule)."""
    problems = [p for p in rules.check(lock) if not p.startswith("unresolved[")]
    if problems:
        raise ResolveError(f"the resolved pins break a rule: {problems[0]}")


def _kept_git(opts: ResolveOptions) -> gitres.GitResolution:
    """The previous lock's git pins, when git is not resolved again (update --only)."""
    return gitres.GitResolution(pins=opts.previous.git if opts.previous else ())


def _server_pin(ctx: Ctx) -> GitPin:
    ref = ctx.opts.server_ref or f"r{ctx.inputs.release}"
    ctx.say(f"git: server {ref}")
    result = gitres.resolve_git(
        [gitres.GitRequest(name="server", url=f"{ctx.opts.organization}/server", ref=ref)],
        mirrors=ctx.opts.git_mirrors,
        cache_dir=ctx.opts.cache_dir / "git",
        follow_cmake=False,
        previous=ctx.opts.previous.git if ctx.opts.previous else (),
    )
    return result.pins[0]


def _with_server(pins: Sequence[GitPin], server: GitPin) -> tuple[GitPin, ...]:
    if any(p.name == "server" for p in pins):
        return tuple(pins)
    return (server, *pins)


def _git(
    ctx: Ctx,
    server: GitPin,
    floating: FloatingInputs,
    flags: Mapping[str, Mapping[str, str | None]] | None = None,
) -> gitres.GitResolution:
    """Pin every git input; each repo that ``cmake_build`` configures is read with the
    ``-D`` flags it passes (``flags``: repo name → definitions, None for a value from the
    build's environment)."""
    flags = flags or {}

    def request(
        name: str, url: str, ref: str, found_in: Sequence[str] = ("inputs",)
    ) -> gitres.GitRequest:
        given = flags.get(name)
        if given is None:
            return gitres.GitRequest(name=name, url=url, ref=ref, found_in=tuple(found_in))
        return gitres.GitRequest(
            name=name,
            url=url,
            ref=ref,
            found_in=tuple(found_in),
            variables=tuple(sorted((k, v) for k, v in given.items() if v is not None)),
            unknown=tuple(sorted(k for k, v in given.items() if v is None)),
        )

    ref = server.commit if ctx.opts.server else server.ref  # update --only: stay there
    requests = [request("server", server.url, ref)]
    requests += [request(u.name, u.url, u.ref, u.found_in) for u in floating.git]
    variables = cmake_variables(ctx.opts.organization, server.ref, floating)
    if not ctx.opts.allow_partial:
        return _git_batch(ctx, requests, variables)
    try:
        result = _git_batch(ctx, requests, variables, strict=False)
    except TritonLockError as err:  # a conflict or usage error: probe repo by repo
        return _git_partial(ctx, requests, variables, err)
    for what, why in result.failures:  # the reachable pins are kept; these are not
        ctx.unresolve("git", what, why)
    return replace(result, failures=())


def _git_partial(
    ctx: Ctx,
    requests: Sequence[gitres.GitRequest],
    variables: dict[str, str],
    error: TritonLockError,
) -> gitres.GitResolution:
    """With ``allow_partial``: a repo whose CMake fetches fail is still pinned, without
    them, and "what its CMake files fetch" is unresolved; a repo that fails on its own is
    unresolved by name. The others are resolved together as usual. Each repo is probed
    one request at a time, so the reason recorded is its first failure in CMake order,
    the same on every run (in parallel, whichever failure came first would win)."""
    full: list[gitres.GitRequest] = []
    bare: list[gitres.GitRequest] = []
    for req in requests:
        try:
            _git_batch(ctx, [req], variables, jobs=1)
            full.append(req)
            continue
        except TritonLockError as err:
            why = str(err)
        try:
            _git_batch(ctx, [req], variables, follow_cmake=False, jobs=1)
        except TritonLockError as err:
            ctx.unresolve("git", req.name, str(err))
            continue
        bare.append(req)
        what = f"{req.name}: what its CMake files fetch"
        ctx.unresolve("git", what, why)
    try:
        whole = _git_batch(ctx, full, variables) if full else gitres.GitResolution()
        alone = _git_batch(ctx, bare, variables, follow_cmake=False) if bare else whole
    except TritonLockError as err:
        error = err
    else:
        return _merge(whole, alone)
    ctx.unresolve("git", "git sources", str(error))
    return gitres.GitResolution()


def _merge(whole: gitres.GitResolution, alone: gitres.GitResolution) -> gitres.GitResolution:
    """``whole``'s pins and URL requests, plus ``alone``'s pins of repos it lacks by name."""
    if alone is whole:
        return whole
    names = {p.name for p in whole.pins}
    pins = (*whole.pins, *(p for p in alone.pins if p.name not in names))
    return replace(whole, pins=tuple(sorted(pins, key=GitPin.sort_key)))


def _git_batch(
    ctx: Ctx,
    requests: Sequence[gitres.GitRequest],
    variables: dict[str, str],
    *,
    follow_cmake: bool = True,
    jobs: int | None = None,
    strict: bool = True,
) -> gitres.GitResolution:
    with interruptible_pool(1) as pool:  # the main thread waits interruptibly (Ctrl-C)
        return pool.submit(
            gitres.resolve_git,
            list(requests),
            mirrors=ctx.opts.git_mirrors,
            cache_dir=ctx.opts.cache_dir / "git",
            jobs=jobs or ctx.opts.jobs,
            variables=variables,
            platform=cmake_platform(ctx.inputs.target),
            follow_cmake=follow_cmake,
            previous=ctx.opts.previous.git if ctx.opts.previous else (),
            progress=ctx.say,
            strict=strict,
            roots=ctx.build_targets,
        ).result()


COMPONENTS = ("common", "core", "backend", "third_party")


def cmake_variables(organization: str, ref: str, floating: FloatingInputs) -> dict[str, str]:
    """The variables upstream's cmake_build passes (organization, ``TRITON_*_REPO_TAG``)."""
    refs = {u.name: u.ref for u in floating.git}
    variables = {"TRITON_REPO_ORGANIZATION": organization}
    for name in COMPONENTS:
        variables[f"TRITON_{name.upper()}_REPO_TAG"] = refs.get(name, ref)
    return variables


def cmake_platform(target: str) -> dict[str, str]:
    """What CMake knows of the build machine for ``target`` (it builds natively)."""
    machine = TARGETS[target].machine
    return {"CMAKE_SYSTEM_PROCESSOR": machine, "CMAKE_HOST_SYSTEM_PROCESSOR": machine}


def _copies(
    ctx: Ctx, pins: Sequence[GitPin], flags: Mapping[str, Mapping[str, str | None]]
) -> tuple[ImageCopies, ...]:
    """What the pinned CMake copies out of images (pytorch_backend's libtorch), or, with
    ``allow_partial``, nothing and an ``[[unresolved]]`` entry saying why."""
    try:
        return read_copies(
            pins,
            flags,
            ctx.inputs.target,
            cache_dir=ctx.opts.cache_dir / "git",
            mirrors=ctx.opts.git_mirrors,
        )
    except TritonLockError as err:
        if not ctx.opts.allow_partial:
            raise
        repos = ", ".join(copying_repos(flags))
        ctx.unresolve("image", f"what {repos} copies out of its image", str(err))
        return ()


def _step_files(
    ctx: Ctx, floating: FloatingInputs, read: _Reader, pins: Sequence[GitPin]
) -> dict[str, str]:
    """Texts of the files the pip plan reads (requirements files, in-tree wheels' metadata)."""
    texts: dict[str, str] = {}
    names = {p.name for p in pins}
    builds = [k for b in ISOLATED_BUILDS if b.repo in names for k in b.files()]
    if builds:  # what the compile builds with isolation (its [build-system] requires)
        texts.update(read.files(builds, pins))
    asked: set[str] = set()
    while True:
        wanted = [k for k in files_needed(floating.pip, texts) if k not in asked]
        if not wanted:
            return texts
        asked.update(wanted)
        texts.update(read.files(wanted, pins))


class _Reader:
    """Files of the pinned server commit and of other pins: from the server's checkout once
    it is made (only to run build.py), else from the cache of files by commit, else fetched
    alone (a sparse, blob-less fetch)."""

    def __init__(self, ctx: Ctx, server: GitPin, where: Path) -> None:
        self.server, self.where = server, where
        self.mirrors = ctx.opts.git_mirrors
        self.cache = ctx.opts.cache_dir / "git" / "files"
        self.tree: Path | None = None

    def checkout(self) -> Path:
        if self.tree is None:
            checkout(self.server.url, self.server.commit, self.where, self.mirrors)
            self.tree = self.where
        return self.tree

    def files(self, keys: Sequence[str], pins: Sequence[GitPin] = ()) -> dict[str, str]:
        """A server file the cache lacks is read from the checkout (made now: it is needed
        to run build.py anyway), not fetched alone."""
        ours = [k.partition(":")[2] for k in keys if k.startswith("server:")]
        missing = self.tree is None and ours
        if missing and len(kept_files(self.cache, self.server.commit, ours)) < len(ours):
            self.checkout()
        server = replace(self.server, name="server")
        return read_files(keys, self.tree, [server, *pins], self.mirrors, self.cache)

    def one(self, path: str, *, required: bool = False) -> str | None:
        text = self.files([f"server:{path}"]).get(f"server:{path}")
        if text is None and required:
            raise ResolveError(f"{path}: missing at the pinned server commit")
        return text


def _rest(
    ctx: Ctx,
    lock: Lock,
    git: gitres.GitResolution,
    floating: FloatingInputs,
    texts: dict[str, str],
    copies: Sequence[ImageCopies] = (),
) -> Lock:
    target = TARGETS[ctx.inputs.target]
    platform, machine, arch = target.oci_platform, target.machine, target.deb_arch
    committed = next((p.committed for p in git.pins if p.name == "server"), None)
    url_reqs = [(u.url, f) for u in floating.urls if _plain_url(u.url) for f in u.found_in or ("",)]
    url_reqs += list(git.url_requests)
    wants = ctx.opts.wants
    if wants("wheel"):  # the time the indexes are read as of, recorded with the inputs
        cutoff = wheel_cutoff(ctx.opts.exclude_newer, committed)
        lock = replace(lock, inputs=replace(lock.inputs, exclude_newer=cutoff))
    empty_wheels: Wheels = ((), ())
    no_images: tuple[ImagePin, ...] = ()
    no_urls: UrlResult = ((), ())
    no_apt: Apt | None = None
    with interruptible_pool(4) as pool:
        wheel_f = _maybe(
            pool, wants("wheel"), empty_wheels, pin_wheels, ctx, lock, floating, texts, machine
        )
        image_f = _maybe(pool, wants("image"), no_images, _images, ctx, floating, platform)
        url_f = _maybe(pool, wants("url"), no_urls, _urls, ctx, url_reqs, git.fixed)
        apt_f = _maybe(pool, wants("apt"), no_apt, apt_pins, ctx, floating, arch, committed)
        wheels, indexes = ctx.take(wheel_f, "wheel", "python requirements", empty_wheels)
        images = ctx.take(image_f, "image", "base images", no_images)
        urls, url_failures = ctx.take(url_f, "url", "downloads", no_urls)
        for url, err in url_failures:  # each URL that failed, by itself (in URL order)
            ctx.unresolve("url", url, str(err))
        apt = ctx.take(apt_f, "apt", "apt packages", None)
    return replace(
        lock,
        git=tuple(git.pins),
        wheel=wheels,
        environment=environments(wheels),
        index=indexes,
        image=with_copies(images, copies),
        url=urls,
        apt=apt,
        unresolved=tuple(ctx.unresolved),
    )


UrlResult = tuple[tuple[UrlPin, ...], tuple[tuple[str, TritonLockError], ...]]


def _urls(
    ctx: Ctx, requests: Sequence[tuple[str, str]], fixed: Sequence[tuple[str, str, str]]
) -> UrlResult:
    """Every download, and each URL that failed (only with ``allow_partial``: else the
    first failure is raised)."""
    pins, failures = urlres.resolve_urls_partial(
        requests,
        allow_http=ctx.opts.allow_http,
        mirrors=ctx.opts.url_mirrors,
        jobs=ctx.opts.jobs,
        progress=ctx.say,
        fixed=fixed,
        cache=ctx.opts.cache_dir / "urls",
        store=Store(ctx.opts.cache_dir),
    )
    if failures and not ctx.opts.allow_partial:
        raise failures[0][1]
    return pins, failures


def _maybe(
    pool: ThreadPoolExecutor,
    wanted: bool,
    empty: T,
    fn: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> Future[T]:
    """``fn`` run in ``pool``, or, when not wanted (update --only), ``empty`` at once."""
    if wanted:
        return pool.submit(fn, *args, **kwargs)
    done: Future[T] = Future()
    done.set_result(empty)
    return done


def _plain_url(url: str) -> bool:
    """URLs held in shell variables (``$NVPL_SLIM_URL``) are secrets, not pins."""
    return "$" not in url and url.startswith(("https://", "http://"))


def wanted_images(floating: FloatingInputs, overrides: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Role -> ref of every image the recipe uses, ``--image`` overrides applied. A role that
    would stand for two images is an error: one of them would silently leave the lock."""
    wanted: dict[str, str] = {}
    where: dict[str, tuple[str, ...]] = {}
    for use in floating.images:
        if use.role in wanted and wanted[use.role] != use.ref:
            raise ResolveError(
                f"recipe: image role {use.role!r} names two images, {wanted[use.role]} "
                f"({', '.join(where[use.role])}) and {use.ref} ({', '.join(use.found_in)})"
            )
        wanted[use.role] = use.ref
        where[use.role] = use.found_in
    wanted.update(dict(overrides))
    return wanted


def _images(ctx: Ctx, floating: FloatingInputs, platform: str) -> tuple[ImagePin, ...]:
    wanted = wanted_images(floating, ctx.inputs.images)
    result = imgres.resolve_images(
        [imgres.ImageRequest(role=r, ref=ref) for r, ref in sorted(wanted.items())],
        platform=platform,
        mirrors=ctx.opts.registry_mirrors,
        previous=ctx.opts.previous.image if ctx.opts.previous else (),
        insecure_registries=ctx.opts.insecure_registries,
        ca_file=ctx.opts.ca_file,
        progress=ctx.say,
    )
    for note in result.notes:
        ctx.notes(f"image: {note}")
    return result.pins
