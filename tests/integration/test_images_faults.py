"""Registry faults through a fault-injecting proxy: retried where it makes sense, else one line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.faultproxy import Fault, FaultProxy, fault_proxy
from tests.fixtures.registry import RegistryWorld
from tritonlock.errors import ResolveError, SourceError
from tritonlock.model import ImagePin
from tritonlock.resolve.images import ImageRequest, resolve_images
from tritonlock.sources.retry import RetryPolicy

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, max_retry_after=0.05)


@pytest.fixture(name="proxy")
def proxy_fixture(registry_world: RegistryWorld) -> Iterator[FaultProxy]:
    with fault_proxy(f"http://{registry_world.plain}") as proxy:
        yield proxy


def _pin(proxy: FaultProxy, tag: str = "demo:multi-oci", **kw: object) -> ImagePin:
    kw.setdefault("retry", FAST)
    (pin,) = resolve_images(
        [ImageRequest(role="base", ref=f"{proxy.address}/{tag}")],
        platform="linux/arm64/v8",
        insecure_registries=[proxy.address],
        **kw,  # type: ignore[arg-type]
    ).pins
    return pin


def _error(proxy: FaultProxy, tag: str = "demo:multi-oci", **kw: object) -> str:
    with pytest.raises(ResolveError) as info:
        _pin(proxy, tag, **kw)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"image {proxy.address}/{tag}: ")
    return msg


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "wants authentication we cannot do"), (403, "denied access (403)"), (404, "(404)")],
)
def test_client_errors_are_not_retried(proxy: FaultProxy, status: int, words: str) -> None:
    proxy.add(Fault("/manifests/", "status", times=-1, status=status))
    assert words in _error(proxy)
    assert proxy.hits("/manifests/") == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_transient_statuses_are_retried(
    registry_world: RegistryWorld, proxy: FaultProxy, status: int
) -> None:
    proxy.add(Fault("/manifests/multi-oci", "status", times=2, status=status))
    pin = _pin(proxy)
    assert pin.index_digest == registry_world.expected["demo:multi-oci"].digest
    assert proxy.hits("/manifests/multi-oci") == 3


def test_retry_after_is_honoured_with_a_cap(proxy: FaultProxy) -> None:
    slept: list[float] = []
    proxy.add(Fault("/manifests/multi-oci", "status", status=429, headers={"Retry-After": "3"}))
    proxy.add(Fault("/manifests/sha256", "status", status=503, headers={"Retry-After": "999"}))
    policy = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, max_retry_after=10)
    _pin(proxy, retry=policy, sleep=slept.append)
    assert slept == [3.0, 10.0]


def test_persistent_5xx_gives_up_in_one_line(proxy: FaultProxy) -> None:
    proxy.add(Fault("/manifests/", "status", times=-1, status=503))
    msg = _error(proxy)
    assert f"registry {proxy.address} answered 503 (gave up after 3 attempts)" in msg
    assert proxy.hits("/manifests/") == 3


def test_truncated_body_is_retried(registry_world: RegistryWorld, proxy: FaultProxy) -> None:
    proxy.add(Fault("/manifests/sha256", "truncate", times=1))
    pin = _pin(proxy)
    assert pin.digest == registry_world.expected["demo:multi-oci"].children["linux/arm64/v8"]


def test_always_truncated_fails(proxy: FaultProxy) -> None:
    proxy.add(Fault("/manifests/", "truncate", times=-1))
    assert "truncated answer" in _error(proxy)


def test_wrong_content_type_is_refused(proxy: FaultProxy) -> None:
    proxy.add(Fault("/manifests/", "content-type", times=-1))
    with pytest.raises(SourceError, match="content type 'text/html'"):
        _pin(proxy)


def test_digest_header_mismatch_is_refused(proxy: FaultProxy) -> None:
    proxy.add(Fault("/manifests/multi-oci", "digest", times=-1))
    msg = _error(proxy)
    assert "Docker-Content-Digest sha256:000" in msg and "does not match" in msg
    assert proxy.hits("/manifests/") == 1


def test_altered_child_manifest_is_refused(proxy: FaultProxy) -> None:
    # The header still carries the true digest; the body was changed on the way.
    proxy.add(Fault("/manifests/sha256", "corrupt", times=-1))
    assert "does not match the sha256 of the bytes received" in _error(proxy)


def test_altered_config_blob_is_refused(proxy: FaultProxy) -> None:
    proxy.add(Fault("/blobs/", "corrupt", times=-1))
    assert "does not hash to its digest" in _error(proxy, "single:arm")


def test_slow_registry_times_out(proxy: FaultProxy) -> None:
    proxy.add(Fault("/manifests/", "slow", times=-1, delay=1.5))
    msg = _error(proxy, timeout=0.3, retry=RetryPolicy(attempts=2, base_delay=0.01))
    assert "timed out (gave up after 2 attempts)" in msg


def test_one_slow_answer_is_retried(registry_world: RegistryWorld, proxy: FaultProxy) -> None:
    proxy.add(Fault("/manifests/multi-oci", "slow", times=1, delay=1.5))
    pin = _pin(proxy, timeout=0.5)
    assert pin.index_digest == registry_world.expected["demo:multi-oci"].digest


def test_unreachable_registry(registry_world: RegistryWorld) -> None:
    with fault_proxy(f"http://{registry_world.plain}") as proxy:
        address = proxy.address
    with pytest.raises(ResolveError, match=r"connection failed \(ConnectError\)"):
        resolve_images(
            [ImageRequest(role="base", ref=f"{address}/demo:x")],
            platform="linux/amd64",
            insecure_registries=[address],
            retry=FAST,
        )
