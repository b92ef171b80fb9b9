"""Release facts from upstream's own files: build.py's version map (read with ``ast``,
never imported), ``TRITON_VERSION`` and ``docs/introduction/compatibility.md``.

Pure functions over text; nothing here touches a file or the network.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..errors import ResolveError
from ..model import RELEASE_FIELDS, Release

FACT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_:~-]{0,63}$")

# The older tuple shape, in upstream's order (r24.04 .. r24.11).
_TUPLE_KEYS = (
    "triton_container_version",
    "upstream_container_version",
    "ort_version",
    "ort_openvino_version",
    "standalone_openvino_version",
    "dcgm_version",
    "vllm_version",
    "rhel_py_version",
)

# version-map key -> release fact
_MAP_FACTS = {
    "release_version": "triton-version",
    "triton_container_version": "container-version",
    "upstream_container_version": "upstream-container-version",
    "vllm_version": "vllm",
    "ort_version": "onnxruntime",
    "standalone_openvino_version": "openvino",
    "dcgm_version": "dcgm",
}


def _map_nodes(tree: ast.Module) -> Iterator[tuple[str, ast.expr]]:
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and node.value is not None:
                yield target.id, node.value


def parse_version_map(build_py: str, *, upstream_release: str) -> dict[str, str]:
    """The version map of one release as a dict with upstream's key names."""
    try:
        tree = ast.parse(build_py)
    except SyntaxError as err:
        raise ResolveError(f"build.py: not valid Python (line {err.lineno}): {err.msg}") from None
    nodes = dict(_map_nodes(tree))
    try:
        if "DEFAULT_TRITON_VERSION_MAP" in nodes:
            value = ast.literal_eval(nodes["DEFAULT_TRITON_VERSION_MAP"])
            return _strings(value, "DEFAULT_TRITON_VERSION_MAP")
        if "TRITON_VERSION_MAP" in nodes:
            value = ast.literal_eval(nodes["TRITON_VERSION_MAP"])
            return _from_tuples(value, upstream_release)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        raise ResolveError("build.py: the version map is not a literal; cannot read it") from None
    raise ResolveError(
        "build.py: no DEFAULT_TRITON_VERSION_MAP or TRITON_VERSION_MAP found; "
        "is this the server repo's build.py?"
    )


def _strings(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ResolveError(f"build.py: {what} is not a dict of strings")
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _from_tuples(value: object, upstream_release: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ResolveError("build.py: TRITON_VERSION_MAP is not a non-empty dict")
    rows = {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, tuple)}
    chosen = [k for k, v in rows.items() if v and v[0] == upstream_release]
    if len(chosen) != 1 and len(rows) == 1:
        chosen = list(rows)
    if len(chosen) != 1:
        raise ResolveError(
            f"build.py: TRITON_VERSION_MAP has no single entry for container {upstream_release}"
        )
    release = chosen[0]
    out = {"release_version": release}
    for key, item in zip(_TUPLE_KEYS, rows[release], strict=False):
        if isinstance(item, str):
            out[key] = item
    return out


def _tables(markdown: str) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """Every pipe table with the nearest heading above it, rows as header->cell dicts."""
    heading, header = "", None
    rows: list[dict[str, str]] = []
    for raw in [*markdown.splitlines(), ""]:
        line = raw.strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if header is None:
                header = [" ".join(c.split()).lower() for c in cells]
            elif not all(set(c) <= set("-: ") for c in cells):
                rows.append(dict(zip(header, cells, strict=False)))
            continue
        if header is not None:
            yield heading, rows
            header, rows = None, []
        if line.startswith("#"):
            heading = line.lstrip("#").strip().lower()


def compat_row(markdown: str, container: str, upstream_release: str) -> dict[str, str]:
    """The row of ``upstream_release`` in the table under a heading naming ``container``."""
    for heading, rows in _tables(markdown):
        if container in heading:
            for row in rows:
                if row.get("triton release version") == upstream_release:
                    return row
    return {}


def normalize_fact(value: str) -> str | None:
    """A table cell as a fact value (``Python 3.12.3`` -> ``3.12.3``), or None if unusable."""
    text = value.replace("%2B", "+").strip()
    text = re.sub(r"^python\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+(post|dev|rc)", r".\1", text)
    return text if FACT.match(text) else None


def _compat_facts(markdown: str, upstream_release: str) -> dict[str, str]:
    vllm = compat_row(markdown, "vllm-python-py3", upstream_release)
    trtllm = compat_row(markdown, "trtllm-python-py3", upstream_release)
    ort = compat_row(markdown, "onnx runtime", upstream_release)
    picks = {
        "python": (vllm.get("python version"), trtllm.get("python version")),
        "cuda": (vllm.get("cuda version"), trtllm.get("cuda version")),
        "tensorrt": (trtllm.get("tensorrt version"),),
        "vllm": (vllm.get("vllm version"),),
        "onnxruntime": (ort.get("onnx runtime"),),
    }
    out = {}
    for fact, cells in picks.items():
        for cell in cells:
            value = normalize_fact(cell) if cell else None
            if value:
                out[fact] = value
                break
    return out


def _check_triton_version(facts: dict[str, str], triton_version: str | None) -> None:
    """TRITON_VERSION and the map agree at every release; a tree where they differ is odd."""
    text = (triton_version or "").strip()
    if not text:
        return
    if "triton-version" not in facts:
        facts["triton-version"] = text
    elif facts["triton-version"] != text:
        raise ResolveError(
            f"build.py: version map says {facts['triton-version']} but TRITON_VERSION says "
            f"{text}; check the server ref"
        )


def read_release_facts(
    build_py: str,
    triton_version: str | None,
    compat_md: str | None,
    *,
    upstream_release: str,
) -> Release:
    """Facts of one release; build.py's map wins over the compatibility table."""
    vmap = parse_version_map(build_py, upstream_release=upstream_release)
    container = vmap.get("upstream_container_version", vmap.get("triton_container_version", ""))
    if container.removesuffix("dev") != upstream_release:
        raise ResolveError(
            f"build.py: version map is for container {container or '?'}, "
            f"not {upstream_release}; check the server ref"
        )
    facts = _compat_facts(compat_md, upstream_release) if compat_md else {}
    for key, fact in _MAP_FACTS.items():
        if vmap.get(key):
            facts[fact] = vmap[key]
    _check_triton_version(facts, triton_version)
    for fact, value in facts.items():
        if not FACT.match(value):
            raise ResolveError(f"build.py: release fact {fact}={value!r} is not a version string")
    return Release(facts=tuple(sorted((k, v) for k, v in facts.items() if k in RELEASE_FIELDS)))
