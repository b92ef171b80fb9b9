"""Package URLs of pins, checked against packageurl-python's own parser (which the CycloneDX
library uses): every part survives a round trip, whatever characters it holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from packageurl import PackageURL

from tritonlock.export import purl
from tritonlock.model import Digest, ImagePin

COMMIT = "a" * 40
DIGEST = Digest("sha256:" + "b" * 64)


def parsed(text: str) -> PackageURL:
    p = PackageURL.from_string(text)
    assert p.to_string() == text  # canonical as written: sorted, encoded the same way
    return p


def test_github_repositories_are_pkg_github_at_their_commit() -> None:
    p = parsed(purl.git("https://github.com/Triton-Inference-Server/server.git/", COMMIT))
    assert (p.type, p.namespace, p.name, p.version) == (
        "github",
        "triton-inference-server",
        "server",
        COMMIT,
    )


def test_other_repositories_are_generic_with_their_vcs_url() -> None:
    p = parsed(purl.git("https://gitlab.example/group/sub/abseil-cpp.git", COMMIT))
    assert (p.type, p.name, p.version) == ("generic", "abseil-cpp", COMMIT)
    assert p.qualifiers == {
        "vcs_url": f"git+https://gitlab.example/group/sub/abseil-cpp.git@{COMMIT}"
    }


def test_wheels_name_their_file_and_a_non_pypi_index() -> None:
    name = "MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    p = parsed(purl.wheel("MarkupSafe", "2.1.5", name, "https://pypi.org/simple/"))
    assert (p.type, p.name, p.version, p.qualifiers) == (
        "pypi",
        "markupsafe",
        "2.1.5",
        {"file_name": name},
    )
    jetson = "https://pypi.jetson-ai-lab.dev/jp6/cu126"
    p = parsed(purl.wheel("torch", "2.7.0+cu126", "torch-2.7.0-cp312-linux_aarch64.whl", jetson))
    assert p.version == "2.7.0+cu126" and p.qualifiers["repository_url"] == jetson


def test_images_are_pkg_oci_by_the_platform_manifest_digest() -> None:
    pin = ImagePin(
        role="base",
        ref="nvcr.io/nvidia/tritonserver:25.04-py3-igpu-min",
        digest=DIGEST,
        platform="linux/arm64/v8",
    )
    p = parsed(purl.image(pin))
    assert (p.type, p.name, p.version) == ("oci", "tritonserver", DIGEST)
    assert p.qualifiers == {
        "arch": "arm64",
        "repository_url": "nvcr.io/nvidia/tritonserver",
        "tag": "25.04-py3-igpu-min",
    }
    hub = ImagePin(role="base", ref="ubuntu:24.04", digest=DIGEST, platform="linux/amd64")
    assert parsed(purl.image(hub)).qualifiers["repository_url"] == "docker.io/library/ubuntu"


def test_downloads_and_apt_packages() -> None:
    url = "https://archives.boost.io/release/1.80.0/source/boost_1_80_0.tar.gz"
    p = parsed(purl.download(url, DIGEST))
    assert (p.type, p.name, p.qualifiers) == (
        "generic",
        "boost_1_80_0.tar.gz",
        {"download_url": url, "checksum": DIGEST},
    )
    p = parsed(purl.deb("libc6", "1:2.39-0ubuntu8~rc1", "arm64"))
    assert (p.type, p.namespace, p.name, p.version, p.qualifiers) == (
        "deb",
        "ubuntu",
        "libc6",
        "1:2.39-0ubuntu8~rc1",
        {"arch": "arm64"},
    )


# packageurl-python strips whitespace and ``/`` around a part (no name of a pin has them: the
# lock schema's patterns refuse whitespace, and names are last path segments), so the parts
# tried here have none.
PART = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1).filter(
    lambda s: s == s.strip().strip("/") != ""
)


@given(name=PART, version=PART, value=PART)
def test_any_text_survives_the_round_trip(name: str, version: str, value: str) -> None:
    p = PackageURL.from_string(purl.purl("generic", name, version=version, qualifiers={"q": value}))
    assert (p.name, p.version, p.qualifiers) == (name, version, {"q": value})
