"""The build targets tritonlock knows, the one table of them: what build.py is told for each
(``--target-platform``, ``--target-machine``, ``--enable-gpu``) and what its images and
packages are (OCI platform, Debian architecture)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    build_platform: str  # build.py --target-platform
    machine: str  # build.py --target-machine, and the wheels' machine
    gpu: bool  # build.py --enable-gpu
    oci_platform: str  # the platform of every image pinned
    deb_arch: str  # the Debian architecture of every apt package pinned
    describe: str


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("x86_64", "linux", "x86_64", True, "linux/amd64", "amd64", "linux/amd64 GPU"),
        Target("sbsa", "linux", "aarch64", True, "linux/arm64/v8", "arm64", "linux/arm64 GPU"),
        Target("igpu", "igpu", "aarch64", True, "linux/arm64/v8", "arm64", "Jetson"),
        Target("cpu", "linux", "x86_64", False, "linux/amd64", "amd64", "linux/amd64, no GPU"),
    )
}
