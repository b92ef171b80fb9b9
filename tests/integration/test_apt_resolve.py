"""Apt pins from a real apt archive on 127.0.0.1 (dpkg-deb, apt-ftparchive, http.server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.aptrepo import AptWorld
from tritonlock.errors import ResolveError, SourceError, UsageError
from tritonlock.lockfile import seal, validate_data
from tritonlock.model import Apt, AptPin, Inputs, Lock
from tritonlock.sources.apt import AptRequest, AptSource, resolve_apt
from tritonlock.sources.retry import RetryPolicy

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
COMPONENTS = ("main", "universe")
KITWARE = (
    "deb [signed-by=/usr/share/keyrings/kitware-archive-keyring.gpg] {url}/kitware/ "
    "$UBUNTU_CODENAME main"
)
DOCKER_STYLE = (
    "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/k.gpg] {url}/kitware "
    '$(. /etc/os-release && echo "$VERSION_CODENAME") main'
)
CUDA = "deb {url}/cuda/ubuntu2404/{arch}/ /"


def _base(world: AptWorld, *suites: str) -> AptSource:
    return AptSource(
        url=world.ubuntu,
        suites=suites or ("noble", "noble-updates", "noble-security"),
        components=COMPONENTS,
    )


def _resolve(world: AptWorld, requests: list[AptRequest], **kw: object) -> Apt:
    kw.setdefault("arch", "amd64")
    kw.setdefault("base", _base(world))
    kw.setdefault("snapshot", "20250415T000000Z")
    kw.setdefault("retry", FAST)
    return resolve_apt(requests, **kw)  # type: ignore[arg-type]


def _pins(apt: Apt) -> dict[tuple[str, str], str]:
    return {(p.step, p.name): p.version for p in apt.packages}


def test_recipe_like_requests_pin_the_highest_matching_versions(apt_world: AptWorld) -> None:
    requests = [
        AptRequest(
            step="buildbase",
            packages=(("curl", None), ("python3-pip", None), ("libfoo", "1.2*")),
        ),
        AptRequest(
            step="buildbase",
            packages=(("cmake", "3.28.3*"), ("cmake-data", "3.28.3*")),
            repositories=(KITWARE.format(url=apt_world.url),),
        ),
        AptRequest(
            step="final",
            packages=(("datacenter-gpu-manager", "1:3.3.6"),),
            repositories=(CUDA.format(url=apt_world.url, arch="x86_64"),),
        ),
    ]
    seen: list[str] = []
    apt = _resolve(apt_world, requests, progress=seen.append)
    assert _pins(apt) == {
        ("buildbase", "curl"): "8.5.0-2ubuntu10.6",
        ("buildbase", "python3-pip"): "24.0+dfsg-1ubuntu1.1",
        ("buildbase", "libfoo"): "1.2.10-1",  # not 1.3-1, not 1.2.3-1 (dpkg order, not text)
        ("buildbase", "cmake"): "3.28.3-1build7",  # Ubuntu's beats 3.28.3-0kitware…
        ("buildbase", "cmake-data"): "3.28.3-1build7",
        ("final", "datacenter-gpu-manager"): "1:3.3.6",
    }
    assert apt.snapshot == "20250415T000000Z"
    assert [p.sort_key() for p in apt.packages] == sorted(p.sort_key() for p in apt.packages)
    assert any("libfoo=1.2* → 1.2.10-1" in line for line in seen)
    lock = seal(Lock(inputs=Inputs(release="25.04", target="x86_64"), apt=apt))
    validate_data(lock.to_dict())


def test_unversioned_request_takes_the_newest_across_repositories(apt_world: AptWorld) -> None:
    apt = _resolve(
        apt_world,
        [
            AptRequest(
                step="buildbase",
                packages=(("cmake", None), ("datacenter-gpu-manager", None)),
                repositories=(
                    DOCKER_STYLE.format(url=apt_world.url),
                    CUDA.format(url=apt_world.url, arch="x86_64"),
                ),
            )
        ],
    )
    assert _pins(apt) == {
        ("buildbase", "cmake"): "3.31.6-0kitware1ubuntu24.04.1",
        # 1:4.0.0 is listed in the same flat index, but for arm64
        ("buildbase", "datacenter-gpu-manager"): "1:3.3.9",
    }


def test_arm64_reads_the_arm64_indexes(apt_world: AptWorld) -> None:
    before = len(apt_world.requests())
    apt = _resolve(
        apt_world,
        [
            AptRequest(
                step="final",
                packages=(("curl", None), ("libfoo", None), ("datacenter-gpu-manager", "1:3.3.6")),
                repositories=(CUDA.format(url=apt_world.url, arch="sbsa"),),
            )
        ],
        arch="arm64",
    )
    assert _pins(apt) == {
        ("final", "curl"): "8.5.0-2ubuntu10",
        ("final", "libfoo"): "1.2.3-1",
        ("final", "datacenter-gpu-manager"): "1:3.3.6",
    }
    asked = apt_world.requests()[before:]
    # the flat repository lists Packages.gz but no longer serves it: the plain one is read
    gz, plain = "/cuda/ubuntu2404/sbsa/Packages.gz", "/cuda/ubuntu2404/sbsa/Packages"
    assert asked.index(gz) < asked.index(plain)
    assert "/ubuntu/dists/noble/main/binary-arm64/Packages.xz" in asked


def test_epoch_must_be_matched_exactly(apt_world: AptWorld) -> None:
    request = AptRequest(
        step="final",
        packages=(("datacenter-gpu-manager", "3.3.6"),),
        repositories=(CUDA.format(url=apt_world.url, arch="x86_64"),),
    )
    with pytest.raises(ResolveError) as err:
        _resolve(apt_world, [request])
    message = str(err.value)
    assert "datacenter-gpu-manager=3.3.6 (step final)" in message
    assert "available: 1:3.3.9, 1:3.3.6, 1:3.3.5" in message
    assert "\n" not in message


def test_repositories_only_count_for_their_own_request(apt_world: AptWorld) -> None:
    requests = [
        AptRequest(
            step="final",
            packages=(("curl", None),),
            repositories=(CUDA.format(url=apt_world.url, arch="x86_64"),),
        ),
        AptRequest(step="final", packages=(("datacenter-gpu-manager", None),)),
    ]
    with pytest.raises(ResolveError, match=r"datacenter-gpu-manager \(step final\): not found"):
        _resolve(apt_world, requests)


def test_indexes_are_read_once_and_xz_is_preferred(apt_world: AptWorld) -> None:
    before = len(apt_world.requests())
    requests = [
        AptRequest(step=step, packages=(("curl", None),)) for step in ("buildbase", "final")
    ]
    _resolve(apt_world, requests)
    asked = apt_world.requests()[before:]
    main = "/ubuntu/dists/noble/main/binary-amd64/Packages"
    assert asked.count(main + ".xz") == 1
    assert main + ".gz" not in asked and main not in asked
    # noble-security only has Packages.gz, noble-updates only InRelease
    assert "/ubuntu/dists/noble-security/main/binary-amd64/Packages.gz" in asked
    assert "/ubuntu/dists/noble-updates/InRelease" in asked
    assert "/ubuntu/dists/noble-updates/Release" not in asked
    assert not any("binary-arm64" in path for path in asked)


def test_tampered_index_does_not_match_release(apt_world: AptWorld) -> None:
    request = AptRequest(step="final", packages=(("curl", None),))
    with pytest.raises(SourceError, match=r"Packages\.xz: sha256 .* does not match the Release"):
        _resolve(apt_world, [request], base=_base(apt_world, "noble-tampered"))


def test_missing_suite_is_a_resolve_error(apt_world: AptWorld) -> None:
    request = AptRequest(step="final", packages=(("curl", None),))
    with pytest.raises(ResolveError, match=r"noble-backports: no InRelease or Release file"):
        _resolve(apt_world, [request], base=_base(apt_world, "noble", "noble-backports"))


def test_missing_extra_repository_names_it(apt_world: AptWorld) -> None:
    line = f"deb {apt_world.url}/nowhere/ubuntu2404/x86_64/ /"
    request = AptRequest(step="final", packages=(("curl", None),), repositories=(line,))
    with pytest.raises(ResolveError, match=r"nowhere/ubuntu2404/x86_64/ /: no InRelease"):
        _resolve(apt_world, [request])


def test_unknown_package_and_virtual_package(apt_world: AptWorld) -> None:
    with pytest.raises(ResolveError, match=r"apt package no-such-thing \(step final\): not found"):
        _resolve(apt_world, [AptRequest(step="final", packages=(("no-such-thing", None),))])
    with pytest.raises(ResolveError, match=r"virtual package provided by postfix"):
        _resolve(apt_world, [AptRequest(step="final", packages=(("mail-transport-agent", None),))])


def test_mirror_changes_where_not_what(apt_world: AptWorld) -> None:
    identity = "https://snapshot.ubuntu.example/ubuntu/20250415T000000Z"
    base = AptSource(url=identity, suites=("noble",), components=COMPONENTS)
    apt = _resolve(
        apt_world,
        [AptRequest(step="final", packages=(("curl", None),))],
        base=base,
        mirrors=[(identity, apt_world.ubuntu)],
    )
    assert apt.packages == (AptPin(step="final", name="curl", version="8.5.0-2ubuntu10"),)


def test_plain_http_is_refused_off_loopback(apt_world: AptWorld) -> None:
    request = AptRequest(
        step="final",
        packages=(("curl", None),),
        repositories=("deb http://archive.example/ubuntu noble main",),
    )
    with pytest.raises(ResolveError, match=r"only https is allowed"):
        _resolve(apt_world, [request])
    base = AptSource(url="http://archive.example/ubuntu")
    with pytest.raises(UsageError, match=r"only https is allowed"):
        _resolve(apt_world, [request], base=base)


def test_later_request_in_a_step_wins_and_repositories_are_read_once(
    apt_world: AptWorld,
) -> None:
    before = len(apt_world.requests())
    kitware = KITWARE.format(url=apt_world.url)
    requests = [
        AptRequest(step="buildbase", packages=(("cmake", None),)),
        AptRequest(step="buildbase", packages=(("cmake", None),), repositories=(kitware,)),
        AptRequest(step="final", packages=(("cmake", None),), repositories=(kitware,)),
        AptRequest(step="cpu", packages=(("cmake", None),)),
    ]
    apt = _resolve(apt_world, requests)
    assert _pins(apt) == {
        ("buildbase", "cmake"): "3.31.6-0kitware1ubuntu24.04.1",  # what apt leaves installed
        ("final", "cmake"): "3.31.6-0kitware1ubuntu24.04.1",
        ("cpu", "cmake"): "3.28.3-1build7",
    }
    asked = apt_world.requests()[before:]
    assert asked.count("/kitware/dists/noble/Release") == 1
    assert asked.count("/kitware/dists/noble/main/binary-amd64/Packages.xz") == 1


def test_credentials_never_reach_a_message(apt_world: AptWorld) -> None:
    mirror = apt_world.ubuntu.replace("http://", "http://user:s3cret@")
    identity = "https://archive.example/ubuntu"
    request = AptRequest(step="final", packages=(("curl", None),))
    with pytest.raises(ResolveError) as err:
        _resolve(
            apt_world,
            [request],
            base=AptSource(url=identity, suites=("noble-backports",), components=COMPONENTS),
            mirrors=[(identity, mirror)],
        )
    assert "s3cret" not in str(err.value) and "user" not in str(err.value)
    assert "archive.example/ubuntu/ noble-backports" in str(err.value)


def test_a_warm_resolve_reads_only_the_release_files(apt_world: AptWorld, tmp_path: Path) -> None:
    """Index files are kept by the sha256 the Release file lists: a second resolve reads the
    Release files (which say whether anything moved) and no index again."""
    requests = [
        AptRequest(
            step="buildbase",
            packages=(("curl", None), ("cmake", "3.28.3*")),
            repositories=(KITWARE.format(url=apt_world.url),),
        )
    ]
    cold = _resolve(apt_world, requests, cache=tmp_path / "apt")
    before = len(apt_world.requests())
    warm = _resolve(apt_world, requests, cache=tmp_path / "apt")
    assert warm == cold
    asked = apt_world.requests()[before:]
    assert asked
    assert all(path.rsplit("/", 1)[1] in ("InRelease", "Release") for path in asked), asked
    next(iter(sorted((tmp_path / "apt").iterdir()))).write_bytes(b"not the index")
    before = len(apt_world.requests())
    assert _resolve(apt_world, requests, cache=tmp_path / "apt") == cold  # a bad copy: read again
    assert any("Packages" in path for path in apt_world.requests()[before:])
