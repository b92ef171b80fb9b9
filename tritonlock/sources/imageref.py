"""Pure parts of talking to registries: target platforms, index entries and registry
mirrors. A ref's text is read by :mod:`tritonlock.util.imageref` (re-exported here for the
registry clients)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tritonlock.errors import ResolveError, UsageError
from tritonlock.util.imageref import DIGEST_PATTERN as DIGEST_PATTERN
from tritonlock.util.imageref import DOCKER_HUB as DOCKER_HUB
from tritonlock.util.imageref import REF_PATTERN as REF_PATTERN
from tritonlock.util.imageref import ImageRef as ImageRef
from tritonlock.util.imageref import normalize_registry as normalize_registry
from tritonlock.util.imageref import parse_image_ref as parse_image_ref
from tritonlock.util.redact import redact

_HOST_PATTERN = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_DEFAULT_VARIANT = {"arm64": "v8"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)


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
