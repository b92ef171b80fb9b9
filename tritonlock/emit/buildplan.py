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


# Loads one image of a bundle's OCI layout into buildah's store with its manifest's bytes
# (so its digest, the lock's pin, stays that of the registry, Docker or OCI media type
# alike): a `dir:` view of the layout's blobs, pulled, then named so that `FROM name@digest`
# finds it. Arguments: the layout folder, the manifest's hex digest, the local name:tag.
LOAD = (
    "sh",
    "-c",
    "set -eu; view=$(mktemp -d); trap 'rm -rf \"$view\"' EXIT; "
    'for b in "$1"/blobs/sha256/*; do ln -s "$b" "$view/${b##*/}"; done; '
    'ln -s "$1/blobs/sha256/$2" "$view/manifest.json"; '
    "printf 'Directory Transport Version: 1.1\\n' > \"$view/version\"; "
    'id=$(buildah pull -q "dir:$view"); buildah tag "$id" "$3"',
    "tritonlock-load",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Vendored:
    """A build from a bundle of `tritonlock vendor` (:mod:`tritonlock.emit.vendored`)."""

    path: str  # the bundle's folder, absolute: the named build context
    # (local name:tag, manifest digest) of each image loaded from the bundle's OCI layout
    images: tuple[tuple[str, str], ...] = ()
    # name@digest of each image the bundle left out (--no-images): pulled before going offline
    pulled: tuple[str, ...] = ()


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
    vendor: Vendored | None = None


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
    if plan.vendor is not None:
        return vendored_commands(builder, plan, plan.vendor, common)
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


def vendored_commands(
    builder: Builder, plan: Plan, vendor: Vendored, common: list[str]
) -> list[Step]:
    """A build from a bundle: the images it left out pulled by digest first (the only
    step with a network), the bundle's images loaded, then one build, all in a new, empty
    network namespace (:data:`OFFLINE`) with the bundle as a named build context."""
    if builder != "buildah":
        raise ValueError("a vendored build runs with buildah")
    from .vendored import CONTEXT

    images = f"{vendor.path}/images"
    steps: list[Step] = [({}, ["buildah", "pull", "-q", ref]) for ref in vendor.pulled]
    for tag, digest in vendor.images:
        steps.append(({}, [*OFFLINE, *LOAD, images, digest.split(":", 1)[1], tag]))
    bud = ["buildah", "bud", *common, "--layers", "--timestamp", str(plan.source_date_epoch)]
    bud += ["--network=none", "--pull=never", "--build-context", f"{CONTEXT}={vendor.path}"]
    steps.append(({}, [*OFFLINE, *bud, "--tag", plan.tag, plan.context]))
    return steps


def _network(plan: Plan) -> list[str]:
    """``--network host`` when asked: buildx's RUNs otherwise get the daemon's default network;
    buildah's chroot isolation uses the host's anyway, its other isolations do not."""
    return ["--network", "host"] if plan.network == "host" else []


def _secrets(secrets: Sequence[SecretSpec]) -> list[str]:
    out = []
    for s in sorted(secrets, key=lambda s: s.id):
        out += ["--secret", s.flag()]
    return out
