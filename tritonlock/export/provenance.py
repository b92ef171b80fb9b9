"""The provenance of a build folder: an in-toto Statement v1 with a SLSA provenance v1
predicate (pure: data in, bytes out; ``tritonlock build`` writes it beside the Dockerfile).

- ``subject``: the image tag the build makes. Its digest is not known before the image is
  built, so the emitted statement has an empty ``digest`` and an annotation saying so;
  ``tritonlock build --run`` fills in the image ID the builder reports
  (:func:`with_subject_digest`), after which the statement is complete.
- ``buildDefinition.externalParameters``: the lock (its content hash and what it asks
  for), the builder, the network mode and the secret ids (never their values).
- ``buildDefinition.internalParameters``: the builder invocations of ``build.sh``, the
  target platform, ``SOURCE_DATE_EPOCH``.
- ``buildDefinition.resolvedDependencies``: every pin of the lock (git pins by commit,
  submodules, wheel and sdist files, images, downloads by sha256, apt packages by purl) and
  every other file of the build folder by sha256.
- ``runDetails.builder``: tritonlock and the builder it runs (buildx or buildah).

The statement is not signed; sign it with the tool you trust (e.g. ``cosign attest-blob``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .. import __version__
from ..model import Lock
from .inventory import Part, inventory

FILE = "provenance.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
# Names what externalParameters and internalParameters mean (README, "Provenance"); the
# project has no public URL to document them at yet (``.invalid``: RFC 2606, never resolves).
BUILD_TYPE = "https://tritonlock.invalid/build/v1"
BUILDER = "https://tritonlock.invalid/builder/"
PENDING = "not known before the image is built; `tritonlock build --run` fills in the image ID"
FILLED = "the image ID the builder reported after the build (for buildah and Docker's classic "
FILLED += "image store, the sha256 of the image config)"

Json = dict[str, Any]


def statement(
    lock: Lock,
    *,
    tag: str,
    builder: str,
    network: str,
    secrets: Sequence[str],
    platform: str,
    source_date_epoch: int,
    invocations: Sequence[tuple[Mapping[str, str], Sequence[str]]],
    files: Mapping[str, bytes],
) -> Json:
    """The statement for the build of ``lock`` by ``invocations`` (``build.sh``'s commands,
    as ``(environment, argv)``), whose folder holds ``files``."""
    parts = inventory(lock).parts
    pins = [p for p in parts if p.kind not in ("step", "image")]
    pins += [p for p in parts if p.kind == "image" and p.purl]  # pinned, not built
    deps = [_dependency(p) for p in pins]
    deps += [
        {"name": name, "digest": {"sha256": hashlib.sha256(data).hexdigest()}}
        for name, data in sorted(files.items())
        if name != FILE
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": tag, "digest": {}, "annotations": {"digest": PENDING}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "lock": {
                        "contentHash": lock.content_hash or "",
                        "lockVersion": lock.lock_version,
                        "inputs": lock.inputs.to_dict(),
                    },
                    "builder": builder,
                    "network": network,
                    "secrets": sorted(secrets),
                },
                "internalParameters": {
                    "invocations": [
                        {"env": dict(sorted(env.items())), "argv": list(argv)}
                        for env, argv in invocations
                    ],
                    "platform": platform,
                    "sourceDateEpoch": source_date_epoch,
                },
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {
                    "id": BUILDER + builder,
                    "version": {"tritonlock": __version__},
                },
            },
        },
    }


def _dependency(part: Part) -> Json:
    """A pin as a SLSA ResourceDescriptor: a git pin by commit (``git+URL@REF``, the SLSA
    convention), everything else by its purl or URL and sha256 where the lock has one."""
    out: Json = {"name": part.ref}
    if part.kind in ("git", "submodule") and part.url is not None:
        ref = dict(part.properties).get("tritonlock:ref")
        out["uri"] = f"git+{part.url}" + (f"@{ref}" if ref else "")
        out["digest"] = {"gitCommit": part.version}
        return out
    out["uri"] = part.url if part.kind == "download" else part.purl
    if part.sha256:
        out["digest"] = {"sha256": part.sha256}
    return out


def render(doc: Json) -> bytes:
    """The statement as JSON, keys sorted: the same statement gives the same bytes."""
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def with_subject_digest(blob: bytes, digest: str) -> bytes:
    """The statement ``blob`` with its subject's digest (``sha256:…``) filled in."""
    doc = json.loads(blob)
    algo, _, value = digest.partition(":")
    for subject in doc["subject"]:
        subject["digest"] = {algo: value}
        subject["annotations"] = {"digest": FILLED}
    return render(doc)
