"""Pure parts of image resolution: refs, platforms, index entry selection, mirrors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.errors import ResolveError, UsageError
from tritonlock.model import Digest, ImagePin
from tritonlock.sources.imageref import (
    DOCKER_HUB,
    REF_PATTERN,
    ImageRef,
    Platform,
    apply_mirror,
    parse_image_ref,
    parse_platform,
    parse_registry_mirror,
    select_manifest,
)
from tritonlock.util.imageref import normalize_ref, split_ref

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("ref", "registry", "repository", "tag", "digest"),
    [
        ("ubuntu:24.04", DOCKER_HUB, "library/ubuntu", "24.04", None),
        ("ubuntu", DOCKER_HUB, "library/ubuntu", "latest", None),
        ("docker.io/library/ubuntu:24.04", DOCKER_HUB, "library/ubuntu", "24.04", None),
        ("index.docker.io/nvidia/cuda:12.8.1-base", DOCKER_HUB, "nvidia/cuda", "12.8.1-base", None),
        ("nvidia/cuda:12.8.1", DOCKER_HUB, "nvidia/cuda", "12.8.1", None),
        (
            "nvcr.io/nvidia/tritonserver:25.04-py3-min",
            "nvcr.io",
            "nvidia/tritonserver",
            "25.04-py3-min",
            None,
        ),
        ("127.0.0.1:5000/demo:multi", "127.0.0.1:5000", "demo", "multi", None),
        ("localhost/a/b:c", "localhost", "a/b", "c", None),
        (f"nvcr.io/nvidia/pytorch@{D}", "nvcr.io", "nvidia/pytorch", None, D),
        (f"nvcr.io/nvidia/pytorch:25.04-py3@{D}", "nvcr.io", "nvidia/pytorch", "25.04-py3", D),
    ],
)
def test_parse_image_ref(
    ref: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    assert parse_image_ref(ref) == ImageRef(
        registry=registry, repository=repository, tag=tag, digest=digest
    )


def test_reference_prefers_digest() -> None:
    assert parse_image_ref(f"a/b:c@{D}").reference == D
    assert parse_image_ref("a/b:c").reference == "c"


@pytest.mark.parametrize(
    "ref",
    ["Ubuntu:24.04", "nvcr.io/NVIDIA/x:1", "-x:1", "a b", "user:pw@host/x:1", "x@sha256:12", ""],
)
def test_parse_image_ref_rejects(ref: str) -> None:
    with pytest.raises(UsageError, match="not valid"):
        parse_image_ref(ref)


_component = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,8}", fullmatch=True)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True)


@given(
    host=st.sampled_from(["nvcr.io", "127.0.0.1:5000", "ghcr.io", "localhost"]),
    path=st.lists(_component, min_size=1, max_size=3),
    tag=_tag,
)
def test_parse_round_trips_registry_repo_tag(host: str, path: list[str], tag: str) -> None:
    ref = f"{host}/{'/'.join(path)}:{tag}"
    assert REF_PATTERN.match(ref)
    parsed = parse_image_ref(ref)
    assert f"{parsed.registry}/{parsed.repository}:{parsed.tag}" == ref


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("linux/amd64", Platform(os="linux", architecture="amd64")),
        ("linux/arm64", Platform(os="linux", architecture="arm64", variant="v8")),
        ("linux/arm64/v8", Platform(os="linux", architecture="arm64", variant="v8")),
        ("Linux/ARM/v7", Platform(os="linux", architecture="arm", variant="v7")),
    ],
)
def test_parse_platform(spec: str, expected: Platform) -> None:
    assert parse_platform(spec) == expected


def test_platform_str_and_bad_platform() -> None:
    assert str(parse_platform("linux/arm64")) == "linux/arm64/v8"
    assert re.fullmatch(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$", str(parse_platform("linux/amd64")))
    for bad in ("linux", "linux/amd64/v2/x", "linux/a md64"):
        with pytest.raises(UsageError):
            parse_platform(bad)


def _entry(digest_byte: str, **platform: str) -> dict[str, object]:
    return {"digest": "sha256:" + digest_byte * 64, "platform": platform}


ENTRIES = [
    _entry("1", os="linux", architecture="amd64"),
    _entry("2", os="linux", architecture="arm64", variant="v8"),
    _entry("3", os="unknown", architecture="unknown"),  # an attestation manifest
    _entry("4", os="linux", architecture="arm", variant="v7"),
]


def test_select_manifest_by_platform() -> None:
    assert select_manifest(ENTRIES, parse_platform("linux/amd64"), "x") == "sha256:" + "1" * 64
    assert select_manifest(ENTRIES, parse_platform("linux/arm64"), "x") == "sha256:" + "2" * 64


def test_select_manifest_arm64_without_variant_means_v8() -> None:
    entries = [_entry("5", os="linux", architecture="arm64")]
    assert select_manifest(entries, parse_platform("linux/arm64/v8"), "x") == "sha256:" + "5" * 64


def test_select_manifest_lists_what_there_is() -> None:
    with pytest.raises(ResolveError) as info:
        select_manifest(ENTRIES, parse_platform("linux/ppc64le"), "image a/b:c")
    msg = str(info.value)
    assert msg.startswith("image a/b:c: no manifest for linux/ppc64le")
    assert "linux/amd64, linux/arm/v7, linux/arm64/v8" in msg
    assert "unknown" not in msg and "\n" not in msg


def test_select_manifest_rejects_entry_without_digest() -> None:
    entries = [{"digest": "md5:x", "platform": {"os": "linux", "architecture": "amd64"}}]
    with pytest.raises(ResolveError, match="no sha256 digest"):
        select_manifest(entries, parse_platform("linux/amd64"), "x")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("nvcr.io=mirror.example.com:5000", ("nvcr.io", "mirror.example.com:5000")),
        ("docker.io=127.0.0.1:5000/hub/", (DOCKER_HUB, "127.0.0.1:5000/hub")),
        (" nvcr.io = m.example.com/nv ", ("nvcr.io", "m.example.com/nv")),
    ],
)
def test_parse_registry_mirror(spec: str, expected: tuple[str, str]) -> None:
    assert parse_registry_mirror(spec) == expected


@pytest.mark.parametrize(
    "spec", ["nvcr.io", "=m", "nvcr.io=", "nvcr.io=u:p@m.example.com", "a=https://m", "a=m/UP"]
)
def test_parse_registry_mirror_rejects(spec: str) -> None:
    with pytest.raises(UsageError, match="--registry-mirror"):
        parse_registry_mirror(spec)


def test_apply_mirror_changes_location_only() -> None:
    mirrors = dict([parse_registry_mirror("docker.io=127.0.0.1:5000/hub")])
    assert apply_mirror(parse_image_ref("ubuntu:24.04"), mirrors) == (
        "127.0.0.1:5000",
        "hub/library/ubuntu",
    )
    nv = parse_image_ref("nvcr.io/nvidia/tritonserver:25.04-py3-min")
    assert apply_mirror(nv, mirrors) == ("nvcr.io", "nvidia/tritonserver")


_HUB_UBUNTU = "docker.io/library/ubuntu:24.04"


@pytest.mark.parametrize(
    ("ref", "split", "normal"),
    [
        ("ubuntu", ("ubuntu", None, None), "docker.io/library/ubuntu"),
        ("ubuntu:24.04", ("ubuntu", "24.04", None), _HUB_UBUNTU),
        ("docker.io/ubuntu:24.04", ("docker.io/ubuntu", "24.04", None), _HUB_UBUNTU),
        (
            "docker.io/library/ubuntu:24.04",
            ("docker.io/library/ubuntu", "24.04", None),
            _HUB_UBUNTU,
        ),
        ("nvidia/cuda:12.8.1", ("nvidia/cuda", "12.8.1", None), "docker.io/nvidia/cuda:12.8.1"),
        ("127.0.0.1:5000/demo", ("127.0.0.1:5000/demo", None, None), "127.0.0.1:5000/demo"),
        ("localhost/a:b", ("localhost/a", "b", None), "localhost/a:b"),
        (f"nvcr.io/x/y:t@{D}", ("nvcr.io/x/y", "t", D), f"nvcr.io/x/y:t@{D}"),
        (f"y@{D}", ("y", None, D), f"docker.io/library/y@{D}"),
    ],
)
def test_split_and_normalize_ref(
    ref: str, split: tuple[str, str | None, str | None], normal: str
) -> None:
    """One reading of a ref's text: the lock's ImagePin, the emitted FROM lines and the
    registry clients agree on where the tag and the digest start and what Hub implies."""
    assert split_ref(ref) == split
    assert normalize_ref(ref) == normal
    assert ImagePin(role="r", ref=ref, digest=Digest(D), platform="linux/amd64").name() == split[0]
    if REF_PATTERN.match(ref):
        parsed = parse_image_ref(ref)
        assert (parsed.tag, parsed.digest) == (
            split[1] or (None if split[2] else "latest"),
            split[2],
        )
