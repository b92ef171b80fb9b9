"""Pure parsing of image references, target platforms and registry mirrors.

A ref is kept exactly as asked in the lock; :func:`parse_image_ref` only works out
where it lives (``ubuntu:24.04`` → ``registry-1.docker.io``, ``library/ubuntu``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tritonlock.errors import ResolveError, UsageError
from tritonlock.util.redact import redact

# The lock schema's pattern for image refs (schemas/triton-lock.schema.json).
REF_PATTERN = re.compile(
    r"^[a-z0-9][a-z0-9._-]*(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)
DIGEST_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")
_HOST_PATTERN = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")

DOCKER_HUB = "registry-1.docker.io"
_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
_DEFAULT_VARIANT = {"arm64": "v8"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRef:
    """Where an image lives: registry host, repository path, and tag and/or digest."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when given, else the tag."""
        return self.digest or self.tag or "latest"


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)


def normalize_registry(host: str) -> str:
    """Docker Hub's aliases all mean ``registry-1.docker.io``; other hosts are lowercased."""
    host = host.lower()
    return DOCKER_HUB if host in _HUB_ALIASES else host


def parse_image_ref(ref: str) -> ImageRef:
    """Split a ref as the lock schema allows it; UsageError for anything else."""
    if not REF_PATTERN.match(ref):
        raise UsageError(
            f"image ref {ref!r} is not valid: use [REGISTRY[:PORT]/]REPO[:TAG][@sha256:DIGEST] "
            "with a lowercase repository"
        )
    name, _, digest = ref.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = name[colon + 1 :] if colon > slash else None
    if tag is not None:
        name = name[:colon]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = normalize_registry(first), rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return ImageRef(
        registry=registry,
        repository=repository,
        tag=tag if tag or digest else "latest",
        digest=digest or None,
    )


def parse_platform(spec: str) -> Platform:
    """``linux/amd64``, ``linux/arm64`` (= ``linux/arm64/v8``) or ``OS/ARCH/VARIANT``."""
    parts = spec.strip().lower().split("/")
    if len(parts) not in (2, 3) or not all(re.fullmatch(r"[a-z0-9_]+", p) for p in parts):
        raise UsageError(f"platform {spec!r} is not valid: use OS/ARCH[/VARIANT], e.g. linux/amd64")
    variant = parts[2] if len(parts) == 3 else _DEFAULT_VARIANT.get(parts[1])
    return Platform(os=parts[0], architecture=parts[1], variant=variant)


def platform_of(data: Mapping[str, Any]) -> Platform:
    """The platform of an index entry's ``platform`` object or of an image config."""
    arch = str(data.get("architecture", "unknown"))
    variant = data.get("variant") or _DEFAULT_VARIANT.get(arch)
    os_name = str(data.get("os", "unknown"))
    return Platform(os=os_name, architecture=arch, variant=str(variant) if variant else None)


def matches(target: Platform, found: Platform) -> bool:
    return (found.os, found.architecture, found.variant) == (
        target.os,
        target.architecture,
        target.variant,
    )


def select_manifest(entries: Sequence[Mapping[str, Any]], target: Platform, what: str) -> str:
    """The digest of the index entry for ``target``; ResolveError listing what there is."""
    usable = [e for e in entries if isinstance(e.get("platform"), Mapping)]
    for entry in usable:
        if matches(target, platform_of(entry["platform"])):
            digest = str(entry.get("digest", ""))
            if not DIGEST_PATTERN.match(digest):
                raise ResolveError(f"{what}: the index entry for {target} has no sha256 digest")
            return digest
    raise no_platform_error(what, target, [platform_of(e["platform"]) for e in usable])


def no_platform_error(what: str, target: Platform, found: Sequence[Platform]) -> ResolveError:
    have = sorted({str(p) for p in found if p.os != "unknown"}) or ["none"]
    return ResolveError(
        f"{what}: no manifest for {target}; it has {', '.join(have)}; "
        "pick another tag or --platform"
    )


def parse_registry_mirror(spec: str) -> tuple[str, str]:
    """``REGISTRY=MIRROR[/PREFIX]`` → (normalized registry, mirror); UsageError if malformed."""
    registry, sep, mirror = spec.partition("=")
    registry, mirror = registry.strip(), mirror.strip().rstrip("/")
    mirror_host, _, prefix = mirror.partition("/")
    ok = (
        sep
        and _HOST_PATTERN.match(registry)
        and _HOST_PATTERN.match(mirror_host)
        and "@" not in spec
        and (not prefix or re.fullmatch(r"[a-z0-9][a-z0-9._/-]*", prefix))
    )
    if not ok:
        raise UsageError(
            f"--registry-mirror {redact(spec)!r} is not valid: use REGISTRY=MIRROR[/PREFIX], "
            "e.g. nvcr.io=mirror.example.com:5000/nvcr (no credentials)"
        )
    return normalize_registry(registry), mirror.lower()


def apply_mirror(ref: ImageRef, mirrors: Mapping[str, str]) -> tuple[str, str]:
    """(host, repository) to ask, after ``--registry-mirror``; the ref itself never changes."""
    mirror = mirrors.get(ref.registry)
    if mirror is None:
        return ref.registry, ref.repository
    host, _, prefix = mirror.partition("/")
    return normalize_registry(host), f"{prefix}/{ref.repository}" if prefix else ref.repository
