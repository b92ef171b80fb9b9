"""The BuildKit source policy: every image ref and git source converted to its pin.

Format: https://docs.docker.com/build/building/variables/#experimental_buildkit_source_policy
"""

from __future__ import annotations

import json
from typing import Any

from ..model import ImagePin, Lock
from ..util.imageref import normalize_ref, split_ref


def _image_rule(im: ImagePin) -> dict[str, Any]:
    name, tag, _ = split_ref(im.ref)
    ref = f"{normalize_ref(name)}:{tag or 'latest'}"
    return _convert(f"docker-image://{ref}", f"docker-image://{ref}@{im.digest}")


def _convert(selector: str, update: str) -> dict[str, Any]:
    return {
        "action": "CONVERT",
        "selector": {"identifier": selector},
        "updates": {"identifier": update},
    }


def _git_rules(url: str, ref: str | None, commit: str) -> list[dict[str, Any]]:
    host_path = url.split("://", 1)[1]
    out = []
    for ident in sorted({url, f"git://{host_path}"}):
        if ref is not None:
            out.append(_convert(f"{ident}#{ref}", f"{ident}#{commit}"))
    return out


def rules(lock: Lock) -> list[dict[str, Any]]:
    out = [_image_rule(im) for im in lock.image]
    for g in lock.git:
        out += _git_rules(g.url, g.ref, g.commit)
    unique = {json.dumps(r, sort_keys=True): r for r in out}
    return [unique[k] for k in sorted(unique)]


def render(lock: Lock) -> bytes:
    return (json.dumps({"rules": rules(lock)}, indent=2) + "\n").encode()
