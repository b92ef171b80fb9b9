"""Frozen dataclasses of a lock, and their exact round trip to plain data.

``Lock.from_dict`` expects data that already passed the JSON Schema
(:mod:`tritonlock.lockfile.schema`); ``Lock.to_dict`` gives back exactly that data, in
canonical order, with optional fields left out when unset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NewType

from .errors import MissingPin
from .util.imageref import split_ref

LOCK_VERSION = 1
# Distinct kinds of identifier, so one cannot be passed where another is meant: a git
# commit id (40 hex digits), an image digest (``sha256:`` and 64 hex digits: the manifest
# or index a registry serves) and a file's sha256 (``sha256:`` and 64 hex digits of bytes).
Commit = NewType("Commit", str)
Digest = NewType("Digest", str)
Sha256 = NewType("Sha256", str)
# The kinds of pinned entry (``update --only KIND:NAME``, ``[[unresolved]]`` entries).
Kind = Literal["git", "wheel", "image", "url", "apt", "release", "recipe"]

Data = dict[str, Any]


def _opt(d: Data, key: str, value: Any) -> None:
    if value is not None and value != () and value != {}:
        d[key] = list(value) if isinstance(value, tuple) else value


def without_git_suffix(text: str) -> str:
    """``text`` (a URL or a path) without any trailing ``/`` or ``.git``: ``o/r.git/``,
    ``o/r/.git`` and ``o/r.git.git`` all give ``o/r``. Git servers and git itself try
    ``.git`` and ``/.git`` after a path, so every such spelling may name one repository;
    stripping one suffix only left ``o/r.git`` (from ``o/r.git.git``) routed like ``o/r``'s
    own ``.git`` spelling."""
    while True:
        bare = text.rstrip("/").removesuffix(".git")
        if bare == text:
            return text
        text = bare


def repo_key(url: str) -> str:
    """The repository a git URL names, as a relative folder name (its local mirror in the
    build is ``<key>.git``): ``https://GitHub.com/o/r.git`` → ``github.com/o/r`` (scheme
    dropped, host lowercased, a port as ``_port``, no trailing ``/`` or ``.git``, however many).
    Spellings of one repository that differ only so share one mirror, whose every ref
    ``verify`` holds to one commit; what else could make two repositories share a folder,
    or put one folder inside another, ``verify`` refuses (:mod:`tritonlock.resolve.repos`)."""
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    path = without_git_suffix(path)
    return host.lower().replace(":", "_") + ("/" + path if path else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """What was asked for, in build.py's vocabulary, and the time the package indexes were
    read as of (``exclude_newer``: a UTC time, ``now`` for none; older locks have none)."""

    release: str
    target: str
    backends: tuple[str, ...] = ()
    repoagents: tuple[str, ...] = ()
    caches: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    filesystems: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    images: tuple[tuple[str, str], ...] = ()
    exclude_newer: str | None = None

    @classmethod
    def from_dict(cls, d: Data) -> Inputs:
        return cls(
            release=d["release"],
            target=d["target"],
            backends=tuple(d.get("backends", ())),
            repoagents=tuple(d.get("repoagents", ())),
            caches=tuple(d.get("caches", ())),
            endpoints=tuple(d.get("endpoints", ())),
            filesystems=tuple(d.get("filesystems", ())),
            features=tuple(d.get("features", ())),
            images=tuple(sorted(d.get("images", {}).items())),
            exclude_newer=d.get("exclude-newer"),
        )

    def to_dict(self) -> Data:
        d: Data = {"release": self.release, "target": self.target}
        for key in ("backends", "repoagents", "caches", "endpoints", "filesystems", "features"):
            d[key] = list(getattr(self, key))
        _opt(d, "images", dict(self.images))
        _opt(d, "exclude-newer", self.exclude_newer)
        return d

    def backend_names(self) -> tuple[str, ...]:
        return tuple(b.split(":", 1)[0] for b in self.backends)


RELEASE_FIELDS = (
    "triton-version",
    "container-version",
    "upstream-container-version",
    "python",
    "cuda",
    "tensorrt",
    "vllm",
    "onnxruntime",
    "openvino",
    "dcgm",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """Release facts read from upstream (version map, compatibility table, images), and
    where each was read (``[[release-source]]``; locks before it have none)."""

    facts: tuple[tuple[str, str], ...] = ()
    sources: tuple[ReleaseSource, ...] = ()

    @classmethod
    def from_dict(cls, d: Data, sources: Sequence[Data] = ()) -> Release:
        return cls(
            facts=tuple(sorted(d.items())),
            sources=tuple(ReleaseSource.from_dict(s) for s in sources),
        )

    def to_dict(self) -> Data:
        """The ``[release]`` table: the facts only."""
        return dict(self.facts)

    def source(self, fact: str) -> ReleaseSource | None:
        return next((s for s in self.sources if s.fact == fact), None)

    def get(self, key: str) -> str | None:
        return dict(self.facts).get(key)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseSource:
    """Where one release fact was read (``build.py:81``) and, when it is doubtful, why
    (``not a tensorrt version …``, ``… compatibility.md:25 says 0.19.0+…``)."""

    fact: str
    source: str
    note: str | None = None

    @classmethod
    def from_dict(cls, d: Data) -> ReleaseSource:
        return cls(fact=d["fact"], source=d["source"], note=d.get("note"))

    def to_dict(self) -> Data:
        d: Data = {"fact": self.fact, "source": self.source}
        _opt(d, "note", self.note)
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipeFile:
    name: str
    sha256: Sha256


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipe:
    """What upstream's recipe was: the build.py options and a digest of each generated file."""

    options: tuple[str, ...] = ()
    files: tuple[RecipeFile, ...] = ()

    @classmethod
    def from_dict(cls, d: Data) -> Recipe:
        return cls(
            options=tuple(d.get("options", ())),
            files=tuple(RecipeFile(name=f["name"], sha256=f["sha256"]) for f in d.get("files", ())),
        )

    def to_dict(self) -> Data:
        return {
            "options": list(self.options),
            "files": [{"name": f.name, "sha256": f.sha256} for f in self.files],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Submodule:
    """A gitlink in a pinned tree; ``path`` is relative to the top repository (recursive)."""

    path: str
    url: str
    commit: Commit

    def to_dict(self) -> Data:
        return {"path": self.path, "url": self.url, "commit": self.commit}


@dataclass(frozen=True, slots=True, kw_only=True)
class GitPin:
    """A repository: canonical URL and requested ref beside the commit it resolved to."""

    name: str
    url: str
    ref: str
    commit: Commit
    found_in: tuple[str, ...] = ()
    committed: int | None = None
    submodules: tuple[Submodule, ...] = ()

    @classmethod
    def from_dict(cls, d: Data) -> GitPin:
        return cls(
            name=d["name"],
            url=d["url"],
            ref=d["ref"],
            commit=d["commit"],
            found_in=tuple(d.get("found-in", ())),
            committed=d.get("committed"),
            submodules=tuple(
                Submodule(path=s["path"], url=s["url"], commit=s["commit"])
                for s in d.get("submodules", ())
            ),
        )

    def to_dict(self) -> Data:
        d: Data = {"name": self.name, "url": self.url, "ref": self.ref, "commit": self.commit}
        _opt(d, "found-in", self.found_in)
        _opt(d, "committed", self.committed)
        if self.submodules:
            d["submodules"] = [s.to_dict() for s in self.submodules]
        return d

    def sort_key(self) -> tuple[str, str]:
        return (self.name, self.url)


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelFile:
    name: str
    sha256: Sha256
    size: int

    def to_dict(self) -> Data:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelPin:
    """One package of one install step, at one exact version, with every installable file."""

    step: str
    image: str
    name: str
    version: str
    index: str
    files: tuple[WheelFile, ...]
    requested: str | None = None
    sdist: bool = False

    @classmethod
    def from_dict(cls, d: Data) -> WheelPin:
        return cls(
            step=d["step"],
            image=d["image"],
            name=d["name"],
            version=d["version"],
            index=d["index"],
            requested=d.get("requested"),
            sdist=d.get("sdist", False),
            files=tuple(
                WheelFile(name=f["name"], sha256=f["sha256"], size=f["size"]) for f in d["files"]
            ),
        )

    def to_dict(self) -> Data:
        d: Data = {
            "step": self.step,
            "image": self.image,
            "name": self.name,
            "version": self.version,
            "index": self.index,
        }
        _opt(d, "requested", self.requested)
        if self.sdist:
            d["sdist"] = True
        d["files"] = [f.to_dict() for f in self.files]
        return d

    def sort_key(self) -> tuple[str, str]:
        return (self.step, self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """What one image has installed after its install steps ran, in the order they ran: a
    later step may upgrade or downgrade what an earlier one installed, as pip does."""

    image: str
    steps: tuple[str, ...]  # install order
    packages: tuple[str, ...]  # "name==version", the final environment

    @classmethod
    def from_dict(cls, d: Data) -> Environment:
        return cls(image=d["image"], steps=tuple(d["steps"]), packages=tuple(d["packages"]))

    def to_dict(self) -> Data:
        return {"image": self.image, "steps": list(self.steps), "packages": list(self.packages)}

    def sort_key(self) -> tuple[str]:
        return (self.image,)


def final_environment(steps: Sequence[str], wheels: Iterable[WheelPin]) -> dict[str, WheelPin]:
    """name → the pin installed last, walking ``steps`` in order (later steps win)."""
    order = {s: i for i, s in enumerate(steps)}
    mine = sorted((w for w in wheels if w.step in order), key=lambda w: order[w.step])
    return {w.name: w for w in mine}


def step_changes(
    steps: Sequence[str], wheels: Iterable[WheelPin]
) -> list[tuple[WheelPin, WheelPin]]:
    """(before, after) for each package a later step installs at another version."""
    order = {s: i for i, s in enumerate(steps)}
    installed: dict[str, WheelPin] = {}
    out = []
    for w in sorted((w for w in wheels if w.step in order), key=lambda w: order[w.step]):
        before = installed.get(w.name)
        if before is not None and before.version != w.version:
            out.append((before, w))
        installed[w.name] = w
    return out


def environments(
    wheels: Sequence[WheelPin], known: Sequence[Environment] = ()
) -> tuple[Environment, ...]:
    """The environment of each image: its steps in the order of ``known`` environments, then
    of first appearance in ``wheels`` (resolve lists a step's pins after the earlier steps')."""
    used = {w.step for w in wheels}
    steps: dict[str, list[str]] = {e.image: [s for s in e.steps if s in used] for e in known}
    for w in wheels:
        order = steps.setdefault(w.image, [])
        if w.step not in order:
            order.append(w.step)
    return tuple(
        Environment(
            image=image,
            steps=tuple(order),
            packages=tuple(
                sorted(f"{w.name}=={w.version}" for w in final_environment(order, wheels).values())
            ),
        )
        for image, order in sorted(steps.items())
        if order
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Index:
    """A Python package index by logical name; the URL only when it carries no secret."""

    name: str
    url: str | None = None

    def to_dict(self) -> Data:
        d: Data = {"name": self.name}
        _opt(d, "url", self.url)
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class ImagePin:
    """A base image: the ref as asked, the index digest and the target platform's manifest.
    ``copies``: the paths upstream's CMake copies out of it with ``docker cp`` (pytorch's
    libtorch), which the build copies from the pinned image; ``copies_found_in`` says where
    those commands are (``REPO:PATH:LINE``)."""

    role: str
    ref: str
    digest: Digest
    platform: str
    index_digest: Digest | None = None
    copies: tuple[str, ...] = ()
    copies_found_in: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: Data) -> ImagePin:
        return cls(
            role=d["role"],
            ref=d["ref"],
            digest=d["digest"],
            platform=d["platform"],
            index_digest=d.get("index-digest"),
            copies=tuple(d.get("copies", ())),
            copies_found_in=tuple(d.get("copies-found-in", ())),
        )

    def to_dict(self) -> Data:
        d: Data = {"role": self.role, "ref": self.ref}
        _opt(d, "index-digest", self.index_digest)
        d["digest"] = self.digest
        d["platform"] = self.platform
        _opt(d, "copies", self.copies)
        _opt(d, "copies-found-in", self.copies_found_in)
        return d

    def sort_key(self) -> tuple[str, str]:
        return (self.role, self.ref)

    def name(self) -> str:
        """The repository part of ``ref`` (no tag, no digest)."""
        return split_ref(self.ref)[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class UrlPin:
    """A download. ``fixed_output``: upstream declares its SHA256 (``URL_HASH``), which
    the lock records without fetching the bytes when locking, as a fixed-output input;
    such a pin has no ``size``."""

    url: str
    sha256: Sha256
    size: int | None = None
    found_in: tuple[str, ...] = ()
    fixed_output: bool = False

    @classmethod
    def from_dict(cls, d: Data) -> UrlPin:
        return cls(
            url=d["url"],
            sha256=d["sha256"],
            size=d.get("size"),
            found_in=tuple(d.get("found-in", ())),
            fixed_output=bool(d.get("fixed-output", False)),
        )

    def to_dict(self) -> Data:
        d: Data = {"url": self.url, "sha256": self.sha256}
        if self.size is not None:
            d["size"] = self.size
        if self.fixed_output:
            d["fixed-output"] = True
        _opt(d, "found-in", self.found_in)
        return d

    def sort_key(self) -> tuple[str]:
        return (self.url,)


@dataclass(frozen=True, slots=True, kw_only=True)
class AptPin:
    step: str
    name: str
    version: str

    def to_dict(self) -> Data:
        return {"step": self.step, "name": self.name, "version": self.version}

    def sort_key(self) -> tuple[str, str]:
        return (self.step, self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Apt:
    """Apt pins: a dated snapshot of the archive, exact package versions, or both."""

    snapshot: str | None = None
    packages: tuple[AptPin, ...] = ()

    @classmethod
    def from_dict(cls, d: Data) -> Apt:
        return cls(
            snapshot=d.get("snapshot"),
            packages=tuple(
                AptPin(step=p["step"], name=p["name"], version=p["version"])
                for p in d.get("packages", ())
            ),
        )

    def to_dict(self) -> Data:
        d: Data = {}
        _opt(d, "snapshot", self.snapshot)
        d["packages"] = [p.to_dict() for p in self.packages]
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class Unresolved:
    kind: Kind
    what: str
    why: str

    def to_dict(self) -> Data:
        return {"kind": self.kind, "what": self.what, "why": self.why}

    def sort_key(self) -> tuple[str, str]:
        return (self.kind, self.what)


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A whole lock. ``content_hash`` is what the file claims, not necessarily correct."""

    inputs: Inputs
    release: Release = field(default_factory=Release)
    recipe: Recipe | None = None
    git: tuple[GitPin, ...] = ()
    index: tuple[Index, ...] = ()
    wheel: tuple[WheelPin, ...] = ()
    environment: tuple[Environment, ...] = ()
    image: tuple[ImagePin, ...] = ()
    url: tuple[UrlPin, ...] = ()
    apt: Apt | None = None
    unresolved: tuple[Unresolved, ...] = ()
    content_hash: str | None = None
    lock_version: int = LOCK_VERSION

    @classmethod
    def from_dict(cls, d: Data) -> Lock:
        return cls(
            lock_version=d["lock-version"],
            content_hash=d.get("content-hash"),
            inputs=Inputs.from_dict(d["inputs"]),
            release=Release.from_dict(d.get("release", {}), d.get("release-source", ())),
            recipe=Recipe.from_dict(d["recipe"]) if "recipe" in d else None,
            git=tuple(GitPin.from_dict(g) for g in d.get("git", ())),
            index=tuple(Index(name=i["name"], url=i.get("url")) for i in d.get("index", ())),
            wheel=tuple(WheelPin.from_dict(w) for w in d.get("wheel", ())),
            environment=tuple(Environment.from_dict(e) for e in d.get("environment", ())),
            image=tuple(ImagePin.from_dict(i) for i in d.get("image", ())),
            url=tuple(UrlPin.from_dict(u) for u in d.get("url", ())),
            apt=Apt.from_dict(d["apt"]) if "apt" in d else None,
            unresolved=tuple(
                Unresolved(kind=u["kind"], what=u["what"], why=u["why"])
                for u in d.get("unresolved", ())
            ),
        )

    def to_dict(self, *, with_hash: bool = True) -> Data:
        """Plain data in canonical order; the content hash only when ``with_hash``."""
        d: Data = {"lock-version": self.lock_version}
        if with_hash and self.content_hash is not None:
            d["content-hash"] = self.content_hash
        d["inputs"] = self.inputs.to_dict()
        d["release"] = self.release.to_dict()
        if self.release.sources:
            d["release-source"] = [s.to_dict() for s in self.release.sources]
        if self.recipe is not None:
            d["recipe"] = self.recipe.to_dict()
        for key in ("git", "index", "wheel", "environment", "image", "url"):
            items = getattr(self, key)
            if items:
                d[key] = [i.to_dict() for i in items]
        if self.apt is not None:
            d["apt"] = self.apt.to_dict()
        if self.unresolved:
            d["unresolved"] = [u.to_dict() for u in self.unresolved]
        return d

    @property
    def partial(self) -> bool:
        return bool(self.unresolved)

    def server_pin(self) -> GitPin:
        """The pin of upstream's server repository, whose build.py the recipe comes from."""
        for g in self.git:
            if g.name == "server":
                return g
        raise MissingPin("git: the lock has no pin named 'server'; re-resolve the lock")

    def canonical(self) -> Lock:
        """The same lock with every list in canonical order."""
        from dataclasses import replace

        apt = self.apt
        if apt is not None:
            apt = replace(apt, packages=tuple(sorted(apt.packages, key=AptPin.sort_key)))
        return replace(
            self,
            inputs=replace(self.inputs, images=tuple(sorted(self.inputs.images))),
            release=replace(
                self.release,
                facts=tuple(sorted(self.release.facts)),
                sources=tuple(sorted(self.release.sources, key=lambda s: s.fact)),
            ),
            git=tuple(
                replace(g, submodules=tuple(sorted(g.submodules, key=lambda s: s.path)))
                for g in sorted(self.git, key=GitPin.sort_key)
            ),
            index=tuple(sorted(self.index, key=lambda i: i.name)),
            wheel=tuple(
                replace(w, files=tuple(sorted(w.files, key=lambda f: f.name)))
                for w in sorted(self.wheel, key=WheelPin.sort_key)
            ),
            environment=tuple(
                replace(e, packages=tuple(sorted(e.packages)))
                for e in sorted(self.environment, key=Environment.sort_key)
            ),
            recipe=(
                replace(self.recipe, files=tuple(sorted(self.recipe.files, key=lambda f: f.name)))
                if self.recipe is not None
                else None
            ),
            image=tuple(
                replace(im, copies=tuple(sorted(im.copies)))
                for im in sorted(self.image, key=ImagePin.sort_key)
            ),
            url=tuple(sorted(self.url, key=UrlPin.sort_key)),
            apt=apt,
            unresolved=tuple(sorted(self.unresolved, key=Unresolved.sort_key)),
        )
