"""Every pin of a lock as one list of parts with a dependency graph, the common ground of the
SBOM formats (pure: a lock in, data out).

One part per git pin (at its commit), submodule, wheel or sdist file, image (the target
platform's manifest), download and apt package, each with its purl and sha256 where the
lock has one. The graph follows where the build installs each part:

- the build (the image ``tritonlock build`` makes) depends on every image and on the
  ``tritonlock-sources`` step (the emitted build's stage that fetches sources);
- an image depends on the install steps that run in it: a pip step names its image in the
  lock (a pinned image's role, such as ``base``, or an image the build makes, such as
  ``buildbase``); an apt step runs where the pip steps of its stage run (``final`` where
  ``final-…`` pip steps run), else in an image named after its stage;
- a pip step depends on its wheel files, an apt step on its packages, the
  ``tritonlock-sources`` step on every git pin and download, and a git pin on its submodules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..model import GitPin, ImagePin, Lock, Submodule, UrlPin, WheelFile, WheelPin
from ..upstream.targets import TARGETS
from . import purl

Kind = Literal["build", "image", "step", "git", "submodule", "wheel", "download", "apt"]
SOURCES_STEP = "tritonlock-sources"  # the emitted build's stage that fetches them


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One node of the graph. ``ref`` is unique in an inventory (``git:server``,
    ``wheel:final-numpy:numpy-1.26.4-….whl``); ``sha256`` is bare hex; ``url`` is where
    the bytes come from (a repository or a download), when the lock says."""

    ref: str
    kind: Kind
    name: str
    version: str | None = None
    purl: str | None = None
    sha256: str | None = None
    url: str | None = None
    description: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    depends: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """The build (``root``) and every other part, in a stable order."""

    root: Part
    parts: tuple[Part, ...]
    content_hash: str
    release: str
    target: str
    unresolved: tuple[str, ...] = ()  # "KIND WHAT" of each input a partial lock lacks


def inventory(lock: Lock) -> Inventory:
    """The parts of ``lock`` and how they depend on each other (see the module docstring)."""
    steps: dict[str, list[str]] = defaultdict(list)  # step -> the refs it installs
    step_image: dict[str, str] = {}
    parts = _wheel_parts(lock, steps, step_image) + _apt_parts(lock, steps, step_image)
    parts += _source_parts(lock, steps[SOURCES_STEP])
    parts += [_step(name, refs) for name, refs in sorted(steps.items()) if refs]
    images = _images(lock.image, step_image)
    parts += images
    top = [i.ref for i in images] + ([f"step:{SOURCES_STEP}"] if steps[SOURCES_STEP] else [])
    root = Part(
        ref="build",
        kind="build",
        name="tritonserver",
        version=lock.release.get("triton-version") or lock.inputs.release,
        description=f"Triton Inference Server {lock.inputs.release} for target "
        f"{lock.inputs.target}, built by `tritonlock build` from this lock",
        properties=(("tritonlock:release", lock.inputs.release),),
        depends=tuple(sorted(top)),
    )
    return Inventory(
        root=root,
        parts=tuple(sorted(parts, key=lambda p: p.ref)),
        content_hash=lock.content_hash or "",
        release=lock.inputs.release,
        target=lock.inputs.target,
        unresolved=tuple(f"{u.kind} {u.what}" for u in lock.unresolved),
    )


def _wheel_parts(lock: Lock, steps: dict[str, list[str]], step_image: dict[str, str]) -> list[Part]:
    """A part per wheel or sdist file, listed under its step; each step's image noted."""
    indexes = {i.name: i.url for i in lock.index}
    out = []
    for w in lock.wheel:
        step_image[w.step] = w.image
        for f in w.files:
            out.append(_wheel(w, f, indexes.get(w.index)))
            steps[w.step].append(out[-1].ref)
    return out


def _apt_parts(lock: Lock, steps: dict[str, list[str]], step_image: dict[str, str]) -> list[Part]:
    """A part per apt package, listed under its step; each step's image noted."""
    target = TARGETS.get(lock.inputs.target)
    out = []
    for a in lock.apt.packages if lock.apt else ():
        step_image.setdefault(a.step, _apt_image(a.step, lock.wheel))
        out.append(
            Part(
                ref=f"apt:{a.step}:{a.name}",
                kind="apt",
                name=a.name,
                version=a.version,
                purl=purl.deb(a.name, a.version, target.deb_arch if target else None),
                description=f"apt package installed by step {a.step}",
                properties=(("tritonlock:step", a.step),),
            )
        )
        steps[a.step].append(out[-1].ref)
    return out


def _source_parts(lock: Lock, sources: list[str]) -> list[Part]:
    """A part per git pin, submodule and download; the pins and downloads listed in
    ``sources`` (a submodule hangs off its repository)."""
    out = []
    for g in lock.git:
        subs = [_submodule(g, s) for s in g.submodules]
        out += [_git(g, [s.ref for s in subs]), *subs]
        sources.append(f"git:{g.name}")
    for u in lock.url:
        out.append(_download(u))
        sources.append(out[-1].ref)
    return out


def _hex(sha256: str) -> str:
    return sha256.removeprefix("sha256:")


def _wheel(w: WheelPin, f: WheelFile, index_url: str | None) -> Part:
    return Part(
        ref=f"wheel:{w.step}:{f.name}",
        kind="wheel",
        name=w.name,
        version=w.version,
        purl=purl.wheel(w.name, w.version, f.name, index_url),
        sha256=_hex(f.sha256),
        description=f"{f.name} ({f.size} bytes) from index {w.index!r}, step {w.step}",
        properties=tuple(
            p
            for p in (
                ("tritonlock:step", w.step),
                ("tritonlock:index", w.index),
                ("tritonlock:file", f.name),
                ("tritonlock:requested", w.requested or ""),
            )
            if p[1]
        ),
    )


def _git(g: GitPin, subs: Sequence[str]) -> Part:
    return Part(
        ref=f"git:{g.name}",
        kind="git",
        name=g.name,
        version=g.commit,
        purl=purl.git(g.url, g.commit),
        url=g.url,
        description=f"git repository {g.url} at {g.ref} ({g.commit})",
        properties=(("tritonlock:ref", g.ref),),
        depends=tuple(sorted(subs)),
    )


def _submodule(g: GitPin, s: Submodule) -> Part:
    return Part(
        ref=f"submodule:{g.name}:{s.path}",
        kind="submodule",
        name=purl.file_name(s.url).removesuffix(".git"),
        version=s.commit,
        purl=purl.git(s.url, s.commit),
        url=s.url,
        description=f"submodule {s.path} of {g.name}: {s.url} at {s.commit}",
        properties=(("tritonlock:path", s.path),),
    )


def _download(u: UrlPin) -> Part:
    props = [("tritonlock:fixed-output", "true")] if u.fixed_output else []
    return Part(
        ref=f"url:{u.url}",
        kind="download",
        name=purl.file_name(u.url),
        purl=purl.download(u.url, u.sha256),
        sha256=_hex(u.sha256),
        url=u.url,
        description=f"download {u.url}",
        properties=tuple(props),
    )


def _step(name: str, refs: Iterable[str]) -> Part:
    what = (
        "the build's stage that fetches every git repository and download"
        if name == SOURCES_STEP
        else f"install step {name!r} of the build"
    )
    return Part(
        ref=f"step:{name}",
        kind="step",
        name=name,
        description=what,
        depends=tuple(sorted(set(refs))),
    )


def _images(pins: Sequence[ImagePin], step_image: dict[str, str]) -> list[Part]:
    """A part per pinned image and per image the steps name that the lock does not pin (one
    the build makes, such as ``buildbase``), each depending on the steps that run in it."""
    runs: dict[str, list[str]] = defaultdict(list)
    for step, role in step_image.items():
        runs[role].append(f"step:{step}")
    out = []
    for pin in pins:
        out.append(
            Part(
                ref=f"image:{pin.role}",
                kind="image",
                name=pin.name(),
                version=pin.digest,
                purl=purl.image(pin),
                sha256=_hex(pin.digest),
                description=f"image {pin.ref} ({pin.platform}), role {pin.role}",
                properties=tuple(
                    p
                    for p in (
                        ("tritonlock:role", pin.role),
                        ("tritonlock:platform", pin.platform),
                        ("tritonlock:index-digest", pin.index_digest or ""),
                    )
                    if p[1]
                ),
                depends=tuple(sorted(runs.pop(pin.role, []))),
            )
        )
    for role, steps in sorted(runs.items()):
        out.append(
            Part(
                ref=f"image:{role}",
                kind="image",
                name=role,
                description=f"image {role!r} that the build makes (not pinned: built from "
                "upstream's recipe)",
                properties=(("tritonlock:role", role),),
                depends=tuple(sorted(steps)),
            )
        )
    return out


def _apt_image(step: str, wheels: Sequence[WheelPin]) -> str:
    """The image an apt step runs in: where the pip steps of its stage run, if they agree,
    else one named after its stage."""
    stage = step.split("-", 1)[0]
    found = {w.image for w in wheels if w.step.split("-", 1)[0] == stage}
    return found.pop() if len(found) == 1 else stage
