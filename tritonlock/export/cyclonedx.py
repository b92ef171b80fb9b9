"""An inventory as a CycloneDX 1.6 JSON SBOM, written with ``cyclonedx-python-lib``.

The library is optional (``pip install 'tritonlock[sbom]'``); :func:`render` says so in one
line when it is missing. The document is the same for the same inventory and time: its
serial number is derived from the lock's content hash.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import __version__
from .inventory import Inventory, Kind, Part
from .optional import require

if TYPE_CHECKING:
    from cyclonedx.model.component import Component

SPEC = "1.6"
_TYPES: dict[Kind, str] = {
    "build": "container",
    "image": "container",
    "step": "application",
    "git": "library",
    "submodule": "library",
    "wheel": "library",
    "download": "file",
    "apt": "library",
}


def render(inv: Inventory, created: datetime) -> str:
    """The CycloneDX JSON text of ``inv``, dated ``created``."""
    require("cyclonedx", "cyclonedx-python-lib")
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository
    from cyclonedx.output.json import JsonV1Dot6

    root = _component(inv.root)
    tool = Component(type=ComponentType.APPLICATION, name="tritonlock", version=__version__)
    bom = Bom(
        serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"tritonlock:cyclonedx:{inv.content_hash}"),
        metadata=BomMetaData(
            component=root,
            timestamp=created,
            tools=ToolRepository(components=[tool]),
            properties=_properties(
                (
                    ("tritonlock:content-hash", inv.content_hash),
                    ("tritonlock:release", inv.release),
                    ("tritonlock:target", inv.target),
                    *(("tritonlock:unresolved", u) for u in inv.unresolved),
                )
            ),
        ),
    )
    made = {inv.root.ref: root}
    for part in inv.parts:
        made[part.ref] = _component(part)
        bom.components.add(made[part.ref])
    for part in (inv.root, *inv.parts):
        bom.register_dependency(made[part.ref], [made[d] for d in part.depends])
    text: str = JsonV1Dot6(bom).output_as_string(indent=2)
    return text + "\n"


def _component(part: Part) -> Component:
    from cyclonedx.model import (
        ExternalReference,
        ExternalReferenceType,
        HashAlgorithm,
        HashType,
        XsUri,
    )
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    refs = []
    if part.url is not None:
        kind = (
            ExternalReferenceType.VCS
            if part.kind in ("git", "submodule")
            else ExternalReferenceType.DISTRIBUTION
        )
        refs.append(ExternalReference(type=kind, url=XsUri(part.url)))
    return Component(
        bom_ref=part.ref,
        type=ComponentType(_TYPES[part.kind]),
        name=part.name,
        version=part.version,
        description=part.description,
        purl=PackageURL.from_string(part.purl) if part.purl else None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=part.sha256)] if part.sha256 else [],
        external_references=refs,
        properties=_properties(
            (("tritonlock:kind", part.kind), *part.properties)  # the part's own facts
        ),
    )


def _properties(pairs: Any) -> list[Any]:
    from cyclonedx.model import Property

    return [Property(name=k, value=v) for k, v in pairs if v]
