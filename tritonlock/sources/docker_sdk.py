"""The Docker daemon's view of a tag (``images.get_registry_data``), to cross-check pins.

The daemon answers with the descriptor of what the tag names (the index/list digest,
or the manifest digest of a single-platform image) and the platforms it saw; it does
not name the per-platform child of an index, so it confirms ``index_digest`` (or
``digest``) and the platform, while the registry client resolves the child.
Quirks handled: a single OCI manifest reports ``Platforms: None`` (dockerd 20.10), and
``arm64`` without a variant means ``arm64/v8``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tritonlock.errors import ResolveError, UsageError
from tritonlock.model import ImagePin
from tritonlock.sources import dockerauth
from tritonlock.sources.imageref import apply_mirror, parse_image_ref, platform_of


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonView:
    ref: str  # what the daemon was asked for
    digest: str  # the descriptor's digest: index/list, or the single manifest
    media_type: str
    platforms: tuple[str, ...] | None  # None: the daemon did not say


def daemon_client(base_url: str | None = None, timeout: float = 30.0) -> Any | None:
    """A docker SDK client if a daemon answers (``DOCKER_HOST`` or ``base_url``), else None.

    The SDK is an optional dependency (``pip install 'tritonlock[docker]'``): without it,
    a one-line UsageError says so."""
    try:
        import docker
    except ImportError:
        raise UsageError(
            "the docker SDK is not installed; `pip install 'tritonlock[docker]'` to "
            "cross-check images with a local Docker daemon"
        ) from None
    try:
        client = (
            docker.DockerClient(base_url=base_url, timeout=int(timeout))
            if base_url
            else docker.from_env(timeout=int(timeout))
        )
        client.ping()
    except Exception:  # no SDK, no socket, daemon down: the daemon path is just not offered
        return None
    return client


def daemon_ref(ref: str, mirrors: Mapping[str, str] | None = None) -> str:
    """The name to hand the daemon: the ref itself, or its mirror location."""
    parsed = parse_image_ref(ref)
    host, repo = apply_mirror(parsed, mirrors or {})
    if host == parsed.registry:
        return ref
    name = f"{host}/{repo}"
    return f"{name}@{parsed.digest}" if parsed.digest else f"{name}:{parsed.tag}"


def registry_data(client: Any, ref: str, *, what: str | None = None) -> DaemonView:
    """``client.images.get_registry_data(ref)`` as a DaemonView; ResolveError on failure."""
    import docker.errors

    what = what or f"image {ref}"
    host = parse_image_ref(ref).registry
    creds = dockerauth.lookup(host)
    auth = {"username": creds.username, "password": creds.password} if creds else None
    try:
        data = client.images.get_registry_data(ref, auth_config=auth)
    except docker.errors.NotFound:
        raise ResolveError(f"{what}: the Docker daemon found no such image") from None
    except docker.errors.APIError as err:
        reason = (err.explanation or "").splitlines()[0] if err.explanation else "error"
        raise ResolveError(
            f"{what}: the Docker daemon could not ask the registry ({reason}); check credentials"
        ) from None
    descriptor = data.attrs.get("Descriptor") or {}
    platforms = data.attrs.get("Platforms")
    return DaemonView(
        ref=ref,
        digest=str(descriptor.get("digest") or data.id),
        media_type=str(descriptor.get("mediaType", "")),
        platforms=None
        if platforms is None
        else tuple(sorted({str(platform_of(p)) for p in platforms})),
    )


def cross_check(
    client: Any, pins: Sequence[ImagePin], *, mirrors: Sequence[tuple[str, str]] = ()
) -> tuple[str, ...]:
    """Compare each pin with the daemon's view; ResolveError when they disagree.

    Returns notes for what the daemon could not confirm (e.g. ``Platforms: None``).
    """
    mirror_map = dict(mirrors)
    notes: list[str] = []
    for pin in pins:
        view = registry_data(client, daemon_ref(pin.ref, mirror_map), what=f"image {pin.ref}")
        top = pin.index_digest or pin.digest
        if view.digest != top:
            raise ResolveError(
                f"image {pin.ref}: the registry API gave {top} but the Docker daemon says "
                f"{view.digest}; the tag may have moved during resolve, run it again"
            )
        if view.platforms is None:
            notes.append(f"image {pin.ref}: the Docker daemon does not list platforms")
        elif pin.platform not in view.platforms:
            raise ResolveError(
                f"image {pin.ref}: the Docker daemon lists {', '.join(view.platforms)}, "
                f"not {pin.platform}"
            )
    return tuple(notes)


__all__ = ["DaemonView", "cross_check", "daemon_client", "registry_data"]
