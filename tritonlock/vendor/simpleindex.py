"""`mirror push --index FOLDER`: the bundle's wheels as a static PEP 691 JSON simple index,
which any static web server serves (told the content type and the index file name)::

    FOLDER/simple/index.json           the project list ({"projects": [{"name": …}, …]})
    FOLDER/simple/<name>/index.json    a project page: each file with its url, sha256, size
                                       and, when its index gave one, its PEP 700 upload-time
    FOLDER/files/<file>                the files (each page points at ../../files/<file>)

The upload times are the source index's, recorded by `vendor` in the manifest, so that a
`resolve` inside the site with a dated ``--exclude-newer`` cutoff sees the files it saw
outside. Pages are merged with what the folder holds (another bundle's files stay listed);
the same bundle pushed again writes the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from packaging.utils import canonicalize_name

from ..errors import ResolveError
from ..util.atomic import atomic_write_text
from .manifest import Entry, Manifest

API_VERSION = "1.1"  # PEP 700: upload-time, size
CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
PAGE = "index.json"
Progress = Callable[[str], None]


def project_of(e: Entry) -> str:
    """The normalized project name of a wheel entry (its ``what`` is ``index/project``)."""
    return str(canonicalize_name(e.what.split("/", 1)[-1]))


def file_record(e: Entry) -> dict[str, Any]:
    """A PEP 691 file entry of a wheel of the bundle."""
    name = e.path.rsplit("/", 1)[-1]
    record: dict[str, Any] = {
        "filename": name,
        "url": f"../../files/{quote(name)}",
        "hashes": {"sha256": e.sha256.split(":", 1)[1]},
        "size": e.size,
    }
    if e.uploaded is not None:
        record["upload-time"] = e.uploaded
    return record


def pages(found: Manifest) -> dict[str, list[dict[str, Any]]]:
    """Normalized project name → its file entries (by file name), of the bundle's wheels."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for e in found.files:
        if e.kind == "wheel":
            record = file_record(e)
            out.setdefault(project_of(e), {})[record["filename"]] = record
    return {name: [files[f] for f in sorted(files)] for name, files in sorted(out.items())}


def page_text(name: str, files: list[dict[str, Any]]) -> str:
    page = {"meta": {"api-version": API_VERSION}, "name": name, "files": files}
    return json.dumps(page, indent=1, sort_keys=True) + "\n"


def root_text(names: list[str]) -> str:
    projects = [{"name": n} for n in sorted(names)]
    return json.dumps({"meta": {"api-version": API_VERSION}, "projects": projects}, indent=1) + "\n"


def write_pages(found: Manifest, folder: Path, progress: Progress) -> int:
    """Write (merge) the project pages and the project list; how many projects the bundle has."""
    simple = folder / "simple"
    ours = pages(found)
    for name, files in ours.items():
        page = simple / name / PAGE
        merged = {f["filename"]: f for f in _listed(page)} | {f["filename"]: f for f in files}
        text = page_text(name, [merged[f] for f in sorted(merged)])
        if _read(page) == text:
            progress(f"index page {name}: already at {page}")
            continue
        atomic_write_text(page, text)
        progress(f"index page {name}: {len(files)} file{'s' if len(files) != 1 else ''} at {page}")
    names = sorted({*ours, *(p.parent.name for p in simple.glob(f"*/{PAGE}"))})
    if names and _read(simple / PAGE) != root_text(names):
        atomic_write_text(simple / PAGE, root_text(names))
    return len(ours)


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ResolveError(f"{path}: cannot be read: {err}") from None


def _listed(page: Path) -> list[dict[str, Any]]:
    """The file entries of a page the folder already holds (none when there is none)."""
    text = _read(page)
    if text is None:
        return []
    try:
        files = json.loads(text)["files"]
        if isinstance(files, list) and all(
            isinstance(f, dict) and isinstance(f.get("filename"), str) for f in files
        ):
            return files
    except (ValueError, KeyError, TypeError):
        pass
    raise ResolveError(f"{page}: not a PEP 691 project page; remove it, or choose another --index")
