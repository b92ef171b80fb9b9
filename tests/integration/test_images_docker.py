"""The Docker daemon path (images.get_registry_data) agrees with the registry API path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.registry import RegistryWorld
from tritonlock.errors import ResolveError
from tritonlock.model import Digest, ImagePin
from tritonlock.resolve.images import ImageRequest, resolve_images
from tritonlock.sources.docker_sdk import cross_check, daemon_client, daemon_ref, registry_data
from tritonlock.sources.imageref import parse_registry_mirror

pytestmark = pytest.mark.integration
TAGS = ["single:v1", "single:arm", "demo:multi-oci", "demo:multi-docker"]


@pytest.fixture(name="client")
def client_fixture(private_dockerd: str) -> Any:
    client = daemon_client(private_dockerd)
    assert client is not None
    return client


def _pins(world: RegistryWorld, platform: str, tags: list[str]) -> tuple[ImagePin, ...]:
    return resolve_images(
        [ImageRequest(role=f"r{i}", ref=f"{world.plain}/{t}") for i, t in enumerate(tags)],
        platform=platform,
        insecure_registries=[world.plain],
    ).pins


def test_no_daemon_means_no_docker_path(tmp_path: Any) -> None:
    assert daemon_client(f"unix://{tmp_path}/nothing.sock") is None


@pytest.mark.parametrize("tag", TAGS)
def test_daemon_view_matches_skopeo(registry_world: RegistryWorld, client: Any, tag: str) -> None:
    view = registry_data(client, f"{registry_world.plain}/{tag}")
    expected = registry_world.expected[tag]
    assert view.digest == expected.digest
    assert view.media_type == expected.media_type
    if tag == "single:arm":
        assert view.platforms is None  # dockerd 20.10 quirk for a single OCI manifest
    elif tag == "single:v1":
        assert view.platforms == ("linux/amd64",)
    else:
        assert view.platforms == ("linux/amd64", "linux/arm64/v8")


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64/v8"])
def test_both_paths_agree(registry_world: RegistryWorld, client: Any, platform: str) -> None:
    tags = ["single:v1" if platform == "linux/amd64" else "single:arm", *TAGS[2:]]
    pins = _pins(registry_world, platform, tags)
    notes = cross_check(client, pins)
    assert notes == (
        ()
        if platform == "linux/amd64"
        else (
            f"image {registry_world.plain}/single:arm: the Docker daemon does not list platforms",
        )
    )


def test_disagreement_is_an_error(registry_world: RegistryWorld, client: Any) -> None:
    (pin,) = _pins(registry_world, "linux/amd64", ["demo:multi-oci"])
    other = registry_world.expected["demo:multi-docker"].digest
    moved = ImagePin(
        role=pin.role,
        ref=pin.ref,
        digest=pin.digest,
        platform=pin.platform,
        index_digest=Digest(other),
    )
    with pytest.raises(ResolveError, match="the Docker daemon says"):
        cross_check(client, [moved])
    wrong_platform = ImagePin(
        role="x",
        ref=pin.ref,
        digest=pin.digest,
        platform="linux/s390x",
        index_digest=pin.index_digest,
    )
    with pytest.raises(ResolveError, match="lists linux/amd64, linux/arm64/v8, not linux/s390x"):
        cross_check(client, [wrong_platform])


def test_mirror_is_asked_through_the_daemon_too(registry_world: RegistryWorld, client: Any) -> None:
    # a tag of its own: the registry is the session's, and the resolve world serves 25.04-py3-min
    registry_world.copy("demo:multi-docker", "nvidia/tritonserver:daemon-mirror")
    mirrors = [parse_registry_mirror(f"nvcr.io={registry_world.plain}")]
    ref = "nvcr.io/nvidia/tritonserver:daemon-mirror"
    assert (
        daemon_ref(ref, dict(mirrors))
        == f"{registry_world.plain}/nvidia/tritonserver:daemon-mirror"
    )
    (pin,) = resolve_images(
        [ImageRequest(role="base", ref=ref)],
        platform="linux/arm64",
        mirrors=mirrors,
        insecure_registries=[registry_world.plain],
    ).pins
    assert pin.ref == ref
    assert cross_check(client, [pin], mirrors=mirrors) == ()


def test_resolve_images_cross_checks_with_a_daemon(
    registry_world: RegistryWorld, client: Any
) -> None:
    res = resolve_images(
        [ImageRequest(role="base", ref=f"{registry_world.plain}/single:arm")],
        platform="linux/arm64/v8",
        insecure_registries=[registry_world.plain],
        daemon=client,
    )
    assert res.pins[0].digest == registry_world.expected["single:arm"].digest
    assert res.notes == (
        f"image {registry_world.plain}/single:arm: the Docker daemon does not list platforms",
    )


def test_unknown_tag_through_the_daemon(registry_world: RegistryWorld, client: Any) -> None:
    with pytest.raises(ResolveError, match="the Docker daemon found no such image"):
        registry_data(client, f"{registry_world.plain}/demo:nope")
