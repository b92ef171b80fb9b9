"""Fixtures the integration modules share, registered here once: a fixture imported into
several modules is a fixture of each, and each would start servers (or build a world) of its
own. The session-scoped worlds (the build world, the resolve world, the registry, the PyPI
indexes, the file servers, the apt archive, the private dockerds, the rootless user) are
started once for the whole run; ``git_servers`` stays module-scoped (each module builds its
own repositories there). A module that mutates a shared world restores it (or uses names of
its own)."""

from __future__ import annotations

from tests.fixtures.aptrepo import apt_world_fixture
from tests.fixtures.buildworld import build_world_fixture
from tests.fixtures.dockerd import buildx_docker_fixture
from tests.fixtures.gitserver import git_servers
from tests.fixtures.httpfiles import file_world_fixture, trust_file_world_fixture
from tests.fixtures.pypi import (
    bad_index_fixture,
    jetson_pypi_fixture,
    pypi_fixture,
    wheel_files_fixture,
)
from tests.fixtures.registry import private_dockerd_fixture, registry_world_fixture
from tests.fixtures.rootless import rootless_user_fixture
from tests.fixtures.world import world_fixture

__all__ = [
    "apt_world_fixture",
    "bad_index_fixture",
    "build_world_fixture",
    "buildx_docker_fixture",
    "file_world_fixture",
    "git_servers",
    "jetson_pypi_fixture",
    "private_dockerd_fixture",
    "pypi_fixture",
    "registry_world_fixture",
    "rootless_user_fixture",
    "trust_file_world_fixture",
    "wheel_files_fixture",
    "world_fixture",
]
