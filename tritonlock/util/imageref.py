"""The one reading of an image reference's text, shared by every stage.

:func:`split_ref` cuts ``[HOST[:PORT]/]REPO[:TAG][@DIGEST]`` as written;
:func:`parse_image_ref` validates it against the lock schema's pattern and works out where
it lives (``ubuntu:24.04`` → ``registry-1.docker.io``, ``library/ubuntu``);
:func:`normalize_ref` spells a ref the way BuildKit and Docker compare them
(``ubuntu:24.04`` → ``docker.io/library/ubuntu:24.04``). A ref is kept exactly as asked in
the lock; these only read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tritonlock.errors import UsageError

# The lock schema's pattern for image refs (schemas/triton-lock.schema.json).
REF_PATTERN = re.compile(
    r"^[a-z0-9][a-z0-9._-]*(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)
DIGEST_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")

DOCKER_HUB = "registry-1.docker.io"
_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)


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


def split_ref(ref: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of ``ref`` as written: ``a/b:c@sha256:…`` → ``a/b``, ``c``,
    ``sha256:…``; no tag or digest → None. Never raises (a Dockerfile's FROM may hold
    anything)."""
    name, at, digest = ref.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = name[colon + 1 :] if colon > slash else None
    return (name[:colon] if tag is not None else name), tag, (digest if at else None)


def _host(name: str) -> tuple[str | None, str]:
    """(registry host as written, or None for Docker Hub's default; the path after it)."""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, name


def normalize_registry(host: str) -> str:
    """Docker Hub's aliases all mean ``registry-1.docker.io``; other hosts are lowercased."""
    host = host.lower()
    return DOCKER_HUB if host in _HUB_ALIASES else host


def normalize_ref(ref: str) -> str:
    """``ubuntu:24.04`` and ``docker.io/library/ubuntu:24.04`` are the same image: the
    ref with Docker Hub's default host and ``library/`` spelled out, else unchanged."""
    host, path = _host(ref)
    if host is None:
        host = "docker.io"
    if host == "docker.io" and "/" not in path:
        path = f"library/{path}"
    return f"{host}/{path}"


def parse_image_ref(ref: str) -> ImageRef:
    """Split a ref as the lock schema allows it; UsageError for anything else."""
    if not REF_PATTERN.match(ref):
        raise UsageError(
            f"image ref {ref!r} is not valid: use [REGISTRY[:PORT]/]REPO[:TAG][@sha256:DIGEST] "
            "with a lowercase repository"
        )
    name, tag, digest = split_ref(ref)
    host, repository = _host(name)
    registry = DOCKER_HUB if host is None else normalize_registry(host)
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return ImageRef(
        registry=registry,
        repository=repository,
        tag=tag if tag or digest else "latest",
        digest=digest or None,
    )
