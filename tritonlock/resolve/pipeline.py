"""`resolve`: tie the git, upstream, wheel, image, URL and apt resolvers into one lock.

Order: pin the server repo → read release facts and capture upstream's recipe at that
commit → pin every git source (and what CMake fetches) → in parallel: wheels, images,
URL downloads, apt → check the rules → return the lock (the caller writes it atomically).
Each resolver failure is an error, or with ``allow_partial`` an ``[[unresolved]]`` entry.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from .. import rules
from ..errors import ResolveError, TritonLockError, Unreachable
from ..model import Apt, GitPin, ImagePin, Index, Inputs, Lock, Unresolved, UrlPin, WheelPin
from ..upstream import FloatingInputs, buildpy_options, capture_recipe, read_release_facts
from ..upstream.steps import files_needed, plan_pip_steps
from . import apt as aptres
from . import git as gitres
from . import images as imgres
from . import urls as urlres
from . import wheels as whlres
from .trees import checkout, read_files

GITHUB_ORG = "https://github.com/triton-inference-server"
# target → (image platform, machine, dpkg architecture)
TARGETS = {
    "x86_64": ("linux/amd64", "x86_64", "amd64"),
    "sbsa": ("linux/arm64/v8", "aarch64", "arm64"),
    "igpu": ("linux/arm64/v8", "aarch64", "arm64"),
    "cpu": ("linux/amd64", "x86_64", "amd64"),
}
UBUNTU_SNAPSHOTS = "https://snapshot.ubuntu.com"

Progress = Callable[[str], None]
T = TypeVar("T")
Wheels = tuple[tuple[WheelPin, ...], tuple[Index, ...]]


def _quiet(_message: str) -> None:
    return None


@contextlib.contextmanager
def _pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that, when the caller fails (Ctrl-C, an error), stops waiting for
    work still under way (a hung registry) instead of joining it."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveOptions:
    """Everything `resolve` needs besides the inputs; none of it is recorded in the lock."""

    organization: str = GITHUB_ORG
    server_ref: str | None = None
    git_mirrors: tuple[tuple[str, str], ...] = ()
    registry_mirrors: tuple[tuple[str, str], ...] = ()
    url_mirrors: tuple[tuple[str, str], ...] = ()
    indexes: tuple[whlres.IndexSpec, ...] = (
        whlres.IndexSpec(name="pypi", url="https://pypi.org/simple"),
    )
    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    allow_partial: bool = False
    allow_sdist: bool = False
    allow_http: bool = False
    insecure_registries: tuple[str, ...] = ()
    ca_file: Path | None = None
    apt_snapshot: str | None = None
    apt_base: str = UBUNTU_SNAPSHOTS
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "tritonlock")
    jobs: int = 8
    timeout: float = 120.0
    previous: Lock | None = None
    # `update --only`: the server stays at this pin (its recipe decides every other input),
    # only these kinds are resolved (the others are left empty for the caller to merge),
    # and these wheels are held at their versions, as constraints of their own step.
    server: GitPin | None = None
    kinds: frozenset[str] | None = None
    hold: tuple[WheelPin, ...] = ()

    def wants(self, *kinds: str) -> bool:
        return self.kinds is None or any(k in self.kinds for k in kinds)


@dataclass
class _Ctx:
    inputs: Inputs
    opts: ResolveOptions
    say: Progress
    notes: Progress
    unresolved: list[Unresolved] = field(default_factory=list)

    def take(self, fut: Future[T], kind: str, what: str, empty: T) -> T:
        try:
            return fut.result()
        except TritonLockError as err:
            if not self.opts.allow_partial:
                raise
            self.unresolve(kind, what, str(err))
            return empty

    def unresolve(self, kind: str, what: str, why: str) -> None:
        """Record an ``[[unresolved]]`` entry; mirror locations never reach the lock."""
        text = why
        for prefix, target in self.mirrors():
            text = text.replace(target, f"<mirror of {prefix}>")
        self.unresolved.append(Unresolved(kind=kind, what=what, why=_one_line(text)))
        self.say(f"unresolved: {kind} {what}")

    def mirrors(self) -> list[tuple[str, str]]:
        """Every (what, where) pair of this run's mirrors, longest location first."""
        o = self.opts
        pairs = [*o.git_mirrors, *o.url_mirrors, *o.registry_mirrors]
        if o.apt_base != UBUNTU_SNAPSHOTS:
            pairs.append((UBUNTU_SNAPSHOTS, o.apt_base))
        return sorted(pairs, key=lambda p: -len(p[1]))


def resolve(
    inputs: Inputs,
    opts: ResolveOptions,
    progress: Progress | None = None,
    notes: Progress | None = None,
) -> Lock:
    """A complete lock for ``inputs`` (or a partial one with ``allow_partial``)."""
    ctx = _Ctx(inputs=inputs, opts=opts, say=progress or _quiet, notes=notes or _quiet)
    server = opts.server or _server_pin(ctx)
    with tempfile.TemporaryDirectory(prefix="tritonlock-") as tmp:
        tree = Path(tmp) / "server"
        checkout(server.url, server.commit, tree, opts.git_mirrors)
        facts = read_release_facts(
            _read(tree / "build.py"),
            _read_opt(tree / "TRITON_VERSION"),
            _read_opt(tree / "docs" / "introduction" / "compatibility.md"),
            upstream_release=inputs.release,
        )
        ctx.say("recipe: build.py --dryrun " + " ".join(buildpy_options(inputs)))
        recipe, floating, _generated = capture_recipe(
            tree, inputs, timeout=opts.timeout, commit=server.commit
        )
        lock = Lock(inputs=inputs, release=facts, recipe=recipe)
        git = _git(ctx, server, floating) if opts.wants("git", "url") else _kept_git(opts)
        texts = _step_files(ctx, floating, tree, git.pins) if opts.wants("wheel") else {}
    lock = _rest(ctx, lock, replace(git, pins=_with_server(git.pins, server)), floating, texts)
    if opts.kinds is None:
        check_rules(lock)
    return lock


def check_rules(lock: Lock) -> None:
    """The coherence rules (an unresolved entry is not a broken rule)."""
    problems = [p for p in rules.check(lock) if not p.startswith("unresolved[")]
    if problems:
        raise ResolveError(f"the resolved pins break a rule: {problems[0]}")


def _kept_git(opts: ResolveOptions) -> gitres.GitResolution:
    """The previous lock's git pins, when git is not resolved again (update --only)."""
    return gitres.GitResolution(pins=opts.previous.git if opts.previous else ())


def _server_pin(ctx: _Ctx) -> GitPin:
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


def _git(ctx: _Ctx, server: GitPin, floating: FloatingInputs) -> gitres.GitResolution:
    ref = server.commit if ctx.opts.server else server.ref  # update --only: stay there
    requests = [gitres.GitRequest(name="server", url=server.url, ref=ref)]
    requests += [
        gitres.GitRequest(name=u.name, url=u.url, ref=u.ref, found_in=u.found_in)
        for u in floating.git
    ]
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
    ctx: _Ctx,
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
    ctx: _Ctx,
    requests: Sequence[gitres.GitRequest],
    variables: dict[str, str],
    *,
    follow_cmake: bool = True,
    jobs: int | None = None,
    strict: bool = True,
) -> gitres.GitResolution:
    with _pool(1) as pool:  # the main thread waits interruptibly (Ctrl-C)
        return pool.submit(
            gitres.resolve_git,
            list(requests),
            mirrors=ctx.opts.git_mirrors,
            cache_dir=ctx.opts.cache_dir / "git",
            jobs=jobs or ctx.opts.jobs,
            variables=variables,
            follow_cmake=follow_cmake,
            previous=ctx.opts.previous.git if ctx.opts.previous else (),
            progress=ctx.say,
            strict=strict,
        ).result()


COMPONENTS = ("common", "core", "backend", "third_party")


def cmake_variables(organization: str, ref: str, floating: FloatingInputs) -> dict[str, str]:
    """The variables upstream's cmake_build passes (organization, ``TRITON_*_REPO_TAG``)."""
    refs = {u.name: u.ref for u in floating.git}
    variables = {"TRITON_REPO_ORGANIZATION": organization}
    for name in COMPONENTS:
        variables[f"TRITON_{name.upper()}_REPO_TAG"] = refs.get(name, ref)
    return variables


def _step_files(
    ctx: _Ctx, floating: FloatingInputs, server_tree: Path, pins: Sequence[GitPin]
) -> dict[str, str]:
    """Texts of the files the pip plan reads (requirements files, in-tree wheels' metadata)."""
    texts: dict[str, str] = {}
    asked: set[str] = set()
    while True:
        wanted = [k for k in files_needed(floating.pip, texts) if k not in asked]
        if not wanted:
            return texts
        asked.update(wanted)
        texts.update(read_files(wanted, server_tree, pins, ctx.opts.git_mirrors))


def _rest(
    ctx: _Ctx,
    lock: Lock,
    git: gitres.GitResolution,
    floating: FloatingInputs,
    texts: dict[str, str],
) -> Lock:
    platform, machine, arch = TARGETS[ctx.inputs.target]
    committed = next((p.committed for p in git.pins if p.name == "server"), None)
    url_reqs = [(u.url, f) for u in floating.urls if _plain_url(u.url) for f in u.found_in or ("",)]
    url_reqs += list(git.url_requests)
    wants = ctx.opts.wants
    empty_wheels: Wheels = ((), ())
    no_images: tuple[ImagePin, ...] = ()
    no_urls: tuple[UrlPin, ...] = ()
    no_apt: Apt | None = None
    with _pool(4) as pool:
        wheel_f = _maybe(
            pool, wants("wheel"), empty_wheels, _wheels, ctx, lock, floating, texts, machine
        )
        image_f = _maybe(pool, wants("image"), no_images, _images, ctx, floating, platform)
        url_f = _maybe(
            pool,
            wants("url"),
            no_urls,
            urlres.resolve_urls,
            url_reqs,
            allow_http=ctx.opts.allow_http,
            mirrors=ctx.opts.url_mirrors,
            jobs=ctx.opts.jobs,
            progress=ctx.say,
        )
        apt_f = _maybe(pool, wants("apt"), no_apt, _apt, ctx, floating, arch, committed)
        wheels, indexes = ctx.take(wheel_f, "wheel", "python requirements", empty_wheels)
        images = ctx.take(image_f, "image", "base images", no_images)
        urls = ctx.take(url_f, "url", "downloads", no_urls)
        apt = ctx.take(apt_f, "apt", "apt packages", None)
    return replace(
        lock,
        git=tuple(git.pins),
        wheel=wheels,
        index=indexes,
        image=images,
        url=urls,
        apt=apt,
        unresolved=tuple(ctx.unresolved),
    )


def _maybe(
    pool: ThreadPoolExecutor,
    wanted: bool,
    empty: T,
    fn: Callable[..., T],
    *args: Any,
    **kwargs: Any,
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


def _wheels(
    ctx: _Ctx, lock: Lock, floating: FloatingInputs, texts: dict[str, str], machine: str
) -> tuple[tuple[WheelPin, ...], tuple[Index, ...]]:
    plan = plan_pip_steps(floating.pip, files=texts, public_vllm=True, machine=machine)
    for what, why in plan.skipped:
        ctx.notes(f"pip: not resolved: {what}: {why}")
    steps = [
        whlres.InstallStep(
            name=s.name,
            image=_built_image(s.image, s.found_in),
            requirements=s.requirements,
            constraints=(*s.constraints, *ctx.opts.constraints, *_held(ctx.opts.hold, s.name)),
        )
        for s in plan.steps
    ]
    if ctx.opts.requirements:
        steps.append(
            whlres.InstallStep(
                name="user",
                image="base",
                requirements=ctx.opts.requirements,
                constraints=(*ctx.opts.constraints, *_held(ctx.opts.hold, "user")),
            )
        )
    python = ".".join((lock.release.get("python") or "3.12").split(".")[:2])

    def pin(some: Sequence[whlres.InstallStep]) -> Wheels:
        return whlres.resolve_wheels(
            some,
            python_version=python,
            machine=machine,
            indexes=ctx.opts.indexes,
            allow_sdist=ctx.opts.allow_sdist,
            cache_dir=ctx.opts.cache_dir / "wheels",
            jobs=ctx.opts.jobs,
            progress=ctx.say,
            glibc=_glibc(ctx.inputs.release),
        )

    return wheel_steps(ctx, steps, pin)


def _held(hold: Sequence[WheelPin], step: str) -> tuple[str, ...]:
    """``name==version`` of each held wheel of ``step``."""
    return tuple(f"{w.name}=={w.version}" for w in hold if w.step == step)


def wheel_steps(
    ctx: _Ctx,
    steps: Sequence[whlres.InstallStep],
    pin: Callable[[Sequence[whlres.InstallStep]], Wheels],
) -> Wheels:
    """All steps pinned. With ``allow_partial``: the first step that does not resolve and
    the later steps of its image (which build on it) are unresolved by name; the steps
    before it, and the later steps of other images, are still pinned when they resolve."""
    try:
        return pin(steps)
    except TritonLockError as err:
        if not ctx.opts.allow_partial:
            raise
        error = err
    if isinstance(error, Unreachable):  # an index is down: no prefix would fare better
        ctx.unresolve("wheel", _steps_what([s.name for s in steps]), str(error))
        return ((), ())
    first = len(steps) - 1
    while first > 0:  # the longest prefix that resolves ends before the failing step
        try:
            wheels = pin(steps[:first])
            break
        except TritonLockError as err:
            error, first = err, first - 1
    else:
        wheels = ((), ())
    failed = steps[first].image
    others = [s for s in steps[first + 1 :] if s.image != failed]
    if others:
        with contextlib.suppress(TritonLockError):
            wheels = pin([*steps[:first], *others])
    pinned = {p.step for p in wheels[0]} | {s.name for s in steps[:first]}
    if not pinned:
        raise error
    dropped = [s.name for s in steps if s.name not in pinned]
    ctx.unresolve("wheel", _steps_what(dropped), str(error))
    return wheels


def _steps_what(names: Sequence[str]) -> str:
    return f"python requirements of step{'s' if len(names) > 1 else ''} {', '.join(names)}"


def _built_image(role: str, found_in: Sequence[str]) -> str:
    """Steps of Dockerfile.buildbase install into the build image, not the final one."""
    files = {f.split(":", 1)[0] for f in found_in}
    return "buildbase" if files == {"Dockerfile.buildbase"} else role


def _glibc(release: str) -> tuple[int, int]:
    """Base images moved from Ubuntu 22.04 (glibc 2.35) to 24.04 (glibc 2.39) at 24.11."""
    return (2, 39) if release >= "24.11" else (2, 35)


def _images(ctx: _Ctx, floating: FloatingInputs, platform: str) -> tuple[ImagePin, ...]:
    wanted = {use.role: use.ref for use in floating.images}
    wanted.update(dict(ctx.inputs.images))
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


def _apt(ctx: _Ctx, floating: FloatingInputs, arch: str, committed: int | None) -> Apt | None:
    """Apt pins read from a dated snapshot: the one asked for, else the server commit's."""
    if not floating.apt:
        return None
    snapshot = ctx.opts.apt_snapshot or _snapshot_for(committed)
    return aptres.resolve_apt(
        apt_requests(floating),
        arch=arch,
        base=apt_base(ctx.opts.apt_base, arch=arch, release=ctx.inputs.release, snapshot=snapshot),
        snapshot=snapshot,
        mirrors=ctx.opts.url_mirrors,
        jobs=ctx.opts.jobs,
        progress=ctx.say,
    )


def apt_requests(floating: FloatingInputs) -> list[aptres.AptRequest]:
    """The recipe's apt-get/apt installs as resolver requests (also read by `verify --deep`)."""
    return [
        aptres.AptRequest(step=a.step, packages=a.packages, repositories=a.repositories)
        for a in floating.apt
        if a.manager == "apt-get" or a.manager == "apt"
    ]


def apt_base(root: str, *, arch: str, release: str, snapshot: str) -> aptres.AptSource:
    """The dated Ubuntu archive a release's apt packages are read from, under ``root``."""
    return aptres.AptSource(url=_archive(root, arch, snapshot), suites=_suites(release))


def _archive(root: str, arch: str, snapshot: str) -> str:
    """Ubuntu keeps amd64 in ``ubuntu`` and arm64 in ``ubuntu-ports``, each snapshotted."""
    return f"{root}/{'ubuntu' if arch == 'amd64' else 'ubuntu-ports'}/{snapshot}"


def _suites(release: str) -> tuple[str, ...]:
    """Ubuntu 24.04 (noble) from 24.11 on, 22.04 (jammy) before."""
    codename = "noble" if release >= "24.11" else "jammy"
    return (codename, f"{codename}-updates", f"{codename}-security")


def _snapshot_for(committed: int | None) -> str:
    """The archive as it was when the server commit was made (UTC, to the second)."""
    if committed is None:
        raise ResolveError("apt: no server commit time to date the snapshot; pass --apt-snapshot")
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(committed))


WHY_LIMIT = 480  # the schema allows 500 characters for an unresolved entry's reason
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _one_line(text: str) -> str:
    """``text`` on one line, without control characters (the schema refuses them), cut
    visibly (``…``) to at most ``WHY_LIMIT`` characters."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > WHY_LIMIT:
        return text[: WHY_LIMIT - 1].rstrip() + "\u2026"
    return text or "unknown error"


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as err:
        raise ResolveError(
            f"{path.name}: missing at the pinned server commit ({err.strerror})"
        ) from None


def _read_opt(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except OSError:
        return None
