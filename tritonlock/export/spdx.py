"""An inventory as an SPDX 2.3 JSON document, written (and validated) with ``spdx-tools``.

The library is optional (``pip install 'tritonlock[sbom]'``); :func:`render` says so in one
line when it is missing. Each part is a package (purl as a ``PACKAGE-MANAGER`` reference,
sha256 as a checksum), the document ``DESCRIBES`` the build, and each dependency of the
inventory is a ``DEPENDS_ON`` relationship. The namespace is derived from the lock's content
hash, so the same inventory and time give the same bytes.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import TritonLockError
from .inventory import Inventory, Kind, Part
from .optional import require

if TYPE_CHECKING:
    from spdx_tools.spdx.model.package import Package

SPEC = "SPDX-2.3"
_PURPOSES: dict[Kind, str] = {
    "build": "CONTAINER",
    "image": "CONTAINER",
    "step": "INSTALL",
    "git": "SOURCE",
    "submodule": "SOURCE",
    "wheel": "LIBRARY",
    "download": "FILE",
    "apt": "LIBRARY",
}


def render(inv: Inventory, created: datetime) -> str:
    """The SPDX JSON text of ``inv``, dated ``created``; spdx-tools validates it as it writes."""
    require("spdx_tools", "spdx-tools")
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.document import CreationInfo, Document
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    ids = spdx_ids(inv)
    name = f"tritonserver-{inv.release}-{inv.target}"
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"tritonlock:spdx:{inv.content_hash}")
    info = CreationInfo(
        spdx_version=SPEC,
        spdx_id="SPDXRef-DOCUMENT",
        name=name,
        document_namespace=f"urn:uuid:{namespace}",
        creators=[Actor(ActorType.TOOL, f"tritonlock-{__version__}")],
        created=created,
        document_comment=f"Every pin of a tritonlock lock with content-hash {inv.content_hash}."
        + "".join(f" Not pinned: {u}." for u in inv.unresolved),
    )
    parts = (inv.root, *inv.parts)
    rels = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, ids[inv.root.ref])]
    rels += [
        Relationship(ids[p.ref], RelationshipType.DEPENDS_ON, ids[d])
        for p in parts
        for d in p.depends
    ]
    doc = Document(
        creation_info=info, packages=[_package(p, ids[p.ref]) for p in parts], relationships=rels
    )
    out = io.StringIO()
    try:
        write_document_to_stream(doc, out, validate=True)
    except ValueError as err:  # spdx-tools lists what it found invalid
        raise TritonLockError(f"SPDX: the document does not validate: {err}") from None
    return out.getvalue() + "\n"


def spdx_ids(inv: Inventory) -> dict[str, str]:
    """A unique ``SPDXRef-…`` id (letters, digits, ``.`` and ``-``) for each part's ref."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for part in (inv.root, *inv.parts):
        base = "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]+", "-", part.ref).strip("-")
        spdx_id, n = base, 1
        while spdx_id in taken:
            n += 1
            spdx_id = f"{base}-{n}"
        taken.add(spdx_id)
        out[part.ref] = spdx_id
    return out


def _package(part: Part, spdx_id: str) -> Package:
    from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
    from spdx_tools.spdx.model.package import (
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        PackagePurpose,
    )
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    refs = []
    if part.purl:
        refs.append(
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", part.purl)
        )
    facts = "; ".join(f"{k}={v}" for k, v in part.properties)
    return Package(
        spdx_id=spdx_id,
        name=part.name,
        download_location=_location(part) or SpdxNoAssertion(),
        version=part.version,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, part.sha256)] if part.sha256 else [],
        description=part.description,
        comment=facts or None,
        external_references=refs,
        primary_package_purpose=PackagePurpose[_PURPOSES[part.kind]],
    )


def _location(part: Part) -> str | None:
    """Where the package's bytes come from, as SPDX spells it (``git+URL@COMMIT``)."""
    if part.url is None:
        return None
    if part.kind in ("git", "submodule"):
        return f"git+{part.url}@{part.version}"
    return part.url
