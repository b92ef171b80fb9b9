"""tools/standins.py: which stand-ins a cell needs, and their bytes (no server, no resolve)."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

import pytest

from tritonlock.sources import debian
from tritonlock.sources.apt import AptRequest

ROOT = Path(__file__).parent.parent.parent
if str(ROOT / "tools") not in sys.path:  # the tools import each other as scripts do
    sys.path.insert(0, str(ROOT / "tools"))

import standin_servers as servers  # noqa: E402
import standins as S  # noqa: E402

BASE = "https://snapshot.example/ubuntu/20250415T000000Z"
FLAT = "deb https://cuda.example/repos/ubuntu2404/x86_64/ /"
DOCKER = (
    "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.gpg] "
    'https://docker.example/linux/ubuntu $(. /etc/os-release && echo "$VERSION_CODENAME") stable'
)
KITWARE = "deb [signed-by=/k.gpg] https://kitware.example/ubuntu/ $UBUNTU_CODENAME main"
ARM_ONLY = "deb [arch=arm64] https://ports.example/ubuntu noble main"
SUITES = ("noble", "noble-updates", "noble-security")


def _recipe(*requests: AptRequest, images: tuple[str, ...] = ()) -> S.CellRecipe:
    return S.CellRecipe(images=images, apt=requests, arch="amd64", apt_base=BASE, suites=SUITES)


def _reach(*hosts: str) -> S.Reachable:
    return lambda name: name in hosts


REQUESTS = (
    AptRequest(step="buildbase", packages=(("curl", None), ("cmake", "3.28.3*"))),
    AptRequest(
        step="buildbase",
        packages=(("docker-buildx-plugin", None),),
        repositories=(DOCKER, KITWARE),
    ),
    AptRequest(
        step="final",
        packages=(("datacenter-gpu-manager", "1:3.3.6"),),
        repositories=(FLAT, ARM_ONLY),
    ),
)


def test_images_are_the_recipes_tags_on_registries_that_cannot_be_reached() -> None:
    recipe = _recipe(
        images=(
            "nvcr.io/nvidia/tritonserver:25.04-py3-min",
            "nvcr.io/nvidia/vllm:26.03-py3",
            "docker.io/library/ubuntu:24.04",
            "nvcr.io/nvidia/pinned@sha256:" + "a" * 64,
        )
    )
    entries = [("image", "base images")]
    needs = S.needs_for(entries, recipe, _reach("registry-1.docker.io"))
    assert needs.images == {
        "nvcr.io/nvidia/tritonserver:25.04-py3-min",
        "nvcr.io/nvidia/vllm:26.03-py3",
    }
    assert not needs.urls and not needs.dists
    assert not S.needs_for([("url", "https://h/x")], recipe, _reach()).images


def test_urls_are_exactly_the_unreachable_ones_named() -> None:
    entries = [
        ("url", "https://dl.example/a/b.deb"),
        ("url", "downloads"),  # the resolver's catch-all: no URL to stand in for
        ("url", "https://reachable.example/c"),
        ("git", "https://dl.example/not-a-download"),
    ]
    needs = S.needs_for(entries, _recipe(), _reach("reachable.example"))
    assert needs.urls == {"https://dl.example/a/b.deb"}
    assert not needs.images and not needs.dists


def test_apt_stands_in_the_archive_and_each_unreachable_repository() -> None:
    needs = S.needs_for([("apt", "apt packages")], _recipe(*REQUESTS), _reach())
    roots = {d.root: d for d in needs.dists}
    assert set(roots) == {
        f"{BASE}/dists/noble/",
        f"{BASE}/dists/noble-updates/",
        f"{BASE}/dists/noble-security/",
        "https://docker.example/linux/ubuntu/dists/noble/",
        "https://kitware.example/ubuntu/dists/noble/",
        "https://cuda.example/repos/ubuntu2404/x86_64/",  # flat: Release and Packages here
    }  # the arm64-only line does not apply to amd64
    noble = roots[f"{BASE}/dists/noble/"]
    assert noble.indexes == ("main/binary-amd64/Packages",)
    assert noble.debs == {
        S.Deb("curl", "0~standin"),
        S.Deb("cmake", "3.28.3-0~standin"),
        S.Deb("docker-buildx-plugin", "0~standin"),
        S.Deb("datacenter-gpu-manager", "1:3.3.6"),
    }
    assert roots["https://cuda.example/repos/ubuntu2404/x86_64/"].indexes == ("Packages",)
    assert roots["https://docker.example/linux/ubuntu/dists/noble/"].indexes == (
        "stable/binary-amd64/Packages",
    )
    assert not roots[f"{BASE}/dists/noble-updates/"].debs


def test_with_the_archive_reachable_a_steps_packages_go_to_its_last_stand_in_repo() -> None:
    needs = S.needs_for(
        [("apt", "apt packages")],
        _recipe(*REQUESTS),
        _reach("snapshot.example", "kitware.example"),
    )
    roots = {d.root: d for d in needs.dists}
    assert set(roots) == {
        "https://docker.example/linux/ubuntu/dists/noble/",
        "https://cuda.example/repos/ubuntu2404/x86_64/",
    }
    assert roots["https://docker.example/linux/ubuntu/dists/noble/"].debs == {
        S.Deb("docker-buildx-plugin", "0~standin")
    }
    assert roots["https://cuda.example/repos/ubuntu2404/x86_64/"].debs == {
        S.Deb("datacenter-gpu-manager", "1:3.3.6")
    }


def test_nothing_is_stood_in_for_what_can_be_reached_or_was_not_asked() -> None:
    recipe = _recipe(*REQUESTS, images=("nvcr.io/nvidia/tritonserver:25.04-py3-min",))
    everything = _reach(
        "nvcr.io", "snapshot.example", "docker.example", "kitware.example", "cuda.example"
    )
    entries = [("image", "base images"), ("apt", "apt packages"), ("url", "https://h.example/")]
    assert not S.needs_for(entries[:2], recipe, everything)
    assert not S.needs_for([("git", "grpc")], recipe, _reach())


@pytest.mark.parametrize(
    ("want", "version"),
    [
        (None, "0~standin"),
        ("1:3.3.6", "1:3.3.6"),
        ("3.28.3*", "3.28.3-0~standin"),
        ("3.28.3-*", "3.28.3-0~standin"),
        ("1:3.3.?", "1:3.3.0"),
        ("2.[0-9]*", "2.0-0~standin"),
    ],
)
def test_a_stand_in_version_is_one_apt_would_take_for_the_request(
    want: str | None, version: str
) -> None:
    assert S.standin_version(want) == version
    assert debian.version_matches(want, version)
    debian.parse_version(version)


def test_the_stand_in_archive_is_one_the_resolvers_parser_accepts() -> None:
    needs = S.needs_for([("apt", "apt packages")], _recipe(*REQUESTS), _reach())
    files = S.standin_files(needs, "amd64")
    root = f"{BASE}/dists/noble/"
    release = debian.parse_release(files[root + "Release"].decode())
    for path, (sha, size) in release.sha256.items():
        assert hashlib.sha256(files[root + path]).hexdigest() == sha
        assert len(files[root + path]) == size
    text = files[root + "main/binary-amd64/Packages"].decode()
    found = {(e.name, e.version, e.architecture) for e in debian.parse_packages(text)}
    assert ("datacenter-gpu-manager", "1:3.3.6", "amd64") in found
    assert len(found) == 4
    flat = "https://cuda.example/repos/ubuntu2404/x86_64/"
    assert set(debian.parse_release(files[flat + "Release"].decode()).sha256) == {"Packages"}


def test_stand_in_downloads_name_what_they_stand_in_for() -> None:
    url = "https://dl.example/keys/k.asc"
    files = S.standin_files(S.Needs(urls=frozenset({url})), "arm64")
    assert files == {url: b"tritonlock stand-in for https://dl.example/keys/k.asc\n"}
    assert S.local_path(url) == "dl.example/keys/k.asc"


def test_mirror_options_route_each_host_and_registry_to_the_cell_on_127_0_0_1() -> None:
    needs = S.Needs(
        images=frozenset({"nvcr.io/nvidia/tritonserver:25.04-py3-min"}),
        urls=frozenset({"https://dl.example/a", "https://dl.example/b"}),
    )
    files = ["https://dl.example/a", "https://dl.example/b", "https://apt.example/dists/x"]
    options = S.mirror_options(
        needs, files, http="http://127.0.0.1:8", cell="25.04-x86_64-python", registry="127.0.0.1:9"
    )
    assert options == [
        "--url-mirror",
        "https://apt.example/=http://127.0.0.1:8/25.04-x86_64-python/apt.example/",
        "--url-mirror",
        "https://dl.example/=http://127.0.0.1:8/25.04-x86_64-python/dl.example/",
        "--allow-http",
        "--registry-mirror",
        "nvcr.io=127.0.0.1:9/nvcr.io",
        "--insecure-registry",
        "127.0.0.1:9",
    ]
    assert S.mirror_options(S.Needs(), [], http="h", cell="c", registry="") == []


def test_labels_name_each_stand_in_and_each_repositorys_suites_once() -> None:
    needs = S.needs_for(
        [("apt", "apt packages"), ("image", "base images"), ("url", "https://dl.example/k")],
        _recipe(*REQUESTS[2:], images=("nvcr.io/nvidia/tritonserver:25.04-py3-min",)),
        _reach(),
    )
    assert needs.labels() == (
        "image nvcr.io/nvidia/tritonserver:25.04-py3-min",
        "url https://dl.example/k",
        "apt https://cuda.example/repos/ubuntu2404/x86_64/",
        f"apt {BASE}/ (noble, noble-security, noble-updates)",
    )
    assert (needs | S.Needs()) == needs


def test_option_values_reads_both_spellings() -> None:
    passed = ["--git-mirror", "a=b", "-q", "--git-mirror=c=d", "--apt-archive", "x"]
    assert S.option_values(passed, "--git-mirror") == ["a=b", "c=d"]
    assert S.option_values(passed, "--apt-snapshot") == []


def test_a_stand_in_image_is_a_two_platform_oci_index_with_the_same_bytes_every_time() -> None:
    ref = "nvcr.io/nvidia/tritonserver:25.04-py3-min"
    index, children = servers.image_blobs(ref)
    assert servers.image_blobs(ref) == (index, children)
    assert servers.image_blobs(ref + "x")[0] != index
    entries = json.loads(index)["manifests"]
    assert [e["platform"] for e in entries] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    for entry, (manifest, config, layer) in zip(entries, children.values(), strict=True):
        assert entry["digest"] == servers.digest(manifest)
        data = json.loads(manifest)
        assert data["config"]["digest"] == servers.digest(config)
        assert data["layers"][0]["digest"] == servers.digest(layer)
        diff_id = json.loads(config)["rootfs"]["diff_ids"][0]
        assert diff_id == servers.digest(gzip.decompress(layer))
