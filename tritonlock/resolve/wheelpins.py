"""The pins of install steps: each step's requested projects checked against the index
while uv resolves it, then every pinned release's files for the target with their sha256
and size, the final environment of each image, and the coherence rules (see
:mod:`tritonlock.resolve.wheels`, which starts the first uv runs before loading this)."""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .. import __version__
from ..errors import ResolveError, SourceError, TritonLockError
from ..model import Index, Inputs, Lock, Sha256, WheelFile, WheelPin, environments
from ..sources.pyindex import IndexClient, IndexFile, split_credentials
from ..util.redact import credential_free
from ..util.store import Store
from . import rules
from .cutoff import dated
from .pytarget import Matcher, Target, file_version, is_sdist, marker_env
from .stepcache import StepCache
from .uvcompile import Pinned, UvCompile
from .wheels import IndexSpec, InstallStep, parse_requirements, step_key, uv_indexes

_URL_RE = re.compile(
    r"^(https|http|file)://[A-Za-z0-9._~%+-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+=,-]+)*/?"
    r"(\?[A-Za-z0-9._~%+=,/-]+)?\Z"
)


def pin_steps(
    steps: Sequence[InstallStep],
    *,
    target: Target,
    indexes: Sequence[IndexSpec],
    allow_sdist: bool,
    cache_dir: Path,
    jobs: int,
    say: Callable[[str], None],
    exclude_newer: str | None,
    store: Store | None,
    kept: StepCache,
    started: dict[str, UvCompile],
) -> tuple[tuple[WheelPin, ...], tuple[Index, ...]]:
    """:func:`tritonlock.resolve.wheels.resolve_wheels` once its input is checked;
    ``started``: uv runs already going, by step (those taken are removed)."""
    world = _Indexes(
        indexes, cache_dir=cache_dir, jobs=jobs, exclude_newer=exclude_newer, store=store
    )
    try:
        images = _ImageSteps(target, world, allow_sdist, cache_dir, kept, say, started)
        pins = images.run_all(steps)
    finally:
        world.close()
    _check_rules(pins, [world.record(s) for s in indexes])
    return tuple(pins), tuple(world.record(s) for s in indexes)


class _ImageSteps:
    """The install steps of each image in order (each builds on what the earlier ones
    installed), the images side by side; a step whose inputs are unchanged since the last
    resolve (with a fixed ``exclude-newer``) is taken from :class:`StepCache`."""

    def __init__(
        self,
        target: Target,
        world: _Indexes,
        allow_sdist: bool,
        cache_dir: Path,
        kept: StepCache,
        say: Callable[[str], None],
        started: dict[str, UvCompile],
    ) -> None:
        self.target, self.world, self.allow_sdist = target, world, allow_sdist
        self.cache_dir, self.kept, self.say = cache_dir, kept, say
        self.started = started  # uv runs started before this module was loaded, by step

    def run_all(self, steps: Sequence[InstallStep]) -> list[WheelPin]:
        """Every step's pins, in step order. A failure raised is the one of the first step
        (in ``steps`` order) that failed; an image's environment check comes after them."""
        groups: dict[str, list[tuple[int, InstallStep]]] = {}
        for i, step in enumerate(steps):
            groups.setdefault(step.image, []).append((i, step))
        with ThreadPoolExecutor(max(1, min(len(groups), self.world.jobs))) as pool:
            futures = [pool.submit(self.one_image, image, g) for image, g in groups.items()]
            done = [f.result() for f in futures]
        failed = [(at, i, err) for i, (_, at, err) in enumerate(done) if err is not None]
        if failed:
            raise min(failed, key=lambda f: f[:2])[2]
        by_step = {i: pins for found, _, _ in done for i, pins in found.items()}
        return [p for i in range(len(steps)) for p in by_step[i]]

    def one_image(self, image: str, steps: Sequence[tuple[int, InstallStep]]) -> _ImageResult:
        """The pins of each step of ``image`` by its place in the steps, or where it failed
        (a step's place; after every step for the environment check) and why."""
        found: dict[int, list[WheelPin]] = {}
        have: dict[str, WheelPin] = {}  # name → pin installed last
        for i, step in steps:
            try:
                mine = self.step(step, list(have.values()))
            except TritonLockError as err:
                return found, i, err
            found[i] = mine
            have.update((p.name, p) for p in mine)
        if len({p.step for p in have.values()}) > 1:
            try:
                self.environment(image, have)
            except TritonLockError as err:
                return found, _AFTER_EVERY_STEP, err
        return found, _AFTER_EVERY_STEP, None

    def step(self, step: InstallStep, earlier: list[WheelPin]) -> list[WheelPin]:
        key = step_key(self.kept, step, earlier)
        mine = self.kept.pins(key)
        if mine is not None:
            self.say(f"step {step.name}: inputs unchanged since the last resolve, pins kept")
            return mine
        self.say(f"step {step.name}: resolving for {self.target.describe()}")
        compiling = self.started.pop(step.name, None)
        mine = _resolve_step(
            step, earlier, self.target, self.world, self.allow_sdist, self.cache_dir, compiling
        )
        self.kept.keep(key, mine)
        return mine

    def environment(self, image: str, env: dict[str, WheelPin]) -> None:
        key = self.kept.key("environment", image, sorted(env.values(), key=lambda p: p.name))
        if self.kept.pins(key) is not None:  # checked before, with the same packages
            return
        self.say(f"image {image}: checking the final environment")
        _check_environment(image, env, self.target, self.world, self.allow_sdist, self.cache_dir)
        self.kept.keep(key, [])


# An image's steps: pins by step place, and the place and error it failed at (if it did).
_ImageResult = tuple[dict[int, list[WheelPin]], int, TritonLockError | None]
_AFTER_EVERY_STEP = 1 << 30


class _Indexes:
    """The indexes in uv's priority order (extra indexes first), with memoised listings
    (only files uploaded before ``exclude_newer``, when given)."""

    def __init__(
        self,
        specs: Sequence[IndexSpec],
        *,
        cache_dir: Path,
        jobs: int,
        exclude_newer: str | None = None,
        store: Store | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        ordered = [s for s in specs if s.extra] + [s for s in specs if not s.extra]
        self.specs = ordered
        self.exclude_newer = exclude_newer
        self.jobs = max(jobs, 1)
        self.uv = uv_indexes(specs, exclude_newer, jobs)
        self.beside_uv = max(1, self.jobs - self.uv.jobs)  # see uv_indexes
        self._cache_dir, self._store = cache_dir, store
        self._http, self._own = http, http is None  # a client given is the caller's to close
        self._clients: list[IndexClient] = []
        self._opening = threading.Lock()
        self._memo: dict[str, tuple[IndexClient, list[IndexFile]] | None] = {}
        self._pages: dict[tuple[str, str], list[IndexFile] | None] = {}

    @property
    def clients(self) -> list[IndexClient]:
        """A client per index, made on first use: loading the CA store for TLS takes about
        20 ms, which then passes while uv already runs."""
        with self._opening:
            if not self._clients:
                http = self._http = self._http or self._client()
                self._clients = [
                    IndexClient(
                        s.name, s.url, cache_dir=self._cache_dir, http=http, store=self._store
                    )
                    for s in self.specs
                ]
            return self._clients

    def _client(self) -> httpx.Client:
        return httpx.Client(
            timeout=httpx.Timeout(60.0, connect=15.0),
            follow_redirects=True,
            verify=ssl.create_default_context(),  # the system CA store (and SSL_CERT_FILE)
            headers={"User-Agent": f"tritonlock/{__version__}"},
            limits=httpx.Limits(max_connections=self.jobs * 2),
        )

    def close(self) -> None:
        if self._http is not None and self._own:
            self._http.close()

    def record(self, spec: IndexSpec) -> Index:
        clean, auth = split_credentials(spec.recorded or spec.url)
        keep = auth is None and _URL_RE.match(clean) is not None and credential_free(clean)
        return Index(name=spec.name, url=clean if keep else None)

    def where(self) -> str:
        return ", ".join(c.where() for c in self.clients)

    def prefetch(self, names: Iterable[str], workers: int | None = None) -> None:
        todo = sorted({canonicalize_name(n) for n in names} - self._memo.keys())
        with ThreadPoolExecutor(workers or self.jobs) as pool:
            for name, found in zip(todo, pool.map(self._lookup, todo), strict=True):
                self._memo[name] = found

    def _page(self, client: IndexClient, name: str) -> list[IndexFile] | None:
        key = (client.name, name)
        if key not in self._pages:
            where = f"{client.where()}, project {name!r},"
            self._pages[key] = dated(client.project(name), self.exclude_newer, where)
        return self._pages[key]

    def _lookup(self, name: str) -> tuple[IndexClient, list[IndexFile]] | None:
        for client in self.clients:  # uv's default "first-index" strategy
            files = self._page(client, name)
            if files is not None:
                return client, files
        return None

    def find(self, name: str, source: str | None = None) -> tuple[IndexClient, list[IndexFile]]:
        """Where ``name`` comes from: the index uv named (``source``), else the first having it."""
        name = canonicalize_name(name)
        for client in self.clients:
            if source is not None and client.url.rstrip("/") == source.rstrip("/"):
                files = self._page(client, name)
                if files is not None:
                    return client, files
        if name not in self._memo:
            self.prefetch([name])
        found = self._memo[name]
        if found is None:
            raise ResolveError(f"package {name!r} is not on {self.where()}; check its name")
        return found


def _resolve_step(
    step: InstallStep,
    earlier: list[WheelPin],
    target: Target,
    world: _Indexes,
    allow_sdist: bool,
    cache_dir: Path,
    compiling: UvCompile | None = None,
) -> list[WheelPin]:
    """uv resolves the step (``compiling``: already started for it) while the requested
    projects' pages are read and checked (an unknown package, a missing version or no file
    for the target fails in words, and ends uv); then each pinned release's page is read and
    its files pinned, side by side."""
    wanted = parse_requirements(step)
    env = marker_env(target)
    active = [r for r in wanted if r.marker is None or r.marker.evaluate(env)]
    if compiling is None:
        caps = rules.held_caps(earlier)
        compiling = UvCompile(
            step.name,
            step.requirements,
            (*step.constraints, *(cap for cap, _ in caps)),
            target,
            world.uv,
            allow_sdist,
            cache_dir,
            preferred=tuple(f"{p.name}=={p.version}" for p in earlier),
            held=caps,
        )
    try:
        world.prefetch((r.name for r in active), world.beside_uv)
        for req in active:
            _precheck(step, req, target, world, allow_sdist)
    except BaseException:
        compiling.cancel()
        raise
    pinned = compiling.result()
    requested = _requested(active)
    with ThreadPoolExecutor(world.jobs) as pool:
        return list(
            pool.map(lambda p: _pin(step, p, requested, target, world, allow_sdist), pinned)
        )


def _requested(reqs: list[Requirement]) -> dict[str, str]:
    """The requirement as asked for, per normalised name (specifiers of repeats merged)."""
    merged: dict[str, list[Requirement]] = {}
    for r in reqs:
        merged.setdefault(canonicalize_name(r.name), []).append(r)
    out = {}
    for name, rs in merged.items():
        extras = sorted({e for r in rs for e in r.extras})
        spec = ",".join(sorted(str(s) for r in rs for s in r.specifier))
        out[name] = rs[0].name + (f"[{','.join(extras)}]" if extras else "") + spec
    return out


def _precheck(
    step: InstallStep, req: Requirement, target: Target, world: _Indexes, allow_sdist: bool
) -> None:
    """Fail early, in words, for an unknown package, a missing version or no target file."""
    client, files = world.find(req.name)
    grouped = by_version(files)
    matching = list(req.specifier.filter(sorted(grouped)))
    if not matching:
        have = ", ".join(str(v) for v in sorted(grouped)[-5:]) or "no files"
        if world.exclude_newer is not None:
            have += f" uploaded before {world.exclude_newer} (--exclude-newer)"
        raise ResolveError(
            f"step {step.name!r}: no version of {req.name} matches {str(req.specifier)!r} on "
            f"{client.where()}; it has {have}"
        )
    matcher = Matcher(target)
    for v in reversed(matching):
        if choose(grouped[v], matcher, allow_sdist) is not None:
            return
    newest = matching[-1]
    raise ResolveError(
        f"step {step.name!r}: {req.name}{req.specifier} has no file for {target.describe()} on "
        f"{client.where()}; {req.name} {newest} has only {_listing(grouped[newest], allow_sdist)}"
    )


def by_version(files: list[IndexFile]) -> dict[Version, list[IndexFile]]:
    out: dict[Version, list[IndexFile]] = {}
    for f in files:
        v = file_version(f.filename)
        if v is not None:
            out.setdefault(v, []).append(f)
    return out


def _listing(files: list[IndexFile], allow_sdist: bool) -> str:
    names = sorted(f.filename for f in files)
    hint = "" if allow_sdist else " (sdists are not allowed: pass --allow-sdist to build one)"
    return ", ".join(names) + (hint if any(is_sdist(n) for n in names) else "")


def choose(
    mine: list[IndexFile], matcher: Matcher, allow_sdist: bool
) -> tuple[list[IndexFile], bool] | None:
    """The files of one release the target installs: its wheels, else (if allowed) its sdist."""
    wheels = [f for f in mine if matcher.wheel_ok(f.filename, f.requires_python)]
    if wheels:
        return wheels, False
    sdists = [f for f in mine if is_sdist(f.filename) and matcher.python_ok(f.requires_python)]
    if allow_sdist and sdists:
        return sdists, True
    return None


def _pin(
    step: InstallStep,
    p: Pinned,
    requested: dict[str, str],
    target: Target,
    world: _Indexes,
    allow_sdist: bool,
) -> WheelPin:
    client, files = world.find(p.name, p.source)
    mine = by_version(files).get(Version(p.version), [])
    chosen = choose(mine, Matcher(target), allow_sdist)
    if chosen is None:
        raise ResolveError(
            f"step {step.name!r}: {p.name}=={p.version} has no file for {target.describe()} on "
            f"{client.where()}; it has only {_listing(mine, allow_sdist) or 'no files'}"
        )
    kept, sdist = chosen
    out = []
    for f in sorted(kept, key=lambda f: f.filename):
        sha, size = client.facts(f)
        if p.hashes and sha not in p.hashes:
            raise SourceError(
                f"{f.filename!r} on {client.where()} is listed with sha256:{sha}, which uv did "
                "not see for that release; the index changed during the resolve, try again"
            )
        out.append(WheelFile(name=f.filename, sha256=Sha256(f"sha256:{sha}"), size=size))
    name = canonicalize_name(p.name)
    return WheelPin(
        step=step.name,
        image=step.image,
        name=name,
        version=_spelled_as_in_files(p.version, out),
        index=client.name,
        files=tuple(out),
        requested=requested.get(name),
        sdist=sdist,
    )


def _spelled_as_in_files(version: str, files: list[WheelFile]) -> str:
    """The version as the wheel filenames spell it (uv prints it normalised: ``.nv25.04`` →
    ``.nv25.4``), so the lock's version and its files' names agree."""
    spelled = {f.name[:-4].split("-")[1] for f in files if f.name.endswith(".whl")}
    return spelled.pop() if len(spelled) == 1 else version


def _check_environment(
    image: str,
    env: dict[str, WheelPin],
    target: Target,
    world: _Indexes,
    allow_sdist: bool,
    cache_dir: Path,
) -> None:
    """What the steps of ``image`` leave installed satisfies every installed package's own
    requirements (``pip check``): uv, asked for each package at its final version (with the
    extras its step asked for), must resolve to exactly that set."""
    wanted = tuple(f"{_with_extras(p)}=={p.version}" for _, p in sorted(env.items()))
    try:
        found = UvCompile(
            f"environment of image {image}", wanted, (), target, world.uv, allow_sdist, cache_dir
        ).result()
    except ResolveError as err:
        raise ResolveError(
            f"image {image!r}: the packages its install steps leave installed conflict "
            f"(pip check would fail): {err}"
        ) from None
    extra = sorted(f"{p.name}=={p.version}" for p in found if canonicalize_name(p.name) not in env)
    if extra:
        raise ResolveError(
            f"image {image!r}: the packages its install steps leave installed need "
            f"{', '.join(extra[:5])}, which no step installs (pip check would fail)"
        )


def _with_extras(p: WheelPin) -> str:
    """``name[extra,…]`` with the extras the step asked for (``vllm[all]``), else ``name``."""
    if p.requested:
        m = re.match(r"^[A-Za-z0-9._-]+(\[[A-Za-z0-9._,-]+\])", p.requested)
        if m:
            return p.name + m.group(1)
    return p.name


def _check_rules(pins: list[WheelPin], indexes: list[Index]) -> None:
    lock = Lock(
        inputs=Inputs(release="-", target="-"),
        wheel=tuple(pins),
        environment=environments(pins),
        index=tuple(indexes),
    )
    problems: list[str] = []
    for rule in (
        rules.wheel_files_match,
        rules.environments_match,
        rules.numpy_below_2,
        rules.torch_family,
    ):
        problems += rule(lock)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ResolveError(f"{problems[0]}{more}")
