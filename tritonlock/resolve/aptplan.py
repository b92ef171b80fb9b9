"""The apt stage of `resolve`: the recipe's apt installs read from a dated Ubuntu snapshot
and the repositories each step adds (also used by `verify --deep`)."""

from __future__ import annotations

import time

from ..errors import ResolveError
from ..model import Apt
from ..sources import apt as aptres
from ..upstream import FloatingInputs
from .context import Ctx


def apt_pins(ctx: Ctx, floating: FloatingInputs, arch: str, committed: int | None) -> Apt | None:
    """Apt pins read from a dated snapshot: the one asked for, else the server commit's."""
    if not floating.apt:
        return None
    snapshot = ctx.opts.apt_snapshot or _snapshot_for(committed)
    return aptres.resolve_apt(
        apt_requests(floating),
        arch=arch,
        base=apt_base(ctx.opts.apt_base, arch=arch, release=ctx.inputs.release, snapshot=snapshot),
        snapshot=snapshot,
        mirrors=ctx.opts.url_mirrors,
        jobs=ctx.opts.jobs,
        progress=ctx.say,
        cache=ctx.opts.cache_dir / "apt",
    )


def apt_requests(floating: FloatingInputs) -> list[aptres.AptRequest]:
    """The recipe's apt-get/apt installs as resolver requests (also read by `verify --deep`)."""
    return [
        aptres.AptRequest(step=a.step, packages=a.packages, repositories=a.repositories)
        for a in floating.apt
        if a.manager == "apt-get" or a.manager == "apt"
    ]


def apt_base(root: str, *, arch: str, release: str, snapshot: str) -> aptres.AptSource:
    """The dated Ubuntu archive a release's apt packages are read from, under ``root``."""
    return aptres.AptSource(url=_archive(root, arch, snapshot), suites=_suites(release))


def _archive(root: str, arch: str, snapshot: str) -> str:
    """Ubuntu keeps amd64 in ``ubuntu`` and arm64 in ``ubuntu-ports``, each snapshotted."""
    return f"{root}/{'ubuntu' if arch == 'amd64' else 'ubuntu-ports'}/{snapshot}"


def _suites(release: str) -> tuple[str, ...]:
    """Ubuntu 24.04 (noble) from 24.11 on, 22.04 (jammy) before."""
    codename = "noble" if release >= "24.11" else "jammy"
    return (codename, f"{codename}-updates", f"{codename}-security")


def _snapshot_for(committed: int | None) -> str:
    """The archive as it was when the server commit was made (UTC, to the second)."""
    if committed is None:
        raise ResolveError("apt: no server commit time to date the snapshot; pass --apt-snapshot")
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(committed))
