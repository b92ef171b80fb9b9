"""Base images: tag → index digest and the target platform's manifest digest.

``resolve_images`` asks the registry (or its ``--registry-mirror``) over the OCI
distribution API, checks every digest against the bytes received, and returns pins
whose ``ref`` is always the ref as asked. Nothing is written.
"""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tritonlock.errors import SourceError, UsageError
from tritonlock.model import Digest, ImagePin
from tritonlock.sources import docker_sdk, dockerauth
from tritonlock.sources.imageref import (
    ImageRef,
    Platform,
    apply_mirror,
    matches,
    no_platform_error,
    normalize_registry,
    parse_image_ref,
    parse_platform,
    platform_of,
    select_manifest,
)
from tritonlock.sources.imageref import parse_registry_mirror as parse_registry_mirror
from tritonlock.sources.registry import Manifest, Registry
from tritonlock.sources.retry import DEFAULT_POLICY, RetryPolicy

__all__ = [
    "ImageRequest",
    "ImageResolution",
    "parse_registry_mirror",
    "rebuilt_notes",
    "resolve_images",
]


_ROLE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRequest:
    role: str  # e.g. "base", "gpu-base", "pytorch"
    ref: str  # as asked, e.g. nvcr.io/nvidia/tritonserver:25.04-py3-min


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageResolution:
    pins: tuple[ImagePin, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Resolved:
    digest: Digest
    index_digest: Digest | None


def resolve_images(
    requests: Sequence[ImageRequest],
    *,
    platform: str,
    mirrors: Sequence[tuple[str, str]] = (),
    previous: Sequence[ImagePin] = (),
    insecure_registries: Sequence[str] = (),
    ca_file: Path | None = None,
    jobs: int = 4,
    timeout: float = 30.0,
    progress: Callable[[str], None] | None = None,
    retry: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    daemon: Any | None = None,
) -> ImageResolution:
    """Pin each requested image for ``platform``; notes say which tags were rebuilt.

    ``daemon``: a docker SDK client (:func:`docker_sdk.daemon_client`) to cross-check every
    pin with ``images.get_registry_data``; a disagreement is a ResolveError.
    """
    target = parse_platform(platform)
    parsed = _parse_requests(requests)
    mirror_map = {normalize_registry(k): v.lower() for k, v in mirrors}
    with httpx.Client(verify=tls_context(ca_file), timeout=timeout) as http:
        registry = Registry(
            http,
            credentials=lambda host: dockerauth.lookup(host),
            insecure=frozenset(insecure_registries),
            policy=retry,
            sleep=sleep,
        )

        def one(ref: str) -> _Resolved:
            where = apply_mirror(parsed[ref], mirror_map)
            via = f" (via {where[0]})" if where[0] != parsed[ref].registry else ""
            what = f"image {ref}{via}"
            found = _resolve_one(registry, parsed[ref], where, target, what)
            if progress:
                progress(f"{ref} → {found.digest}")
            return found

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = dict(zip(parsed, pool.map(one, parsed), strict=True))
    pins = tuple(
        ImagePin(
            role=req.role,
            ref=req.ref,
            digest=results[req.ref].digest,
            platform=str(target),
            index_digest=results[req.ref].index_digest,
        )
        for req in requests
    )
    notes = rebuilt_notes(pins, previous)
    if daemon is not None:
        notes += docker_sdk.cross_check(daemon, pins, mirrors=mirrors)
    return ImageResolution(pins=pins, notes=notes)


def _parse_requests(requests: Sequence[ImageRequest]) -> dict[str, ImageRef]:
    """Each distinct ref, parsed; UsageError for a bad role or ref before any network."""
    for req in requests:
        if not _ROLE.match(req.role):
            raise UsageError(f"image role {req.role!r} is not valid: use [a-z0-9][a-z0-9_-]*")
    return {req.ref: parse_image_ref(req.ref) for req in requests}


def tls_context(ca_file: Path | None) -> ssl.SSLContext | bool:
    """httpx's ``verify`` for registries: the system store, or an extra CA bundle."""
    if ca_file is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError):
        raise UsageError(f"CA file {ca_file} is not a readable PEM certificate file") from None


def _resolve_one(
    registry: Registry, ref: ImageRef, where: tuple[str, str], target: Platform, what: str
) -> _Resolved:
    host, repo = where
    top = registry.manifest(host, repo, ref.reference, what=what)
    if not top.is_index:
        _check_single_platform(registry, where, top, target, what)
        return _Resolved(digest=Digest(top.digest), index_digest=None)
    try:
        entries = top.data().get("manifests") or []
    except ValueError:
        raise SourceError(f"{what}: index {top.digest} is not JSON") from None
    child_digest = select_manifest(entries, target, what)
    child = registry.manifest(host, repo, child_digest, what=what)
    if child.is_index:
        raise SourceError(f"{what}: the {target} entry of {top.digest} is itself an index")
    return _Resolved(digest=Digest(child.digest), index_digest=Digest(top.digest))


def _check_single_platform(
    registry: Registry, where: tuple[str, str], manifest: Manifest, target: Platform, what: str
) -> None:
    """A single manifest has no platform list: read its config blob's os/architecture."""
    try:
        config = manifest.data()["config"]
        config_digest = str(config["digest"])
    except (ValueError, KeyError, TypeError):
        raise SourceError(f"{what}: manifest {manifest.digest} has no config") from None
    blob = registry.blob(*where, config_digest, what=what)
    try:
        found = platform_of(json.loads(blob))
    except (ValueError, AttributeError):
        raise SourceError(f"{what}: image config {config_digest} is not JSON") from None
    if not matches(target, found):
        raise no_platform_error(what, target, [found])


def rebuilt_notes(pins: Sequence[ImagePin], previous: Sequence[ImagePin]) -> tuple[str, ...]:
    """One note per ref whose tag now names other content than in ``previous``."""
    old = {(p.ref, p.platform): p for p in previous}
    notes: list[str] = []
    seen: set[tuple[str, str]] = set()
    for pin in pins:
        key = (pin.ref, pin.platform)
        before = old.get(key)
        if before is None or key in seen or "@" in pin.ref:
            continue
        seen.add(key)
        now_id, was_id = pin.index_digest or pin.digest, before.index_digest or before.digest
        if (pin.digest, pin.index_digest) != (before.digest, before.index_digest):
            notes.append(
                f"image {pin.ref} was rebuilt under the same tag: it now points at {now_id} "
                f"(was {was_id}); {pin.platform} manifest {pin.digest} (was {before.digest})"
            )
    return tuple(notes)
