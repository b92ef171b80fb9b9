"""The builder command for an emitted folder (pure: argv and environment, nothing is run).

``build.sh`` holds exactly these commands; ``tritonlock build --run`` runs them
(:func:`tritonlock.runner.execute`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .secrets import SecretSpec

Builder = Literal["buildx", "buildah"]
BUILDERS: tuple[Builder, ...] = ("buildx", "buildah")
Network = Literal["default", "host"]
NETWORKS: tuple[Network, ...] = ("default", "host")
POLICY_FILE = "source-policy.json"
SOURCES_TARGET = "tritonlock-sources"
COMPILE_TARGET = "tritonlock-compile"
# Runs its arguments in a new, empty network namespace. Root can ``unshare --net`` directly;
# anyone else first enters buildah's rootless user namespace (uid 0 there, mapped from
# /etc/subuid and /etc/subgid, where the inner buildah still uses that user's storage and
# registries). ``buildah unshare`` itself is not an option for real root: 1.28 re-executes
# itself without end there.
OFFLINE = (
    "sh",
    "-c",
    'if [ "$(id -u)" = 0 ]; then exec unshare --net -- "$@"; fi; '
    'exec buildah unshare -- unshare --net -- "$@"',
    "tritonlock-offline",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What a build of one emitted folder needs: all values come from the lock or the user."""

    platform: str
    source_date_epoch: int
    tag: str
    secrets: tuple[SecretSpec, ...] = ()
    dockerfile: str = "Dockerfile"
    context: str = "."
    # "host": the builder's own RUNs (sources, wheels, final) share the build machine's
    # network, e.g. to reach a git/pip mirror on its loopback. The compile stays offline.
    network: Network = "default"


Step = tuple[dict[str, str], list[str]]


def commands(builder: Builder, plan: Plan) -> list[Step]:
    """The builder invocations, in order, as ``(environment, argv)``.

    buildx runs once (the Dockerfile carries ``RUN --network=none``). buildah 1.28 has no
    per-RUN network flag, so it builds the sources stage, then the compile stage offline
    (reusing the cached sources layers), then the image (reusing the cached compile layers).
    The compile build runs in a new, empty network namespace (:data:`OFFLINE`: ``unshare
    --net``, inside ``buildah unshare`` when not root) as well as with ``--network=none``:
    buildah's chroot isolation ignores ``--network``.
    """
    common = [
        "--file",
        plan.dockerfile,
        "--platform",
        plan.platform,
        "--build-arg",
        f"SOURCE_DATE_EPOCH={plan.source_date_epoch}",
        *_secrets(plan.secrets),
    ]
    if builder == "buildx":
        env = {"EXPERIMENTAL_BUILDKIT_SOURCE_POLICY": POLICY_FILE}
        argv = ["docker", "buildx", "build", *common, *_network(plan), "--tag", plan.tag]
        argv += ["--load", plan.context]
        return [(env, argv)]
    if builder == "buildah":
        bud = ["buildah", "bud", *common, "--layers", "--timestamp", str(plan.source_date_epoch)]
        return [
            ({}, [*bud, *_network(plan), "--target", SOURCES_TARGET, plan.context]),
            ({}, [*OFFLINE, *bud, "--network=none", "--target", COMPILE_TARGET, plan.context]),
            ({}, [*bud, *_network(plan), "--tag", plan.tag, plan.context]),
        ]
    raise ValueError(f"unknown builder {builder!r}")


def _network(plan: Plan) -> list[str]:
    """``--network host`` when asked: buildx's RUNs otherwise get the daemon's default network;
    buildah's chroot isolation uses the host's anyway, its other isolations do not."""
    return ["--network", "host"] if plan.network == "host" else []


def _secrets(secrets: Sequence[SecretSpec]) -> list[str]:
    out = []
    for s in sorted(secrets, key=lambda s: s.id):
        out += ["--secret", s.flag()]
    return out
