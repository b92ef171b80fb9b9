"""Consistency and compatibility rules a lock must satisfy; each returns problems with paths.

These run at resolve time (so a bad combination is an error before anything is
written) and again in ``verify``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from ..model import Lock, WheelPin, final_environment, step_changes
from .repos import mirror_folders_apart, one_commit_per_ref

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

Rule = Callable[[Lock], list[str]]


def _dupes(keys: Iterable[tuple[int, object]], label: str, what: str) -> list[str]:
    seen: dict[object, int] = {}
    out = []
    for i, key in keys:
        if key in seen:
            out.append(f"{label}[{i}]: duplicate {what} {key!r} (first at {label}[{seen[key]}])")
        else:
            seen[key] = i
    return out


def unique_entries(lock: Lock) -> list[str]:
    out = _dupes(((i, g.name) for i, g in enumerate(lock.git)), "git", "name")
    for i, g in enumerate(lock.git):
        out += _dupes(
            ((j, s.path) for j, s in enumerate(g.submodules)), f"git[{i}].submodules", "path"
        )
    out += _dupes(((i, (w.step, w.name)) for i, w in enumerate(lock.wheel)), "wheel", "step/name")
    out += _dupes(((i, im.role) for i, im in enumerate(lock.image)), "image", "role")
    out += _dupes(((i, e.image) for i, e in enumerate(lock.environment)), "environment", "image")
    out += _dupes(((i, u.url) for i, u in enumerate(lock.url)), "url", "url")
    out += _dupes(((i, x.name) for i, x in enumerate(lock.index)), "index", "name")
    if lock.apt:
        out += _dupes(
            ((i, (p.step, p.name)) for i, p in enumerate(lock.apt.packages)),
            "apt.packages",
            "step/name",
        )
    for i, w in enumerate(lock.wheel):
        out += _dupes(((j, f.name) for j, f in enumerate(w.files)), f"wheel[{i}].files", "file")
    sources = lock.release.sources
    out += _dupes(((i, s.fact) for i, s in enumerate(sources)), "release-source", "fact")
    facts = dict(lock.release.facts)
    out += [
        f"release-source[{i}].fact: {s.fact!r} is not a fact in [release]"
        for i, s in enumerate(sources)
        if s.fact not in facts
    ]
    return out


def wheel_indexes_known(lock: Lock) -> list[str]:
    names = {x.name for x in lock.index}
    return [
        f"wheel[{i}].index: {w.index!r} is not declared in [[index]]"
        for i, w in enumerate(lock.wheel)
        if w.index not in names
    ]


def index_urls_credential_free(lock: Lock) -> list[str]:
    """An index URL is in a lock only as resolve records it: with no credential in it
    (:func:`tritonlock.util.redact.credential_free`). The URL itself is not repeated."""
    out = []
    for i, x in enumerate(lock.index):
        url = x.url or ""
        cheap = "?" in url or "#" in url or "@" in url or any(len(s) >= 16 for s in url.split("/"))
        if not cheap:  # redact's patterns cost `verify` start-up; most URLs never need them
            continue
        from ..util.redact import credential_free

        if not credential_free(url):
            out.append(
                f"index[{i}].url: looks like it carries a credential (user info, a query, a "
                "fragment or a token-shaped path segment); a lock holds only credential-free "
                "index URLs: give credentials through the pip-conf secret and re-resolve"
            )
    return out


def wheel_files_match(lock: Lock) -> list[str]:
    """Every file belongs to the pinned version; sdists only where the lock says so."""
    out = []
    for i, w in enumerate(lock.wheel):
        for j, f in enumerate(w.files):
            path = f"wheel[{i}].files[{j}].name"
            if f.name.endswith(".whl"):
                parts = f.name[:-4].split("-")
                if len(parts) < 5 or _norm(parts[0]) != w.name or not _same_version(parts[1], w):
                    out.append(f"{path}: {f.name!r} is not a wheel of {w.name} {w.version}")
            elif not w.sdist:
                out.append(f"{path}: {f.name!r} is an sdist, but sdist is not allowed for {w.name}")
            elif not _sdist_of(f.name, w):
                out.append(f"{path}: {f.name!r} is not an sdist of {w.name} {w.version}")
    return out


def _sdist_of(filename: str, w: WheelPin) -> bool:
    from packaging.utils import InvalidSdistFilename, parse_sdist_filename  # rare: sdists

    try:
        name, version = parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidVersion):
        return False
    return name == w.name and version == _parse_version(w.version)


def _norm(name: str) -> str:
    return name.replace("_", "-").replace(".", "-").lower()


def _same_version(spelled: str, pin: WheelPin) -> bool:
    """A wheel file name may spell the version differently (``1.0_post1``, ``1.0.post1``)."""
    if spelled == pin.version.replace("-", "_"):
        return True
    a, b = _parse_version(spelled.replace("_", "-")), _parse_version(pin.version)
    return a is not None and a == b


def _parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def one_version_per_image(lock: Lock) -> list[str]:
    """An image without a recorded [[environment]] (a lock made before install order was
    recorded) has one version of a package across all its install steps."""
    ordered = {e.image for e in lock.environment}
    seen: dict[tuple[str, str], tuple[int, WheelPin]] = {}
    out = []
    for i, w in enumerate(lock.wheel):
        key = (w.image, w.name)
        if w.image in ordered:
            continue
        if key in seen and seen[key][1].version != w.version:
            j, other = seen[key]
            out.append(
                f"wheel[{i}].version: {w.name} {w.version} in step {w.step!r} differs from "
                f"{other.version} in step {other.step!r} (wheel[{j}]) of the same image {w.image!r}"
            )
        seen.setdefault(key, (i, w))
    return out


def environments_match(lock: Lock) -> list[str]:
    """Each [[environment]] lists exactly its image's steps, and its packages are what those
    steps leave installed in that order (a later step's pin replaces an earlier one's)."""
    images: dict[str, str] = {}
    for w in lock.wheel:
        images.setdefault(w.step, w.image)
    out = []
    listed: dict[str, str] = {}
    for i, e in enumerate(lock.environment):
        for step in e.steps:
            if step in listed and listed[step] != e.image:
                out.append(
                    f"environment[{i}].steps: step {step!r} is also in image {listed[step]!r}"
                )
            listed[step] = e.image
            if images.get(step) != e.image:
                where = f"image {images[step]!r}" if step in images else "no [[wheel]]"
                out.append(
                    f"environment[{i}].steps: step {step!r} installs into {where}, not {e.image!r}"
                )
        mine = [s for s, image in images.items() if image == e.image]
        missing = sorted(set(mine) - set(e.steps))
        if missing:
            out.append(f"environment[{i}].steps: lacks step {', '.join(map(repr, missing))}")
        final = final_environment(e.steps, lock.wheel).values()
        derived = sorted(f"{w.name}=={w.version}" for w in final)
        if list(e.packages) != derived:
            extra = sorted(set(e.packages) - set(derived))
            lacking = sorted(set(derived) - set(e.packages))
            what = (
                "; ".join(
                    (
                        [f"lists {', '.join(extra[:3])} which its steps do not leave installed"]
                        if extra
                        else []
                    )
                    + ([f"lacks {', '.join(lacking[:3])}"] if lacking else [])
                )
                or "packages are not sorted"
            )
            out.append(f"environment[{i}].packages: {what}")
    return out


def step_notes(lock: Lock) -> list[str]:
    """Each package a later install step moves to another version, in words (not a problem:
    pip does the same; a reviewer should still see it)."""
    out = []
    for e in lock.environment:
        for before, after in step_changes(e.steps, lock.wheel):
            out.append(
                f"{after.name} {before.version} → {after.version} in step {after.step} "
                f"(image {e.image}; {before.version} from step {before.step})"
            )
    return out


def step_order(lock: Lock, image: str) -> dict[str, int]:
    """Install order of ``image``'s steps (all 0 for a lock that does not record it)."""
    for e in lock.environment:
        if e.image == image:
            return {s: n for n, s in enumerate(e.steps)}
    return {}


def numpy_below_2(lock: Lock) -> list[str]:
    """Where a step of an image asks for numpy<2, neither it nor any later step of that image
    may install numpy>=2 (an earlier one may: the capping step downgrades it, as pip does)."""
    capped: dict[str, tuple[int, str]] = {}  # image → (order, step) of its first cap
    for w in lock.wheel:
        if w.name == "numpy" and w.requested and _caps_below_2(w.requested):
            n = step_order(lock, w.image).get(w.step, 0)
            if w.image not in capped or n < capped[w.image][0]:
                capped[w.image] = (n, w.step)
    out = []
    for i, w in enumerate(lock.wheel):
        v = _parse_version(w.version) if w.name == "numpy" else None
        if v is None or w.image not in capped or v.major < 2:
            continue
        n, step = capped[w.image]
        if step_order(lock, w.image).get(w.step, 0) >= n:
            out.append(
                f"wheel[{i}].version: numpy {w.version} in step {w.step!r} lifts the numpy<2 that "
                f"step {step!r} of image {w.image!r} holds (the python backend breaks with NumPy 2)"
            )
    return out


def held_caps(installed: Iterable[WheelPin]) -> list[tuple[str, str]]:
    """Caps that later install steps of an image must keep, with the reason, from the pins its
    earlier steps installed: today numpy<2 once a step asked for it (the python backend)."""
    return [
        (
            "numpy<2",
            f"step {w.step!r} asks for {w.requested} and the python backend breaks with NumPy 2",
        )
        for w in installed
        if w.name == "numpy" and w.requested and _caps_below_2(w.requested)
    ][:1]


def _caps_below_2(requested: str) -> bool:
    specifier = _specifier(requested)
    if specifier is None:
        return False
    return not specifier.contains("2.0.0", prereleases=True) and specifier.contains("1.26.4")


# `name[extras] specifier ; marker`: the name and extras, then the specifier (maybe in
# parentheses) up to a marker. A direct reference (`name @ url`) carries no specifier.
_REQUIREMENT_HEAD = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*")


def _specifier(requested: str) -> SpecifierSet | None:
    """The version specifier of a requirement string, or None when it has none or is invalid.

    packaging.specifiers alone (6 ms) where it can: packaging.requirements costs `verify`
    20 ms of start-up for its tokenizer. Anything the cut does not recognise goes to it."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    head = _REQUIREMENT_HEAD.match(requested)
    rest = requested[head.end() if head else 0 :].split(";", 1)[0].strip()
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1]
    if head and "@" not in rest:
        try:
            return SpecifierSet(rest)
        except InvalidSpecifier:
            pass
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(requested).specifier
    except InvalidRequirement:
        return None


# torch minor → torchvision minor, for torch 2.x: torchvision 0.(minor + 15), torchaudio 2.minor.
def torch_family(lock: Lock) -> list[str]:
    """torch, torchvision and torchaudio of one image come from one release family."""
    by_image: dict[str, dict[str, tuple[int, Version]]] = defaultdict(dict)
    for i, w in enumerate(lock.wheel):
        if w.name in ("torch", "torchvision", "torchaudio"):
            v = _parse_version(w.version)
            if v is not None:
                by_image[w.image][w.name] = (i, v)
    out = []
    for image, pins in sorted(by_image.items()):
        if "torch" not in pins:
            continue
        _, torch = pins["torch"]
        expected = {
            "torchvision": (0, torch.minor + 15) if torch.major == 2 else None,
            "torchaudio": (torch.major, torch.minor),
        }
        for name in ("torchvision", "torchaudio"):
            if name not in pins or expected[name] is None:
                continue
            i, v = pins[name]
            if (v.major, v.minor) != expected[name]:
                want = ".".join(map(str, expected[name] or ()))
                out.append(
                    f"wheel[{i}].version: {name} {v} does not belong to torch {torch} in image "
                    f"{image!r} (expected {name} {want}.*); mixing them gives "
                    "'operator torchvision::nms does not exist'"
                )
    return out


def inputs_covered(lock: Lock) -> list[str]:
    """Each backend, repo agent and cache asked for has a git pin (else the lock is stale)."""
    if lock.partial:
        return []
    names = {g.name for g in lock.git}
    wanted = [f"{b}_backend" for b in lock.inputs.backend_names() if b != "ensemble"]
    wanted += [f"{r.split(':', 1)[0]}_repository_agent" for r in lock.inputs.repoagents]
    wanted += [f"{c.split(':', 1)[0]}_cache" for c in lock.inputs.caches]
    if lock.git:
        wanted.append("server")
    return [
        f"git: no pin for {name!r}, which the inputs ask for; the lock is stale, "
        "run `tritonlock update`"
        for name in wanted
        if name not in names
    ]


def partial(lock: Lock) -> list[str]:
    return [
        f"unresolved[{i}]: partial lock: {u.kind} {u.what!r} is not pinned ({u.why})"
        for i, u in enumerate(lock.unresolved)
    ]


RULES: tuple[Rule, ...] = (
    unique_entries,
    one_commit_per_ref,
    mirror_folders_apart,
    wheel_indexes_known,
    index_urls_credential_free,
    wheel_files_match,
    one_version_per_image,
    environments_match,
    numpy_below_2,
    torch_family,
    inputs_covered,
    partial,
)


def check(lock: Lock) -> list[str]:
    out: list[str] = []
    for rule in RULES:
        out += rule(lock)
    return out
