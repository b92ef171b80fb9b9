"""Images against a real docker-registry on 127.0.0.1: digests agree with skopeo's."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tests.fixtures.faultproxy import BearerAuth, fault_proxy
from tests.fixtures.registry import PASSWORD, USER, RegistryWorld
from tritonlock.errors import ResolveError
from tritonlock.lockfile import seal, validate_data
from tritonlock.resolve.images import ImageRequest, ImageResolution, resolve_images
from tritonlock.sources.imageref import parse_registry_mirror
from tritonlock.sources.retry import RetryPolicy

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, max_retry_after=0.02)


def _resolve(
    world: RegistryWorld, *refs: str, platform: str = "linux/amd64", **kw: object
) -> ImageResolution:
    kw.setdefault("insecure_registries", [world.plain])
    return resolve_images(
        [ImageRequest(role=f"r{i}", ref=ref) for i, ref in enumerate(refs)],
        platform=platform,
        retry=FAST,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64/v8"])
@pytest.mark.parametrize("tag", ["demo:multi-oci", "demo:multi-docker"])
def test_index_and_list_give_index_and_platform_digests(
    registry_world: RegistryWorld, tag: str, platform: str
) -> None:
    expected = registry_world.expected[tag]
    (pin,) = _resolve(registry_world, f"{registry_world.plain}/{tag}", platform=platform).pins
    assert pin.index_digest == expected.digest
    assert pin.digest == expected.children[platform]
    assert pin.platform == platform
    assert pin.ref == f"{registry_world.plain}/{tag}"


@pytest.mark.parametrize(
    ("tag", "platform"), [("single:v1", "linux/amd64"), ("single:arm", "linux/arm64")]
)
def test_single_manifest_has_no_index_digest(
    registry_world: RegistryWorld, tag: str, platform: str
) -> None:
    (pin,) = _resolve(registry_world, f"{registry_world.plain}/{tag}", platform=platform).pins
    assert pin.digest == registry_world.expected[tag].digest
    assert pin.index_digest is None
    assert pin.platform == ("linux/arm64/v8" if "arm" in platform else platform)


def test_pins_satisfy_the_lock_schema(registry_world: RegistryWorld) -> None:
    from tritonlock.model import Inputs, Lock

    res = _resolve(
        registry_world,
        f"{registry_world.plain}/demo:multi-oci",
        f"{registry_world.plain}/single:v1",
    )
    lock = Lock(inputs=Inputs(release="25.04", target="cpu"), image=res.pins)
    validate_data(seal(lock).to_dict())


def test_digest_ref_and_shared_ref_across_roles(registry_world: RegistryWorld) -> None:
    index = registry_world.expected["demo:multi-oci"].digest
    by_digest = f"{registry_world.plain}/demo@{index}"
    tagged = f"{registry_world.plain}/demo:multi-oci"
    pins = _resolve(registry_world, by_digest, tagged, tagged, platform="linux/arm64").pins
    assert [p.role for p in pins] == ["r0", "r1", "r2"]
    assert {p.digest for p in pins} == {
        registry_world.expected["demo:multi-oci"].children["linux/arm64/v8"]
    }
    assert pins[0].ref == by_digest and pins[0].index_digest == index


def test_missing_platform_lists_what_the_tag_has(registry_world: RegistryWorld) -> None:
    ref = f"{registry_world.plain}/demo:amd64-only"
    with pytest.raises(ResolveError) as info:
        _resolve(registry_world, ref, platform="linux/arm64/v8")
    assert str(info.value) == (
        f"image {ref}: no manifest for linux/arm64/v8; it has linux/amd64; "
        "pick another tag or --platform"
    )
    with pytest.raises(ResolveError, match="no manifest for linux/arm64/v8; it has linux/amd64"):
        _resolve(registry_world, f"{registry_world.plain}/single:v1", platform="linux/arm64")


def test_unknown_tag_is_one_line_404(registry_world: RegistryWorld) -> None:
    with pytest.raises(ResolveError, match=r"demo:nope: not found on 127\.0\.0\.1:\d+ \(404\)"):
        _resolve(registry_world, f"{registry_world.plain}/demo:nope")


def test_mirror_changes_where_not_what(registry_world: RegistryWorld) -> None:
    registry_world.copy("demo:multi-oci", "mirror/library/ubuntu:24.04")
    registry_world.copy("demo:multi-docker", "mirror/nvidia/tritonserver:25.04-py3-min")
    with fault_proxy(f"http://{registry_world.plain}") as proxy:
        mirrors = [
            parse_registry_mirror(f"docker.io={proxy.address}/mirror"),
            parse_registry_mirror(f"nvcr.io={proxy.address}/mirror"),
        ]
        res = _resolve(
            registry_world,
            "ubuntu:24.04",
            "nvcr.io/nvidia/tritonserver:25.04-py3-min",
            mirrors=mirrors,
            insecure_registries=[proxy.address],
        )
        assert proxy.hits("/v2/mirror/library/ubuntu/manifests/24.04") == 1
        assert proxy.hits("/v2/mirror/nvidia/tritonserver/manifests/25.04-py3-min") == 1
    assert [p.ref for p in res.pins] == [
        "ubuntu:24.04",
        "nvcr.io/nvidia/tritonserver:25.04-py3-min",
    ]
    assert res.pins[0].index_digest == registry_world.expected["demo:multi-oci"].digest
    assert res.pins[1].index_digest == registry_world.expected["demo:multi-docker"].digest


def test_rebuilt_under_the_same_tag_is_reported(registry_world: RegistryWorld) -> None:
    ref = f"{registry_world.plain}/moving:1"
    registry_world.copy("demo:multi-oci", "moving:1")
    first = _resolve(registry_world, ref)
    assert _resolve(registry_world, ref, previous=first.pins).notes == ()
    registry_world.copy("demo:multi-docker", "moving:1")
    second = _resolve(registry_world, ref, previous=first.pins)
    (note,) = second.notes
    assert f"image {ref} was rebuilt under the same tag" in note
    assert registry_world.expected["demo:multi-docker"].digest in note
    assert registry_world.expected["demo:multi-oci"].digest in note
    assert second.pins[0].ref == ref


def _write_docker_config(home: Path, host: str, user: str, password: str) -> None:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (home / ".docker").mkdir(exist_ok=True)
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def test_basic_auth_over_tls_with_docker_config(
    registry_world: RegistryWorld, isolated_env: Path
) -> None:
    ref = f"{registry_world.tls}/demo:multi-oci"
    with pytest.raises(ResolveError) as info:
        _resolve(registry_world, ref, ca_file=registry_world.ca)
    assert "needs credentials (401)" in str(info.value)
    _write_docker_config(isolated_env, registry_world.tls, USER, "wrong-pw")
    with pytest.raises(ResolveError, match="rejected the credentials") as info:
        _resolve(registry_world, ref, ca_file=registry_world.ca)
    assert "wrong-pw" not in str(info.value)
    _write_docker_config(isolated_env, registry_world.tls, USER, PASSWORD)
    (pin,) = _resolve(registry_world, ref, ca_file=registry_world.ca).pins
    assert pin.index_digest == registry_world.expected["demo:multi-oci"].digest
    assert pin.digest == registry_world.expected["demo:multi-oci"].children["linux/amd64"]


def test_tls_without_the_ca_fails_without_retrying(registry_world: RegistryWorld) -> None:
    with pytest.raises(ResolveError, match="TLS certificate not trusted"):
        _resolve(registry_world, f"{registry_world.tls}/demo:multi-oci")


def test_bearer_token_anonymous(registry_world: RegistryWorld) -> None:
    with fault_proxy(f"http://{registry_world.plain}", BearerAuth()) as proxy:
        ref = f"{proxy.address}/demo:multi-docker"
        (pin,) = _resolve(registry_world, ref, insecure_registries=[proxy.address]).pins
        assert pin.index_digest == registry_world.expected["demo:multi-docker"].digest
        assert proxy.hits("/token") == 1  # one token, reused for index and child
        assert [s.auth for s in proxy.seen if "/manifests/" in s.path] == ["", "Bearer", "Bearer"]


def test_bearer_token_with_credentials_from_env(registry_world: RegistryWorld) -> None:
    bearer = BearerAuth(username="robot", password="tok-pw")
    with fault_proxy(f"http://{registry_world.plain}", bearer) as proxy:
        ref = f"{proxy.address}/single:arm"
        with pytest.raises(ResolveError) as info:
            _resolve(
                registry_world, ref, platform="linux/arm64", insecure_registries=[proxy.address]
            )
        assert "refused anonymous access (401)" in str(info.value)
        assert "TRITONLOCK_REGISTRY_AUTH_127_0_0_1_" in str(info.value)
        os.environ[
            "TRITONLOCK_REGISTRY_AUTH_" + proxy.address.replace(".", "_").replace(":", "_")
        ] = "robot:tok-pw"
        (pin,) = _resolve(
            registry_world, ref, platform="linux/arm64", insecure_registries=[proxy.address]
        ).pins
        assert pin.digest == registry_world.expected["single:arm"].digest
        assert any(s.path.startswith("/token") and s.auth == "Basic" for s in proxy.seen)


def test_identity_token_from_docker_login_is_exchanged_for_an_access_token(
    registry_world: RegistryWorld, isolated_env: Path
) -> None:
    """`docker login` to ACR-style registries stores an OAuth2 refresh token
    (``identitytoken``): it is exchanged with the refresh-token grant, never sent as Basic."""
    refresh = "tlk-refresh-5c1e9a7b"
    bearer = BearerAuth(refresh_token=refresh)
    with fault_proxy(f"http://{registry_world.plain}", bearer) as proxy:
        (isolated_env / ".docker").mkdir()
        (isolated_env / ".docker" / "config.json").write_text(
            json.dumps({"auths": {proxy.address: {"auth": "", "identitytoken": refresh}}})
        )
        ref = f"{proxy.address}/demo:multi-docker"
        (pin,) = _resolve(registry_world, ref, insecure_registries=[proxy.address]).pins
        assert pin.index_digest == registry_world.expected["demo:multi-docker"].digest
        assert [s.method for s in proxy.seen if s.path.startswith("/token")] == ["POST"]
        assert all(s.auth != "Basic" for s in proxy.seen)
        (isolated_env / ".docker" / "config.json").write_text(
            json.dumps({"auths": {proxy.address: {"identitytoken": "revoked"}}})
        )
        with pytest.raises(ResolveError) as info:
            _resolve(
                registry_world, f"{proxy.address}/single:v1", insecure_registries=[proxy.address]
            )
        assert "refused the credentials (401)" in str(info.value)
        assert "revoked" not in str(info.value)


def test_progress_reports_each_image(registry_world: RegistryWorld) -> None:
    lines: list[str] = []
    _resolve(registry_world, f"{registry_world.plain}/single:v1", progress=lines.append)
    assert lines == [
        f"{registry_world.plain}/single:v1 → {registry_world.expected['single:v1'].digest}"
    ]


def test_basic_auth_with_a_credential_helper(
    registry_world: RegistryWorld, isolated_env: Path
) -> None:
    bindir = isolated_env / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-testhelper"
    secret = json.dumps({"ServerURL": registry_world.tls, "Username": USER, "Secret": PASSWORD})
    helper.write_text(f"#!/bin/sh\nread server\necho '{secret}'\n")
    helper.chmod(0o755)
    os.environ["PATH"] = f"{bindir}:{os.environ['PATH']}"
    (isolated_env / ".docker").mkdir()
    (isolated_env / ".docker" / "config.json").write_text(
        json.dumps({"credHelpers": {registry_world.tls: "testhelper"}})
    )
    lines: list[str] = []
    (pin,) = _resolve(
        registry_world,
        f"{registry_world.tls}/demo:multi-oci",
        platform="linux/arm64",
        ca_file=registry_world.ca,
        progress=lines.append,
    ).pins
    assert pin.digest == registry_world.expected["demo:multi-oci"].children["linux/arm64/v8"]
    assert PASSWORD not in repr(pin) and PASSWORD not in "".join(lines)
