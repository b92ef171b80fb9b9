"""Package URLs (purl) of a lock's pins, built here rather than with a library so that the
emitted build's provenance needs no optional dependency (pure: strings in, strings out).

The forms follow the purl specification's types: ``pkg:github/OWNER/REPO@COMMIT`` for a
github.com repository, ``pkg:generic/NAME@COMMIT?vcs_url=git+URL@COMMIT`` for any other,
``pkg:pypi/NAME@VERSION?file_name=…`` for a wheel or sdist file,
``pkg:oci/NAME@sha256:…?arch=…&repository_url=…&tag=…`` for an image,
``pkg:generic/NAME?checksum=sha256:…&download_url=…`` for a download and
``pkg:deb/ubuntu/NAME@VERSION?arch=…`` for an apt package. Names, versions and qualifier
values are percent-encoded as packageurl-python writes them (``:`` stays; ``/`` stays only
in qualifier values), qualifiers sorted by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name

from ..model import ImagePin, without_git_suffix
from ..sources.imageref import DOCKER_HUB, parse_image_ref

# The Debian architecture of an OCI platform's architecture.
_ARCH = {"amd64": "amd64", "arm64": "arm64", "arm": "armhf", "ppc64le": "ppc64el"}


def purl(
    kind: str,
    name: str,
    *,
    namespace: tuple[str, ...] = (),
    version: str | None = None,
    qualifiers: Mapping[str, str] | None = None,
) -> str:
    """``pkg:KIND/NAMESPACE…/NAME@VERSION?QUALIFIERS``, every part encoded."""
    path = "/".join(_segment(s) for s in (*namespace, name))
    out = f"pkg:{kind}/{path}"
    if version:
        out += "@" + _segment(version)
    pairs = sorted((k, v) for k, v in (qualifiers or {}).items() if v)
    if pairs:
        out += "?" + "&".join(f"{k}={quote(v, safe=':/')}" for k, v in pairs)
    return out


def _segment(text: str) -> str:
    return quote(text, safe=":")


def git(url: str, commit: str) -> str:
    """A repository at a commit: ``pkg:github`` for github.com, else ``pkg:generic``."""
    parts = urlsplit(url)
    path = [p for p in without_git_suffix(parts.path).split("/") if p]
    if (parts.hostname or "").lower() == "github.com" and len(path) == 2:
        owner, repo = (p.lower() for p in path)
        return purl("github", repo, namespace=(owner,), version=commit)
    name = path[-1] if path else (parts.hostname or "repository")
    return purl("generic", name, version=commit, qualifiers={"vcs_url": f"git+{url}@{commit}"})


def wheel(name: str, version: str, filename: str, index_url: str | None = None) -> str:
    """A wheel or sdist file of ``name`` at ``version``; ``index_url`` unless it is PyPI."""
    qualifiers = {"file_name": filename}
    if index_url and not _is_pypi(index_url):
        qualifiers["repository_url"] = index_url
    return purl("pypi", str(canonicalize_name(name)), version=version, qualifiers=qualifiers)


def _is_pypi(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in ("pypi.org", "pypi.python.org")


def image(pin: ImagePin) -> str:
    """The target platform's manifest of a pinned image, by digest."""
    ref = parse_image_ref(pin.ref)
    registry = "docker.io" if ref.registry == DOCKER_HUB else ref.registry
    qualifiers = {
        "repository_url": f"{registry}/{ref.repository}",
        "arch": architecture(pin.platform),
        "tag": ref.tag or "",
    }
    name = ref.repository.rsplit("/", 1)[-1]
    return purl("oci", name, version=pin.digest, qualifiers=qualifiers)


def architecture(platform: str) -> str:
    """``linux/arm64/v8`` → ``arm64``."""
    parts = platform.split("/")
    return parts[1] if len(parts) > 1 else platform


def deb_architecture(platform: str) -> str:
    """The Debian architecture of an OCI platform (``linux/arm64/v8`` → ``arm64``)."""
    arch = architecture(platform)
    return _ARCH.get(arch, arch)


def download(url: str, sha256: str) -> str:
    """A downloaded file, by its URL and sha256 (``sha256:…``)."""
    return purl(
        "generic",
        file_name(url),
        qualifiers={"download_url": url, "checksum": sha256},
    )


def file_name(url: str) -> str:
    """The last path segment of ``url`` (decoded), or its host when the path has none."""
    parts = urlsplit(url)
    last = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return last or parts.hostname or "download"


def deb(name: str, version: str, arch: str | None) -> str:
    """An Ubuntu package at its exact version."""
    return purl(
        "deb", name, namespace=("ubuntu",), version=version, qualifiers={"arch": arch or ""}
    )
