"""What the offline compile stage provides, asked one request at a time (pure).

The compile stage (:func:`tritonlock.emit.compile_stage`) has no network. It is given:

* git: a local bare mirror per pinned repository, routed with ``url.<mirror>.insteadOf``
  for the URL with and without ``.git`` (:func:`tritonlock.emit.sources.insteadof_script`),
  whose branches and tags are the lock's refs at their pinned commits; a submodule comes
  from its mirror only where that script lets git use ``file://`` for submodules (git 2.38.1
  and later refuse it unless ``protocol.file.allow`` is ``always``);
* URL downloads of ``ExternalProject_Add``/``FetchContent_Declare``: the lock's
  :func:`tritonlock.emit.downloads.compile_pins`, swapped in by the CMake hook when the
  ``URL`` argument is the pinned URL, character for character;
* Python: a wheelhouse of the compile's pip steps (:func:`tritonlock.emit.compile_steps`),
  seen through ``PIP_NO_INDEX``/``PIP_FIND_LINKS``.

Each function answers whether one request is served, and by what, the way the compile
stage's git, CMake and pip would: an audit (``tools/compile_fetches.py``) asks them for
every fetch the pinned sources can perform.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..model import Lock, WheelPin
from . import compile_steps, pip_step_names
from .downloads import compile_pins, local_path
from .sources import Mirror, insteadof_script, mirror_url, mirrors

_HEX = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True, slots=True)
class Answer:
    """Whether a request is served offline; ``how`` is ``mirror``, ``hook`` or
    ``wheelhouse`` when it is, and ``detail`` says by what, or why not."""

    provided: bool
    how: str
    detail: str


def _no(detail: str) -> Answer:
    return Answer(False, "", detail)


def insteadof(lock: Lock) -> list[tuple[Mirror, str]]:
    """Each mirror with every spelling of its URL the compile stage routes to it (the rules
    of :func:`tritonlock.emit.sources.insteadof_script`)."""
    out = []
    for m in mirrors(lock):
        bare = m.url.rstrip("/")
        bare = bare[: -len(".git")] if bare.endswith(".git") else bare
        out += [(m, bare), (m, bare + ".git")]
    return out


FILE_ALLOWED = "protocol.file.allow always"


def submodules_allowed(lock: Lock) -> bool:
    """Whether the compile stage lets git fetch submodules from ``file://`` mirrors."""
    return FILE_ALLOWED in insteadof_script(lock)


def route(lock: Lock, url: str) -> Mirror | None:
    """The mirror git's ``insteadOf`` sends ``url`` to (the longest configured prefix wins,
    as in git), or None when no rule applies or the rewritten URL is not the mirror's."""
    best: tuple[Mirror, str] | None = None
    for m, form in insteadof(lock):
        if url.startswith(form) and (best is None or len(form) > len(best[1])):
            best = (m, form)
    if best is None or url[len(best[1]) :] not in ("", "/"):
        return None
    return best[0]


def clone_commit(m: Mirror, ref: str | None) -> str | None:
    """The commit a clone of mirror ``m`` checks out at ``ref`` (None: its HEAD), when a
    plain clone has it: a branch or tag of the mirror, or a commit one of them points at."""
    if ref is None or ref == "HEAD":
        return m.refs[sorted(m.refs)[0]] if m.refs else m.commits[0]
    if ref in m.refs:
        return m.refs[ref]
    if _HEX.match(ref):
        hits = {c for c in m.refs.values() if c.startswith(ref)}
        if not m.refs:
            hits |= {c for c in m.commits[:1] if c.startswith(ref)}
        if len(hits) == 1:
            return hits.pop()
    return None


def git_clone(lock: Lock, url: str, ref: str | None) -> Answer:
    """Whether cloning ``url`` at ``ref`` (branch, tag or commit; None for the default
    branch) gets a pinned commit from a mirror."""
    m = route(lock, url)
    if m is None:
        return _no(f"no mirror: {url} is not a pinned repository URL (as spelled)")
    commit = clone_commit(m, ref)
    if commit is None:
        return _no(f"the mirror of {m.url} has no ref {ref!r} (refs: {', '.join(sorted(m.refs))})")
    at = "its default branch" if ref is None else repr(ref)
    return Answer(True, "mirror", f"{mirror_url(m.url)} at {at} = {commit[:12]}")


def submodule(lock: Lock, url: str, commit: str) -> Answer:
    """Whether ``git submodule update`` (after a recursive clone, or ExternalProject's)
    gets ``commit`` of the submodule ``url`` from its mirror."""
    if not submodules_allowed(lock):
        return _no(
            "git (2.38.1 on) refuses file:// for submodules, and the compile stage does not "
            f"set {FILE_ALLOWED}"
        )
    m = route(lock, url)
    if m is None:
        return _no(f"no mirror: {url} is not a pinned repository URL (as spelled)")
    if commit not in m.commits:
        return _no(f"the mirror of {m.url} does not hold {commit[:12]}")
    return Answer(True, "mirror", f"{mirror_url(m.url)} holds {commit[:12]}")


def download(lock: Lock, url: str) -> Answer:
    """Whether the CMake hook swaps an ``ExternalProject_Add``/``FetchContent_Declare``
    ``URL`` argument equal to ``url`` for a pinned file."""
    for pin in compile_pins(lock):
        if pin.url == url:
            return Answer(True, "hook", f"{local_path(pin)} ({pin.sha256[:19]}…)")
    pinned = [u for u in lock.url if u.url == url]
    if pinned:
        return _no(f"pinned, but found in {', '.join(pinned[0].found_in)}, not a pinned repo")
    return _no(f"{url} is not pinned")


def wheelhouse(lock: Lock, recipe_files: Mapping[str, str]) -> dict[str, tuple[WheelPin, ...]]:
    """The compile's wheelhouse: each pip step it holds, with its wheels."""
    steps = compile_steps(lock, pip_step_names(recipe_files))
    return {s: tuple(w for w in lock.wheel if w.step == s) for s in steps}


def isolated_build(
    house: Mapping[str, tuple[WheelPin, ...]],
    repo: str,
    requires: Iterable[str],
    environment: Mapping[str, str] | None = None,
) -> Answer:
    """Whether an isolated ``python3 -m build`` of ``repo`` finds every one of ``requires``
    (its ``[build-system] requires``) in the wheelhouse step ``compile-<repo>-wheel``.
    A requirement whose marker is false in ``environment`` is not needed."""
    step = f"compile-{repo}-wheel"
    if step not in house:
        return _no(f"the lock has no wheel step {step}")
    wheels = {canonicalize_name(w.name): w for w in house[step]}
    missing = []
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            missing.append(f"{text} (not a requirement)")
            continue
        if req.marker is not None and not req.marker.evaluate(dict(environment or {})):
            continue
        got = wheels.get(canonicalize_name(req.name))
        if got is None or not req.specifier.contains(got.version, prereleases=True):
            missing.append(text if got is None else f"{text} (step has {got.version})")
    if missing:
        return _no(f"step {step} lacks {', '.join(missing)}")
    return Answer(True, "wheelhouse", f"step {step} ({len(wheels)} wheels)")


def pip_install(
    house: Mapping[str, tuple[WheelPin, ...]], steps: Iterable[str], what: str
) -> Answer:
    """Whether a pip run that the resolver planned as ``steps`` is served by the
    wheelhouse (``what`` names the run)."""
    names = tuple(steps)
    absent = [s for s in names if s not in house]
    if not names or absent:
        lacking = ", ".join(absent) if absent else "no pip step of the lock"
        return _no(f"{what}: the wheelhouse has {lacking}")
    return Answer(True, "wheelhouse", f"step {', '.join(names)}")
