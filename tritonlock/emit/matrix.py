"""The build folder of several locks: one subfolder each and a bake matrix on top."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from ..model import Lock
from . import bake, emit, plan
from .buildplan import Builder, Network, Vendored
from .secrets import SecretSpec


def assemble(
    locks: Sequence[Lock],
    recipes: Sequence[dict[str, str]],
    secrets: Sequence[SecretSpec],
    builder: Builder,
    network: Network = "default",
    vendor: Vendored | None = None,
) -> dict[str, bytes]:
    """One lock: its files at the top. Several: one subfolder each and a bake matrix on top."""
    if len(locks) == 1:
        return emit(
            locks[0], recipes[0], secrets=secrets, builder=builder, network=network, vendor=vendor
        )
    if vendor is not None:
        raise UsageError("--vendor builds one lock (a bundle holds one lock's inputs)")
    files: dict[str, bytes] = {}
    entries = []
    for lock, recipe in zip(locks, recipes, strict=True):
        sub = subfolder(lock)
        if any(k.startswith(sub + "/") for k in files):
            raise UsageError(f"two locks for release {lock.inputs.release} target {sub}")
        for rel, data in emit(
            lock, recipe, secrets=secrets, builder=builder, network=network
        ).items():
            files[f"{sub}/{rel}"] = data
        name = bake.target_name(lock.inputs.release, lock.inputs.target)
        entries.append(bake.Entry(name=name, context=sub, plan=plan(lock, secrets, network)))
    files["docker-bake.hcl"] = bake.render(entries)
    return dict(sorted(files.items()))


def subfolder(lock: Lock) -> str:
    """The folder of ``lock``'s build among several: ``RELEASE-TARGET``."""
    return f"{lock.inputs.release}-{lock.inputs.target}"
