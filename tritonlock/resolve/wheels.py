"""Resolve the Python requirements of each install step into wheel pins for the *target*.

Which engine does what:

* ``uv pip compile --python-version … --python-platform …`` picks the versions: it is the
  one resolver here that resolves for a platform and interpreter other than the host's
  (environment markers and Requires-Python evaluated for the target). pip-compile and
  hashin resolve for the host only (and hashin needs the JSON API), so they are not used.
* :mod:`.pyindex` (PEP 691 JSON, else PEP 503 HTML; never per-version JSON) lists each
  pinned release's files; :mod:`.pytarget` keeps those the target can install; sizes come
  from PEP 691, else from a HEAD request (a listed sha256) or the file's bytes (no sha256
  listed, or no plain Content-Length), which then land in the shared store.
* :mod:`tritonlock.resolve.rules` checks coherence (torch family, numpy<2, one version per image).
* With a cutoff (``--exclude-newer``), uv and the listings read here (:mod:`.cutoff`) count
  only files uploaded before it.

Steps are resolved in order, as pip runs them: a step prefers what the earlier steps of its
image installed (uv's preferences, as from an existing output file) but may upgrade or
downgrade it, as ``pip install`` does; the lock records each step's pins and the final
environment of each image. Caps meant to hold across steps (numpy<2 once a step asks for it,
for the python backend) are constraints of every later step, and fail with their reason. The
final environment of an image must be consistent, as ``pip check`` would say: uv resolves it
again, every package at its final version, and must find exactly that set.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .. import __version__
from ..errors import ResolveError, SourceError, TritonLockError, UsageError
from ..model import Index, Inputs, Lock, Sha256, WheelFile, WheelPin, environments
from ..sources.pyindex import IndexClient, IndexFile, split_credentials
from ..util import interrupt, procs
from ..util.programs import uv_binary
from ..util.redact import credential_free, redact
from ..util.store import Store
from . import rules
from .cutoff import dated
from .pytarget import Matcher, Target, file_version, is_sdist, marker_env
from .stepcache import StepCache, index_identity

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_URL_RE = re.compile(
    r"^(https|http|file)://[A-Za-z0-9._~%+-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+=,-]+)*/?"
    r"(\?[A-Za-z0-9._~%+=,/-]+)?\Z"
)
_PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")
UV_TIMEOUT = 1800


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallStep:
    name: str  # step, e.g. "buildbase", "final", "vllm"
    image: str  # the image role it installs into, e.g. "base"
    requirements: tuple[str, ...]
    constraints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexSpec:
    name: str  # logical name recorded in the lock, e.g. "pypi", "jetson"
    url: str  # may carry credentials at resolve time; never recorded with them
    extra: bool = False


@dataclass(frozen=True, slots=True)
class Pinned:
    name: str
    version: str
    source: str | None  # the index URL uv took it from (credentials removed)
    hashes: frozenset[str]  # bare hex, as uv saw them


def resolve_wheels(
    steps: Sequence[InstallStep],
    *,
    python_version: str,
    machine: str,
    indexes: Sequence[IndexSpec],
    allow_sdist: bool = False,
    cache_dir: Path,
    jobs: int = 8,
    progress: Callable[[str], None] | None = None,
    glibc: tuple[int, int] = (2, 39),
    exclude_newer: str | None = None,
    store: Store | None = None,
) -> tuple[tuple[WheelPin, ...], tuple[Index, ...]]:
    """Pin every step's transitive closure for CPython ``python_version`` on ``machine``,
    from the files uploaded before ``exclude_newer`` (a UTC time ``2025-02-20T18:02:11Z``;
    None: every file). A file downloaded to hash it (its index lists no sha256) is added
    to ``store``, the shared cache `vendor` takes it from.

    Raises UsageError for bad input and ResolveError for what the indexes cannot satisfy;
    nothing is returned unless every step resolved and the coherence rules hold.
    """
    target = Target(python_version, machine, glibc)
    _check_inputs(steps, indexes)
    say = progress or (lambda _msg: None)
    cache_dir.mkdir(parents=True, exist_ok=True)
    kept = StepCache.for_cutoff(
        cache_dir,
        exclude_newer,
        [target.python, target.machine, list(target.glibc)],
        [index_identity(s.name, s.url, s.extra) for s in indexes],
        allow_sdist,
    )
    world = _Indexes(
        indexes, cache_dir=cache_dir, jobs=jobs, exclude_newer=exclude_newer, store=store
    )
    try:
        images = _ImageSteps(target, world, allow_sdist, cache_dir, kept, say)
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
    ) -> None:
        self.target, self.world, self.allow_sdist = target, world, allow_sdist
        self.cache_dir, self.kept, self.say = cache_dir, kept, say

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
        what = [step.name, step.image, step.requirements, step.constraints]
        key = self.kept.key("step", what, sorted(earlier, key=lambda p: p.name))
        mine = self.kept.pins(key)
        if mine is not None:
            self.say(f"step {step.name}: inputs unchanged since the last resolve, pins kept")
            return mine
        self.say(f"step {step.name}: resolving for {self.target.describe()}")
        mine = _resolve_step(
            step, earlier, self.target, self.world, self.allow_sdist, self.cache_dir
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


def _check_inputs(steps: Sequence[InstallStep], indexes: Sequence[IndexSpec]) -> None:
    for s in steps:
        for what in (s.name, s.image):
            if not NAME_RE.match(what):
                raise UsageError(f"install step name/image {what!r} is not like 'final' or 'base'")
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise UsageError(f"install step names must be unique: {', '.join(names)}")
    if sum(1 for i in indexes if not i.extra) != 1:
        raise UsageError("give exactly one --index-url (any others as --extra-index-url)")
    seen: set[str] = set()
    for i in indexes:
        if not NAME_RE.match(i.name) or i.name in seen:
            raise UsageError(f"index name {i.name!r} is not unique or not like 'pypi' or 'jetson'")
        seen.add(i.name)
        if not re.match(r"^https?://[^\s]+$", i.url):
            raise UsageError(f"index {i.name!r}: {redact(i.url)!r} is not an http(s) URL")


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
    ) -> None:
        ordered = [s for s in specs if s.extra] + [s for s in specs if not s.extra]
        self.specs = ordered
        self.exclude_newer = exclude_newer
        self.jobs = max(jobs, 1)
        # While uv runs, its requests and the pages read beside it share the ``jobs``
        # connections: a server's accept queue (pypiserver's is 5) is not overrun.
        self.beside_uv = max(1, self.jobs // 4)
        self.uv_jobs = max(1, self.jobs - self.beside_uv)
        self._cache_dir, self._store = cache_dir, store
        self._http: httpx.Client | None = None
        self._clients: list[IndexClient] = []
        self._opening = threading.Lock()
        self._memo: dict[str, tuple[IndexClient, list[IndexFile]] | None] = {}
        self._pages: dict[tuple[str, str], list[IndexFile] | None] = {}

    @property
    def clients(self) -> list[IndexClient]:
        """A client per index, made on first use: loading the CA store for TLS takes about
        20 ms, which then passes while uv already runs."""
        with self._opening:
            if self._http is None:
                self._http = httpx.Client(
                    timeout=httpx.Timeout(60.0, connect=15.0),
                    follow_redirects=True,
                    verify=ssl.create_default_context(),  # the system CA store, SSL_CERT_FILE
                    headers={"User-Agent": f"tritonlock/{__version__}"},
                    limits=httpx.Limits(max_connections=self.jobs * 2),
                )
                self._clients = [
                    IndexClient(
                        s.name, s.url, cache_dir=self._cache_dir, http=self._http, store=self._store
                    )
                    for s in self.specs
                ]
            return self._clients

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def record(self, spec: IndexSpec) -> Index:
        clean, auth = split_credentials(spec.url)
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
) -> list[WheelPin]:
    """uv resolves the step while the requested projects' pages are read and checked (an
    unknown package, a missing version or no file for the target fails in words, and ends
    uv); then each pinned release's page is read and its files pinned, side by side."""
    wanted = _parse_requirements(step)
    env = marker_env(target)
    active = [r for r in wanted if r.marker is None or r.marker.evaluate(env)]
    caps = rules.held_caps(earlier)
    compiling = _UvCompile(
        step.name,
        step.requirements,
        (*step.constraints, *(cap for cap, _ in caps)),
        target,
        world,
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


def _parse_requirements(step: InstallStep) -> list[Requirement]:
    out = []
    for text in step.requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            raise UsageError(f"step {step.name!r}: {text!r} is not a valid requirement") from None
        if req.url:
            raise UsageError(
                f"step {step.name!r}: {req.name} @ URL is not supported; serve it from an index"
            )
        out.append(req)
    return out


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
        found = _UvCompile(
            f"environment of image {image}", wanted, (), target, world, allow_sdist, cache_dir
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


class _UvCompile:
    """``uv pip compile`` for the target, started at once (credentials travel in the
    environment only); :meth:`result` waits for its pins. ``preferred`` pins are kept where
    the requirements allow (uv reads them from the output file, as it keeps an existing
    lock's pins). ``held`` caps (cap, reason) are constraints too; a failure that names the
    capped package says why the cap holds."""

    def __init__(
        self,
        what: str,
        requirements: Sequence[str],
        constraints: Sequence[str],
        target: Target,
        world: _Indexes,
        allow_sdist: bool,
        cache_dir: Path,
        *,
        preferred: Sequence[str] = (),
        held: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.what, self.target, self.world, self.held = what, target, world, held
        self.tmp = Path(tempfile.mkdtemp(prefix="tritonlock-uv-"))
        interrupt.temporary(self.tmp)
        reqs, cons = self.tmp / "requirements.in", self.tmp / "constraints.txt"
        self.out = self.tmp / "requirements.txt"
        reqs.write_text("".join(f"{r}\n" for r in requirements))
        cons.write_text("".join(f"{c}\n" for c in constraints))
        self.out.write_text("".join(f"{p}\n" for p in preferred))
        cmd = [
            uv_binary(), "pip", "compile", "--no-config", "--no-python-downloads", "--quiet",
            "--python-version", target.python, "--python-platform", target.uv_platform,
            "--emit-index-annotation", "--no-annotate", "--no-header", "--generate-hashes",
            "--cache-dir", str(cache_dir / "uv"), "--constraints", str(cons), str(reqs),
            "--output-file", str(self.out),
        ]  # fmt: skip
        if not allow_sdist:
            cmd[3:3] = ["--only-binary", ":all:"]
        if world.exclude_newer is not None:
            cmd[3:3] = ["--exclude-newer", world.exclude_newer]
        try:
            self.started = procs.start(cmd, env=_uv_env(world), cwd=self.tmp)
        except FileNotFoundError:
            interrupt.remove(self.tmp)
            raise ResolveError(f"cannot run uv ({cmd[0]}); reinstall tritonlock") from None

    def cancel(self) -> None:
        try:
            self.started.cancel()
        finally:
            interrupt.remove(self.tmp)

    def result(self) -> list[Pinned]:
        try:
            done = self.started.wait(UV_TIMEOUT)
            text = self.out.read_text("utf-8", "replace") if done.returncode == 0 else ""
        except subprocess.TimeoutExpired:
            raise ResolveError(
                f"{_named(self.what)}: uv did not finish in {UV_TIMEOUT} s"
            ) from None
        finally:
            interrupt.remove(self.tmp)
        if done.returncode != 0:
            why = _condense(done.stderr.decode("utf-8", "replace"), self.world)
            more = "".join(f" ({c} holds: {r})" for c, r in self.held if _names(why, c))
            # said before uv's words, which an [[unresolved]] reason may cut
            raise ResolveError(
                f"{_named(self.what)}: cannot resolve for {self.target.describe()}{more}: {why}"
            )
        return parse_uv_output(text)


def _names(text: str, requirement: str) -> bool:
    """Whether ``text`` mentions the package ``requirement`` is about."""
    name = re.escape(Requirement(requirement).name)
    return re.search(rf"(?<![\w.-]){name}(?![\w-])", text, re.IGNORECASE) is not None


def _named(what: str) -> str:
    return what if " " in what else f"step {what!r}"


def _uv_env(world: _Indexes) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_CONCURRENT_DOWNLOADS"] = str(world.uv_jobs)
    env["UV_SYSTEM_CERTS"] = env["UV_NATIVE_TLS"] = "1"  # the system CA store, as httpx here
    env["UV_INDEX_URL"] = next(s.url for s in world.specs if not s.extra)
    extras = [s.url for s in world.specs if s.extra]
    if extras:
        env["UV_EXTRA_INDEX_URL"] = " ".join(extras)
    return env


def _condense(stderr: str, world: _Indexes | None = None) -> str:
    """uv's multi-line error as one line without credentials (nor the tokens of the index
    URLs it was given)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith("warning:")] or lines or ["uv failed"]
    text = " ".join(keep)
    text = re.sub(r"^error:\s*", "", text)
    return redact(text, urls=[s.url for s in world.specs] if world else ())[:600]


def parse_uv_output(text: str) -> list[Pinned]:
    """Pins, their hashes and their ``# from`` index out of ``uv pip compile`` output."""
    out: list[Pinned] = []
    name = version = source = None
    hashes: set[str] = set()

    def flush() -> None:
        if name and version:
            out.append(Pinned(name, version, source, frozenset(hashes)))

    for raw in text.splitlines():
        line = raw.strip()
        if m := _PIN_RE.match(line):
            flush()
            name, version, source, hashes = m.group(1), m.group(2), None, set()
        elif line.startswith("--hash=sha256:"):
            hashes.add(line.split(":", 1)[1].rstrip(" \\").lower())
        elif line.startswith("# from "):
            source = split_credentials(line[len("# from ") :].strip())[0]
    flush()
    return out


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


def read_requirements_file(path: Path, _seen: frozenset[Path] = frozenset()) -> tuple[str, ...]:
    """The requirements of a pip requirements file (``-r`` includes followed), for
    ``--requirement FILE`` / ``--constraint FILE``; index options belong on the command line."""
    path = path.resolve()
    if path in _seen:
        raise UsageError(f"{path}: includes itself (-r loop)")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read requirements: {err}") from None
    out: list[str] = []
    for n, line in enumerate(re.sub(r"\\\n", " ", text).splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        line = re.sub(r"\s--hash[= ]\S+", "", line).strip()
        if not line:
            continue
        if m := re.match(r"^(-r|--requirement)[= ]\s*(\S+)$", line):
            out += read_requirements_file(path.parent / m.group(2), _seen | {path})
        elif line.startswith("-"):
            raise UsageError(
                f"{path}:{n}: option {line.split()[0]!r} is not supported in a requirements file "
                "here; pass indexes with --index-url/--extra-index-url"
            )
        else:
            out.append(line)
    return tuple(out)
