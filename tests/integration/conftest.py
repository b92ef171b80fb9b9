"""Fixtures every integration module shares. The build world (a registry, git and PyPI on
127.0.0.1 and a buildah store) is session-scoped and registered here once: a fixture imported
into several modules is a fixture of each, and each would build a world of its own."""

from __future__ import annotations

from tests.fixtures.buildworld import build_world_fixture

__all__ = ["build_world_fixture"]
