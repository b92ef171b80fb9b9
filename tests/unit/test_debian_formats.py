"""Release and Packages files, deb lines and their shell expansions (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.errors import ResolveError
from tritonlock.sources.apt import select_version
from tritonlock.sources.debian import (
    DebSource,
    PackageEntry,
    expand_deb_line,
    parse_deb_line,
    parse_packages,
    parse_release,
    parse_stanza,
    strip_clearsign,
)

H1, H2 = "a" * 64, "B" * 64

RELEASE = f"""Origin: Ubuntu
Label: Ubuntu
Suite: noble-updates
Codename: noble
Date: Tue, 15 Apr 2025 00:00:00 UTC
Architectures: amd64 arm64
Components: main universe
Description: Ubuntu Noble Updates
MD5Sum:
 {"c" * 32}  1234 main/binary-amd64/Packages
SHA256:
 {H1}          5000000 main/binary-amd64/Packages
 {H2}           900000 main/binary-amd64/Packages.xz
 {H1}               98 main/i18n/Translation-en
"""

INRELEASE = f"""-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

{RELEASE}
- -----a dash-escaped line in a second paragraph
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCgAdFiEE
-----END PGP SIGNATURE-----
"""


def test_release_sha256_list() -> None:
    release = parse_release(RELEASE)
    assert release.fields["codename"] == "noble"
    assert release.fields["components"] == "main universe"
    assert release.sha256 == {
        "main/binary-amd64/Packages": (H1, 5000000),
        "main/binary-amd64/Packages.xz": (H2.lower(), 900000),
        "main/i18n/Translation-en": (H1, 98),
    }


def test_inrelease_body_is_the_release_and_dash_escapes_are_undone() -> None:
    body = strip_clearsign(INRELEASE)
    assert body.startswith("Origin: Ubuntu\n")
    assert body.endswith("\n\n-----a dash-escaped line in a second paragraph\n")
    assert "PGP SIGNATURE" not in body
    assert parse_release(INRELEASE).sha256 == parse_release(RELEASE).sha256


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Origin: x\nMD5Sum:\n " + "c" * 32 + " 1 Packages\n", "no SHA256"),
        ("SHA256:\n abc 1 Packages\n", "bad SHA256 line"),
        ("SHA256:\n " + H1 + " many Packages\n", "bad SHA256 line"),
        ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSHA256:\n", "clear-signed"),
        ("not a field\n", "not a control field"),
    ],
)
def test_bad_release_files(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_release(text)


def test_plain_text_is_not_touched_by_strip_clearsign() -> None:
    assert strip_clearsign(RELEASE) == RELEASE


def test_stanza_fields_are_case_insensitive_with_continuations() -> None:
    fields = parse_stanza("Package: x\nDESCRIPTION: short\n long line\n .\n more\n# comment\n")
    assert fields == {"package": "x", "description": "short\nlong line\n\nmore"}


PACKAGES = """Package: cmake
Architecture: amd64
Version: 3.28.3-1build7
Depends: cmake-data (= 3.28.3-1build7), libc6 (>= 2.38)
Description: cross-platform, open-source make system
 CMake is used to control the software compilation process.

Package: postfix
Architecture: amd64
Version: 3.8.6-1build2
Provides: default-mta, mail-transport-agent (= 1.0),
 postfix-compat:any
Description: mail server

Package: broken
Architecture: amd64
Version: not-a-version

Package: cmake-data
Architecture: all
Version: 3.28.3-1build7
Multi-Arch: foreign"""


def test_packages_entries() -> None:
    entries = list(parse_packages(PACKAGES))
    assert entries == [
        PackageEntry(name="cmake", version="3.28.3-1build7", architecture="amd64"),
        PackageEntry(
            name="postfix",
            version="3.8.6-1build2",
            architecture="amd64",
            provides=("default-mta", "mail-transport-agent", "postfix-compat"),
        ),
        PackageEntry(name="cmake-data", version="3.28.3-1build7", architecture="all"),
    ]


def test_packages_wanted_keeps_named_and_providing_entries() -> None:
    assert [e.name for e in parse_packages(PACKAGES, {"cmake-data"})] == ["cmake-data"]
    assert [e.name for e in parse_packages(PACKAGES, {"mail-transport-agent"})] == ["postfix"]
    assert list(parse_packages(PACKAGES, {"broken", "nothing"})) == []


@given(st.lists(st.sampled_from(["cmake", "postfix", "cmake-data", "x"]), max_size=3))
def test_wanted_is_a_filter_of_the_whole(wanted: list[str]) -> None:
    every = list(parse_packages(PACKAGES))
    some = list(parse_packages(PACKAGES, set(wanted)))
    assert some == [e for e in every if e.name in wanted or set(e.provides) & set(wanted)]


# --- deb lines ---------------------------------------------------------------------------------

DOCKER = (
    "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.gpg] "
    'https://download.docker.com/linux/ubuntu $(. /etc/os-release && echo "$VERSION_CODENAME") '
    "stable"
)
KITWARE = (
    "deb [signed-by=/usr/share/keyrings/kitware-archive-keyring.gpg] "
    "https://apt.kitware.com/ubuntu/ $UBUNTU_CODENAME main"
)
CUDA = "deb https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/sbsa/ /"


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_upstream_deb_lines(arch: str) -> None:
    assert parse_deb_line(DOCKER, arch=arch, codename="noble") == DebSource(
        url="https://download.docker.com/linux/ubuntu/", suite="noble", components=("stable",)
    )
    assert parse_deb_line(KITWARE, arch=arch, codename="noble") == DebSource(
        url="https://apt.kitware.com/ubuntu/", suite="noble", components=("main",)
    )
    cuda = parse_deb_line(CUDA, arch=arch, codename="noble")
    assert cuda == DebSource(
        url="https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/sbsa/", suite="/"
    )
    assert cuda.flat


def test_every_captured_upstream_repository_line_parses() -> None:
    data = Path(__file__).parents[1] / "data/upstream/buildpy_recipes.json"
    releases = json.loads(data.read_text())["releases"]
    lines = {
        line
        for release in releases.values()
        for target in release["targets"].values()
        for install in target["apt"]
        for line in install["repositories"]
    }
    assert len(lines) >= 4
    for arch in ("amd64", "arm64"):
        sources = [parse_deb_line(line, arch=arch, codename="noble") for line in lines]
        assert all(s is not None and s.url.startswith("https://") for s in sources)
        assert {s.suite for s in sources if s} == {"noble", "/"}


@pytest.mark.parametrize(
    ("line", "expanded"),
    [
        (DOCKER, "deb [arch=arm64 signed-by=/etc/apt/keyrings/docker.gpg] "
                 "https://download.docker.com/linux/ubuntu noble stable"),
        ("deb http://x/ $(lsb_release -cs) main", "deb http://x/ noble main"),
        ("deb http://x/ $(lsb_release -sc)-updates main", "deb http://x/ noble-updates main"),
        ("deb http://x/ ${UBUNTU_CODENAME} main", "deb http://x/ noble main"),
        ("deb http://x/ $(. /etc/os-release; echo $UBUNTU_CODENAME) main",
         "deb http://x/ noble main"),
        ("deb [arch=$(dpkg --print-architecture)] http://x/  noble  main",
         "deb [arch=arm64] http://x/ noble main"),
    ],
)  # fmt: skip
def test_expansions(line: str, expanded: str) -> None:
    assert expand_deb_line(line, arch="arm64", codename="noble") == expanded


@pytest.mark.parametrize(
    "line",
    ["deb http://x/ $(uname -m) /", "deb http://x/ $ID main", "deb http://x/ `lsb_release -cs` a"],
)
def test_unknown_shell_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match="cannot expand"):
        expand_deb_line(line, arch="amd64", codename="noble")


def test_arch_option_and_deb_src() -> None:
    line = "deb [arch=arm64,armhf] https://x.example/repo noble main"
    assert parse_deb_line(line, arch="amd64", codename="noble") is None
    assert parse_deb_line(line, arch="arm64", codename="noble") is not None
    excluded = "deb [ arch-=amd64 ] https://x.example/repo noble main"
    assert parse_deb_line(excluded, arch="amd64", codename="noble") is None
    assert (
        parse_deb_line("deb-src https://x.example/ noble main", arch="amd64", codename="noble")
        is None
    )


def test_flat_with_subdirectory_and_ppa() -> None:
    flat = parse_deb_line("deb https://x.example/repo ./amd64/", arch="amd64", codename="noble")
    assert flat == DebSource(url="https://x.example/repo/", suite="./amd64/")
    assert flat.flat
    ppa = parse_deb_line("ppa:deadsnakes/ppa", arch="amd64", codename="noble")
    assert ppa == DebSource(
        url="https://ppa.launchpadcontent.net/deadsnakes/ppa/ubuntu/",
        suite="noble",
        components=("main",),
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("deb https://x.example/ noble", "needs components"),
        ("deb https://x.example/ / main", "needs components"),
        ("deb ftp://x.example/ noble main", "http"),
        ("deb [arch=amd64 https://x.example/ noble main", "unclosed"),
        ("rpm https://x.example/ noble main", "not a deb line"),
        ("https://x.example/repo.repo", "not a deb line"),
    ],
)
def test_bad_deb_lines(line: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_deb_line(line, arch="amd64", codename="noble")


# --- choosing a version --------------------------------------------------------------------

ENTRIES = [
    PackageEntry(name="cmake", version=v, architecture="amd64")
    for v in ("3.28.3-1build7", "3.31.6-0kitware1ubuntu24.04.1", "3.28.3-0kitware1ubuntu24.04.1")
] + [PackageEntry(name="postfix", version="3.8.6-1", architecture="amd64", provides=("mta",))]


def test_select_version_highest_matching() -> None:
    assert select_version(ENTRIES, "cmake", None, "buildbase", 4) == "3.31.6-0kitware1ubuntu24.04.1"
    assert select_version(ENTRIES, "cmake", "3.28.3*", "buildbase", 4) == "3.28.3-1build7"
    assert select_version(ENTRIES, "cmake", "*kitware*", "buildbase", 4).startswith("3.31.6")


def test_select_version_errors_are_one_line() -> None:
    with pytest.raises(ResolveError) as err:
        select_version(ENTRIES, "cmake", "3.27*", "buildbase", 4)
    assert str(err.value) == (
        "apt package cmake=3.27* (step buildbase): no version matches; available: "
        "3.31.6-0kitware1ubuntu24.04.1, 3.28.3-1build7, 3.28.3-0kitware1ubuntu24.04.1"
    )
    with pytest.raises(ResolveError, match=r"virtual package provided by postfix"):
        select_version(ENTRIES, "mta", None, "final", 4)
    with pytest.raises(ResolveError, match=r"gcc \(step final\): not found in the 4 apt suites"):
        select_version(ENTRIES, "gcc", None, "final", 4)
    with pytest.raises(ResolveError, match=r"regular-expression"):
        select_version(ENTRIES, "cmake", "/3.*/", "final", 4)
