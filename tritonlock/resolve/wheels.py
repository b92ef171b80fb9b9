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

The first step of each image starts uv (:mod:`.uvcompile`) before the rest of the resolver
(:mod:`.wheelpins`: the HTTP client, the lock model) is even loaded, so those imports pass
while uv runs.

Steps are resolved in order, as pip runs them: a step prefers what the earlier steps of its
image installed (uv's preferences, as from an existing output file) but may upgrade or
downgrade it, as ``pip install`` does; the lock records each step's pins and the final
environment of each image. Caps meant to hold across steps (numpy<2 once a step asks for it,
for the python backend) are constraints of every later step, and fail with their reason. The
final environment of an image must be consistent, as ``pip check`` would say: uv resolves it
again, every package at its final version, and must find exactly that set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement

from ..errors import UsageError
from ..sources.mirrors import rewrite
from ..util.redact import redact
from .pytarget import Target
from .stepcache import StepCache, index_identity
from .uvcompile import UvCompile, UvIndexes

if TYPE_CHECKING:
    from ..model import Index, WheelPin
    from ..util.store import Store

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


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
    # The URL the lock records when ``url`` is a mirror of it (``--url-mirror``).
    recorded: str | None = None


def mirrored(
    specs: Sequence[IndexSpec], mirrors: Sequence[tuple[str, str]]
) -> tuple[IndexSpec, ...]:
    """The indexes as read through ``--url-mirror`` (the longest matching prefix): each is
    read at its mirror, and the lock records its own URL, as for git and downloads."""
    out = []
    for s in specs:
        to = rewrite(s.url, mirrors)
        out.append(replace(s, url=to, recorded=s.recorded or s.url) if to != s.url else s)
    return tuple(out)


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
    for step in steps:
        parse_requirements(step)  # a bad one is an error before uv or the index is asked
    say = progress or (lambda _msg: None)
    cache_dir.mkdir(parents=True, exist_ok=True)
    kept = StepCache.for_cutoff(
        cache_dir,
        exclude_newer,
        [target.python, target.machine, list(target.glibc)],
        [index_identity(s.name, s.url, s.extra) for s in indexes],
        allow_sdist,
    )
    uv = uv_indexes(indexes, exclude_newer, jobs)
    started = _start_first_steps(steps, target, uv, allow_sdist, cache_dir, kept, jobs)
    try:
        from . import wheelpins  # loads while uv runs

        return wheelpins.pin_steps(
            steps,
            target=target,
            indexes=indexes,
            allow_sdist=allow_sdist,
            cache_dir=cache_dir,
            jobs=jobs,
            say=say,
            exclude_newer=exclude_newer,
            store=store,
            kept=kept,
            started=started,
        )
    finally:
        for left in started.values():  # a step that failed before it took its uv run
            left.cancel()


def _start_first_steps(
    steps: Sequence[InstallStep],
    target: Target,
    uv: UvIndexes,
    allow_sdist: bool,
    cache_dir: Path,
    kept: StepCache,
    jobs: int,
) -> dict[str, UvCompile]:
    """uv started for the first step of each image that the step cache does not hold (a
    first step has no earlier pins: no preferences, no held caps), for as many images as
    are resolved side by side (``jobs``), the first ones."""
    started: dict[str, UvCompile] = {}
    images: set[str] = set()
    try:
        for step in steps:
            if step.image in images:
                continue
            images.add(step.image)
            if len(images) > max(jobs, 1):
                break
            if kept.has(step_key(kept, step, [])):
                continue
            started[step.name] = UvCompile(
                step.name,
                step.requirements,
                step.constraints,
                target,
                uv,
                allow_sdist,
                cache_dir,
            )
    except BaseException:
        for run in started.values():
            run.cancel()
        raise
    return started


def uv_indexes(specs: Sequence[IndexSpec], exclude_newer: str | None, jobs: int) -> UvIndexes:
    """What uv is told. While uv runs, its downloads and the pages read beside it share the
    ``jobs`` connections (a quarter for the pages), so a server's accept queue (pypiserver's
    holds 5) is not overrun."""
    jobs = max(jobs, 1)
    return UvIndexes(
        url=next(s.url for s in specs if not s.extra),
        extras=tuple(s.url for s in specs if s.extra),
        exclude_newer=exclude_newer,
        jobs=max(1, jobs - max(1, jobs // 4)),
    )


def step_key(kept: StepCache, step: InstallStep, earlier: Sequence[WheelPin]) -> str:
    """The step cache's key of ``step`` after ``earlier`` pins of its image."""
    what = [step.name, step.image, step.requirements, step.constraints]
    return kept.key("step", what, sorted(earlier, key=lambda p: p.name))


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


def parse_requirements(step: InstallStep) -> list[Requirement]:
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
