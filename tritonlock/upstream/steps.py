"""Turn the ``pip install`` commands of upstream's recipe into install steps a resolver can
pin (pure: every input is text the caller read from the pinned trees).

What each kind of requirement becomes:

* a PEP 508 requirement: itself, normalised by ``packaging``;
* a wheel built in-tree (``/opt/tritonserver/python/tritonserver-*.whl[all]``): not
  resolved (it is a build output) but its declared dependencies, with the extras asked
  for, are: read from ``pyproject.toml`` ``[project]`` or from ``setup()`` in
  ``setup.py`` (with :mod:`ast`, never executed) — see
  :data:`tritonlock.upstream.wheelmeta.LOCAL_WHEELS`;
* ``-r``/``-c`` files of a pinned tree: expanded (comments, continuations, nested
  ``-r``/``-c``; ``--hash`` dropped, as the resolver hashes every file itself).

Nothing is dropped silently. What the recipe installs but the plan cannot (a secret file,
a shell variable, a file in the image, an in-tree wheel whose dependencies are unknown,
an editable install) is listed in :attr:`StepPlan.unplanned` with where it is and why;
what is planned another way (an in-tree wheel's dependencies), what the plan does not
apply (index and pip options, an extra the wheel does not declare) and what does not run
in this build, in :attr:`StepPlan.skipped`.

``if`` conditions around a command are evaluated for ``BUILD_PUBLIC_VLLM`` (upstream's
public/private vLLM switch) and ``$(uname -m)``; a step whose conditions are false is
skipped, one whose conditions cannot be told (or in a loop that cannot be unrolled) is
unplanned.

Steps keep upstream's order. Each planned requirement with a version specifier becomes a
constraint of every later step of the same built image (the same generated Dockerfile and
image role), so a later ``pip install`` cannot lift ``numpy<2`` from an earlier one.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..util.redact import redact
from .conditions import condition_env, why_not_run
from .floating import PipInstall, file_step, slug
from .wheelmeta import LOCAL_WHEELS, declared

STEP_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SECRETS_DIR = "/run/secrets/"

DEFAULT_TREE = "server"

_IGNORED_OPTIONS = frozenset(
    {"--upgrade", "-U", "--force-reinstall", "--ignore-installed", "--break-system-packages"}
)
_INDEX_OPTIONS = frozenset(
    {"-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links", "--trusted-host"}
)
_EDITABLE = frozenset({"-e", "--editable"})


@dataclass(frozen=True, slots=True, kw_only=True)
class PipStep:
    """One install step to resolve: a schema-valid unique name, the image role it installs
    into, PEP 508 requirements and the caps earlier steps of its image put on it."""

    name: str
    image: str
    requirements: tuple[str, ...]
    constraints: tuple[str, ...] = ()
    found_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StepPlan:
    """The steps; (what, why) of what is skipped on purpose and of what the recipe installs
    that is not planned (its ``what`` starts with where it is, ``Dockerfile:86: ``)."""

    steps: tuple[PipStep, ...]
    skipped: tuple[tuple[str, str], ...]
    unplanned: tuple[tuple[str, str], ...] = ()


@dataclass
class _Collected:
    requirements: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unplanned: list[tuple[str, str]] = field(default_factory=list)

    def add(self, req: str, *, constraint: bool = False) -> None:
        target = self.constraints if constraint else self.requirements
        if req not in target:
            target.append(req)


# --- the plan ------------------------------------------------------------------------------


def plan_pip_steps(
    pip: Sequence[PipInstall],
    *,
    files: Mapping[str, str],
    public_vllm: bool = True,
    machine: str | None = None,
) -> StepPlan:
    """The install steps of ``pip`` (upstream order) for the public or private vLLM branch.

    ``files`` maps ``<tree>:<path>`` (see :func:`files_needed`) to text; ``machine`` is
    what ``uname -m`` says in the build (unknown if None).
    """
    env = condition_env(public_vllm, machine)
    steps: list[PipStep] = []
    skipped: list[tuple[str, str]] = []
    unplanned: list[tuple[str, str]] = []
    caps: dict[tuple[str, str], list[str]] = {}
    names: set[str] = set()
    for install in pip:
        not_run = why_not_run(install.conditions, env)
        if not_run is not None:
            why, surely = not_run
            if surely:
                skipped.append((install.step, why))
            else:
                unplanned.append(_located(install, install.step, why))
            continue
        got = _collect(install, files)
        skipped += got.skipped
        unplanned += [_located(install, what, why) for what, why in got.unplanned]
        if not got.requirements:
            if not got.skipped and not got.unplanned:
                skipped.append((install.step, "no requirements to install"))
            continue
        image = _built_image(install)
        earlier = caps.setdefault(image, [])
        constraints = [c for c in (*earlier, *got.constraints) if c not in got.requirements]
        steps.append(
            PipStep(
                name=_unique_name(install.step, names),
                image=install.image,
                requirements=tuple(got.requirements),
                constraints=tuple(dict.fromkeys(constraints)),
                found_in=install.found_in,
            )
        )
        earlier += [c for c in map(_cap, got.requirements) if c and c not in earlier]
    return StepPlan(steps=tuple(steps), skipped=tuple(skipped), unplanned=tuple(unplanned))


def _located(install: PipInstall, what: str, why: str) -> tuple[str, str]:
    """``what`` led by where the install is in the recipe (``Dockerfile:86: …``)."""
    return (f"{', '.join(install.found_in)}: {what}" if install.found_in else what), why


def step_names(pip: Sequence[PipInstall]) -> dict[str, tuple[str, ...]]:
    """Where each ``pip install`` is (``Dockerfile:86``, its instruction) -> the step names
    :func:`plan_pip_steps` gives the installs found there, in order.

    Names are given as if no step were skipped; they differ from the plan's only when two
    skipped and kept steps slug to the same name. Both the resolver and the emitter read the
    same recipe, so this is how the emitter finds the lock's wheels of one instruction.
    """
    taken: set[str] = set()
    out: dict[str, tuple[str, ...]] = {}
    for install in pip:
        name = _unique_name(install.step, taken)
        for where in install.found_in:
            out[where] = (*out.get(where, ()), name)
    return out


def files_needed(
    pip: Sequence[PipInstall], files: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """``<tree>:<path>`` of every file a plan of ``pip`` reads, whatever its conditions.

    Files named by ``-r``/``-c`` inside texts already in ``files`` are listed too: call
    again with what was read until nothing new is listed. A path absent from its tree
    is simply not given to :func:`plan_pip_steps`.
    """
    out: list[str] = []
    for install in pip:
        for req in install.requirements:
            wheel = _local_wheel(req)
            if wheel is not None and wheel[0] in LOCAL_WHEELS:
                out += LOCAL_WHEELS[wheel[0]]
        for path in (*install.requirement_files, *install.constraint_files):
            key = _tree_path(path)
            if key is not None:
                out.append(key)
    needed = dict.fromkeys(out)
    todo = list(needed)
    while todo:
        key = todo.pop(0)
        for nested in _nested_files(key, (files or {}).get(key)):
            if nested not in needed:
                needed[nested] = None
                todo.append(nested)
    return tuple(needed)


def _built_image(install: PipInstall) -> tuple[str, str]:
    """Which image a step installs into: its generated file and its image role."""
    if install.found_in:
        source = file_step(install.found_in[0].rsplit(":", 1)[0])
    else:
        source = install.step.split("-", 1)[0]
    return source, install.image


def _cap(requirement: str) -> str | None:
    """The version cap a planned requirement puts on later steps: name, specifier and
    markers, no extras (pip constraints take none); None without a specifier."""
    req = Requirement(requirement)
    if not req.specifier or req.url:
        return None
    marker = f"; {req.marker}" if req.marker else ""
    return f"{canonicalize_name(req.name)}{req.specifier}{marker}"


def _unique_name(step: str, taken: set[str]) -> str:
    base = step if STEP_NAME.match(step) else slug(step)
    if not base[0].isalnum():
        base = f"s{base}"[:64]
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[: 63 - len(str(n))]}-{n}"
    taken.add(name)
    return name


# --- the requirements of one pip install -----------------------------------------------------


def _collect(install: PipInstall, files: Mapping[str, str]) -> _Collected:
    got = _Collected()
    step = install.step
    for opt in (*install.index_options, *install.options):
        name = opt.split("=", 1)[0]
        if name in _INDEX_OPTIONS:
            got.skipped.append(
                (f"{step}: {opt}", "step-specific index; resolve with --extra-index-url")
            )
        elif name in _EDITABLE:
            got.unplanned.append((f"{step}: {opt}", "an editable install of a local tree"))
        elif name not in _IGNORED_OPTIONS:
            got.skipped.append((f"{step}: {opt}", "pip option not applied by the plan"))
    for req in install.requirements:
        _requirement(step, req, files, got)
    for path in install.requirement_files:
        _file(step, path, files, got, constraint=False)
    for path in install.constraint_files:
        _file(step, path, files, got, constraint=True)
    return got


def _requirement(
    step: str, text: str, files: Mapping[str, str], got: _Collected, *, constraint: bool = False
) -> None:
    wheel = _local_wheel(text)
    if wheel is not None and constraint:
        got.skipped.append((f"{step}: {text}", "a file as a constraint; not applied"))
        return
    if wheel is not None:
        _wheel_requirement(step, text, wheel, files, got)
        return
    if "$" in text:
        got.unplanned.append((f"{step}: {text}", "a shell variable, known only at build time"))
        return
    try:
        req = Requirement(text)
    except InvalidRequirement as err:
        got.unplanned.append((f"{step}: {text}", f"not a PEP 508 requirement ({err})"))
        return
    got.add(str(req), constraint=constraint)


def _local_wheel(text: str) -> tuple[str, frozenset[str]] | None:
    """(distribution, extras) of a file path requirement such as ``/x/name-*.whl[all]``."""
    path, _, extras = text.partition("[")
    if "@" in text or ("/" not in path and not path.endswith((".whl", ".tar.gz", ".zip"))):
        return None
    dist = os.path.basename(path).split("-", 1)[0]
    names = frozenset(str(canonicalize_name(e)) for e in extras.rstrip("]").split(",") if e)
    return str(canonicalize_name(dist)), names


def _wheel_requirement(
    step: str,
    text: str,
    wheel: tuple[str, frozenset[str]],
    files: Mapping[str, str],
    got: _Collected,
) -> None:
    dist, extras = wheel
    what = f"{step}: {text}"
    if dist not in LOCAL_WHEELS:
        why = (
            "a file in the image, neither built in-tree nor on an index; give it with --requirement"
        )
        got.unplanned.append((what, why))
        return
    deps = _wheel_deps(dist, extras, files, step, got)
    if isinstance(deps, str):
        got.unplanned.append((what, deps))
        return
    got.skipped.append((what, "built in-tree, not resolved; its dependencies are planned"))
    for dep in deps:
        got.add(dep)


# --- requirements files ------------------------------------------------------------------------


# Where upstream's recipe puts the server tree: Dockerfile.buildbase's `WORKDIR /workspace`
# and `COPY . .`, which cmake_build runs in.
SERVER_ROOT = "/workspace/"


def _tree_path(path: str) -> str | None:
    """``<tree>:<path>`` of a requirements file relative to the server tree or under
    :data:`SERVER_ROOT`, None for another file in the image."""
    if path.startswith(SERVER_ROOT):
        path = path[len(SERVER_ROOT) :]
        if os.path.normpath(path).startswith(".."):
            return None
    if path.startswith("/") or "$" in path or not path:
        return None
    return f"{DEFAULT_TREE}:{os.path.normpath(path)}"


def _file(
    step: str,
    path: str,
    files: Mapping[str, str],
    got: _Collected,
    *,
    constraint: bool,
    seen: tuple[str, ...] = (),
) -> None:
    """Expand ``-r path`` (``-c path``); ``path`` is a recipe path or ``<tree>:<path>``."""
    flag = "-c" if constraint else "-r"
    key = path if seen else _tree_path(path)
    shown = f"{step}: {flag} {path}"
    if path.startswith(SECRETS_DIR):
        why = "a secret requirements file of the build; give its contents with --requirement"
        got.unplanned.append((shown, why))
    elif "$" in path:
        got.unplanned.append((shown, "a shell variable, known only at build time"))
    elif key is None or key.startswith("/"):
        got.unplanned.append((shown, "a file in the image, not in a pinned tree"))
    elif key in seen:
        got.unplanned.append((f"{step}: {flag} {key}", "includes itself"))
    elif key not in files:
        got.unplanned.append((f"{step}: {flag} {key}", "not read from the pinned tree"))
    else:
        for kind, value in _lines(files[key]):
            _line(step, key, kind, value, files, got, constraint, (*seen, key))


def _line(
    step: str,
    key: str,
    kind: str,
    value: str,
    files: Mapping[str, str],
    got: _Collected,
    constraint: bool,
    seen: tuple[str, ...],
) -> None:
    if kind in ("-r", "-c"):
        _file(
            step, _nested(key, value), files, got, constraint=constraint or kind == "-c", seen=seen
        )
    elif kind == "req":
        _requirement(f"{step}: {key}", value, files, got, constraint=constraint)
    elif kind in _INDEX_OPTIONS:
        why = "an index option in a requirements file; resolve with --extra-index-url"
        got.skipped.append((f"{step}: {key}: {redact(value)}", why))
    elif kind in _EDITABLE:
        got.unplanned.append((f"{step}: {key}: {value}", "an editable install of a local tree"))
    elif kind != "ignore":
        got.skipped.append((f"{step}: {key}: {value}", "requirements-file option not applied"))


def _nested(key: str, path: str) -> str:
    """``<tree>:<path>`` of a file named inside ``key`` (relative to its directory)."""
    if path.startswith("/") or "$" in path:
        return path
    tree, _, rel = key.partition(":")
    return f"{tree}:{os.path.normpath(os.path.join(os.path.dirname(rel), path))}"


def _nested_files(key: str, text: str | None) -> list[str]:
    if text is None:
        return []
    nested = [_nested(key, v) for kind, v in _lines(text) if kind in ("-r", "-c")]
    return [n for n in nested if not n.startswith("/") and "$" not in n]


def _logical_lines(text: str) -> Iterator[str]:
    """Lines joined at trailing backslashes, comments and blanks removed (pip's order)."""
    buf = ""
    for raw in text.splitlines():
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            buf += raw[:-1]
            continue
        line = re.sub(r"(^|\s)#.*$", "", buf + raw).strip()
        buf = ""
        if line:
            yield line
    line = re.sub(r"(^|\s)#.*$", "", buf).strip()
    if line:
        yield line


_HARMLESS = frozenset({"--require-hashes", "--prefer-binary"})


def _lines(text: str) -> Iterator[tuple[str, str]]:
    """(kind, value) of each line: ``-r``/``-c`` with a path, ``req`` with a requirement,
    ``ignore``, an index option with the line, or the line itself for any other option."""
    for line in _logical_lines(text):
        if line.startswith("-"):
            yield _option(line)
            continue
        req, *options = re.split(r"\s+(?=--?[A-Za-z])", line)
        yield "req", req
        for opt in options:
            if not opt.startswith("--hash"):  # the resolver checks every file's sha256
                yield opt.strip(), opt.strip()


def _option(line: str) -> tuple[str, str]:
    try:
        words = shlex.split(line)
    except ValueError:
        return line, line
    opt, eq, value = words[0].partition("=")
    if opt[:2] in ("-r", "-c") and len(opt) > 2 and not opt.startswith("--"):
        opt, value = opt[:2], opt[2:]
    elif not eq and len(words) > 1:
        value = words[1]
    opt = {"--requirement": "-r", "--constraint": "-c"}.get(opt, opt)
    if opt in ("-r", "-c") and value:
        return opt, value
    if opt in _INDEX_OPTIONS or opt in _EDITABLE:
        return opt, line
    return ("ignore" if opt in _HARMLESS else line), line


# --- dependencies of in-tree wheels --------------------------------------------------------


def _wheel_deps(
    dist: str, extras: frozenset[str], files: Mapping[str, str], step: str, got: _Collected
) -> list[str] | str:
    """The dependencies of ``dist[extras]``, expanding self-references and other in-tree
    wheels, or why they are unknown."""
    out: list[str] = []
    todo: list[tuple[str, frozenset[str], str]] = [(dist, extras, "")]
    done: set[tuple[str, str]] = set()
    while todo:
        name, wanted, marker = todo.pop(0)
        meta = declared(name, files)
        if isinstance(meta, str):
            return meta if name == dist else f"{name}, a dependency: {meta}"
        for extra in sorted(wanted - set(meta[1])):
            got.skipped.append((f"{step}: {name}[{extra}]", f"{name} declares no such extra"))
        groups = [("", meta[0])] + [(e, meta[1][e]) for e in sorted(wanted) if e in meta[1]]
        for group, reqs in groups:
            if (name, group) in done:
                continue
            done.add((name, group))
            for text in reqs:
                _dependency(text, marker, name, out, todo, got, step)
    return out


def _dependency(
    text: str,
    marker: str,
    owner: str,
    out: list[str],
    todo: list[tuple[str, frozenset[str], str]],
    got: _Collected,
    step: str,
) -> None:
    try:
        req = Requirement(text)
    except InvalidRequirement as err:
        got.unplanned.append((f"{step}: {owner}: {text}", f"not a PEP 508 requirement ({err})"))
        return
    both = " and ".join(f"({m})" for m in (str(req.marker or ""), marker) if m)
    name = str(canonicalize_name(req.name))
    if name in LOCAL_WHEELS:
        extras = frozenset(str(canonicalize_name(e)) for e in req.extras)
        todo.append((name, extras, both))
        if name != owner:
            why = f"built in-tree; a dependency of {owner}, planned as its dependencies"
            got.skipped.append((f"{step}: {name}", why))
        return
    req.marker = None
    line = f"{req}; {both}" if both else str(req)
    if line not in out:
        out.append(str(Requirement(line)))
