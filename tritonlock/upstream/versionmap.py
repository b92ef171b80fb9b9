"""Release facts from upstream's own files: build.py's version map (read with ``ast``,
never imported), ``TRITON_VERSION`` and ``docs/introduction/compatibility.md``.

Each fact is recorded with where it was read (``build.py:81``,
``docs/introduction/compatibility.md:41``); the map wins over the table; a fact that does
not parse as a version of its kind (a TensorRT ``0.14.1.48``, an NGC build string for vLLM)
is kept verbatim and flagged with a note, as is a table fact taken from a different row than
the one it is compared with.

Pure functions over text; nothing here touches a file or the network.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from ..errors import ResolveError
from ..model import RELEASE_FIELDS, Release, ReleaseSource

FACT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_:~-]{0,63}$")
BUILD_PY = "build.py"
COMPAT_MD = "docs/introduction/compatibility.md"

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

Located = tuple[str, int]  # a value and the line it was read from


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
    located = version_map_lines(build_py, upstream_release=upstream_release)
    return {key: value for key, (value, _line) in located.items()}


def version_map_lines(build_py: str, *, upstream_release: str) -> dict[str, Located]:
    """The version map of one release: upstream's key -> (value, line in build.py)."""
    try:
        tree = ast.parse(build_py)
    except SyntaxError as err:
        raise ResolveError(f"build.py: not valid Python (line {err.lineno}): {err.msg}") from None
    nodes = dict(_map_nodes(tree))
    try:
        if "DEFAULT_TRITON_VERSION_MAP" in nodes:
            node = nodes["DEFAULT_TRITON_VERSION_MAP"]
            value = ast.literal_eval(node)
            return _lines(node, _strings(value, "DEFAULT_TRITON_VERSION_MAP"))
        if "TRITON_VERSION_MAP" in nodes:
            node = nodes["TRITON_VERSION_MAP"]
            value = ast.literal_eval(node)
            return _tuple_lines(node, _from_tuples(value, upstream_release))
    except (ValueError, TypeError, SyntaxError, RecursionError):
        raise ResolveError("build.py: the version map is not a literal; cannot read it") from None
    raise ResolveError(
        "build.py: no DEFAULT_TRITON_VERSION_MAP or TRITON_VERSION_MAP found; "
        "is this the server repo's build.py?"
    )


def _lines(node: ast.expr, values: dict[str, str]) -> dict[str, Located]:
    """Each key of a literal dict with the line of its value."""
    lines: dict[str, int] = {}
    if isinstance(node, ast.Dict):
        for key, item in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                lines[key.value] = item.lineno
    return {k: (v, lines.get(k, node.lineno)) for k, v in values.items()}


def _tuple_lines(node: ast.expr, values: dict[str, str]) -> dict[str, Located]:
    """The chosen row of the tuple map: every value on the line of its row."""
    line = node.lineno
    if isinstance(node, ast.Dict):
        for key, item in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == values.get("release_version"):
                line = item.lineno
    return {k: (v, line) for k, v in values.items()}


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


Row = tuple[int, dict[str, str]]  # line number, header -> cell


def _tables(markdown: str) -> Iterator[tuple[str, list[Row]]]:
    """Every pipe table with the nearest heading above it, rows as header->cell dicts."""
    heading, header = "", None
    rows: list[Row] = []
    for number, raw in enumerate([*markdown.splitlines(), ""], 1):
        line = raw.strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if header is None:
                header = [" ".join(c.split()).lower() for c in cells]
            elif not all(set(c) <= set("-: ") for c in cells):
                rows.append((number, dict(zip(header, cells, strict=False))))
            continue
        if header is not None:
            yield heading, rows
            header, rows = None, []
        if line.startswith("#"):
            heading = line.lstrip("#").strip().lower()


def compat_row(markdown: str, container: str, upstream_release: str) -> dict[str, str]:
    """The row of ``upstream_release`` in the table under a heading naming ``container``."""
    return _compat_row(markdown, container, upstream_release)[1]


def _compat_row(markdown: str, container: str, upstream_release: str) -> Row:
    for heading, rows in _tables(markdown):
        if container in heading:
            for number, row in rows:
                if row.get("triton release version") == upstream_release:
                    return number, row
    return 0, {}


def normalize_fact(value: str) -> str | None:
    """A table cell as a fact value (``Python 3.12.3`` -> ``3.12.3``), or None if unusable."""
    text = value.replace("%2B", "+").strip()
    text = re.sub(r"^python\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+(post|dev|rc)", r".\1", text)
    return text if FACT.match(text) else None


# fact -> (table heading, column) in the order tried; the first usable cell wins.
_COMPAT_CELLS = {
    "python": (("vllm-python-py3", "python version"), ("trtllm-python-py3", "python version")),
    "cuda": (("vllm-python-py3", "cuda version"), ("trtllm-python-py3", "cuda version")),
    "tensorrt": (("trtllm-python-py3", "tensorrt version"),),
    "vllm": (("vllm-python-py3", "vllm version"),),
    "onnxruntime": (("onnx runtime", "onnx runtime"),),
}


@dataclass(frozen=True)
class _Cell:
    value: str
    line: int
    table: str


def _compat_facts(markdown: str, upstream_release: str) -> dict[str, _Cell]:
    rows = {
        table: _compat_row(markdown, table, upstream_release)
        for cells in _COMPAT_CELLS.values()
        for table, _column in cells
    }
    out = {}
    for fact, cells in _COMPAT_CELLS.items():
        for table, column in cells:
            line, row = rows[table]
            value = normalize_fact(row[column]) if row.get(column) else None
            if value:
                out[fact] = _Cell(value, line, table)
                break
    return out


def _cuda_of(markdown: str, table: str, upstream_release: str) -> str | None:
    cell = _compat_row(markdown, table, upstream_release)[1].get("cuda version")
    return normalize_fact(cell) if cell else None


# fact -> (pattern, what a version of that kind looks like)
_KINDS = {
    "triton-version": (r"[0-9]+\.[0-9]+\.[0-9]+(dev)?", "MAJOR.MINOR.PATCH"),
    "container-version": (r"[0-9]{2}\.[0-9]{2}(dev)?", "YY.MM"),
    "upstream-container-version": (r"[0-9]{2}\.[0-9]{2}(dev)?", "YY.MM"),
    "python": (r"3\.[0-9]+(\.[0-9]+)?", "3.MINOR[.PATCH]"),
    "cuda": (r"[1-9][0-9]*\.[0-9]+(\.[0-9]+){0,2}", "MAJOR.MINOR[.PATCH[.BUILD]]"),
    "tensorrt": (r"[1-9][0-9]*\.[0-9]+\.[0-9]+(\.[0-9]+)?", "MAJOR.MINOR.PATCH[.BUILD], MAJOR ≥ 1"),
    "onnxruntime": (r"[0-9]+\.[0-9]+\.[0-9]+", "MAJOR.MINOR.PATCH"),
    "openvino": (r"20[0-9]{2}\.[0-9]+\.[0-9]+", "YYYY.MINOR.PATCH"),
    "dcgm": (r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?", "MAJOR.MINOR.PATCH[-BUILD]"),
}


def kind_problem(fact: str, value: str) -> str | None:
    """Why ``value`` is not a version of the kind ``fact`` names, or None when it is."""
    if fact == "vllm":
        try:
            version = Version(value)
        except InvalidVersion:
            return "not a PEP 440 version, so not a vLLM release on PyPI"
        if version.local is not None:
            return f"an NGC build string, not a vLLM release on PyPI (public part {version.public})"
        return None
    pattern, shape = _KINDS.get(fact, (r".+", ""))
    if re.fullmatch(pattern, value):
        return None
    return f"not a {fact} version ({shape})"


def _check_triton_version(facts: dict[str, tuple[str, str]], triton_version: str | None) -> None:
    """TRITON_VERSION and the map agree at every release; a tree where they differ is odd."""
    text = (triton_version or "").strip()
    if not text:
        return
    if "triton-version" not in facts:
        facts["triton-version"] = (text, "TRITON_VERSION:1")
    elif facts["triton-version"][0] != text:
        raise ResolveError(
            f"build.py: version map says {facts['triton-version'][0]} but TRITON_VERSION says "
            f"{text}; check the server ref"
        )


def _container(vmap: dict[str, Located], release: str) -> None:
    """build.py names its default branches ``r<triton_container_version>`` (``main`` for a
    ``dev`` version) and derives every NGC image tag from ``upstream_container_version``,
    which may lag it (26.05 builds on 26.04 images). So the container version must be the
    release asked for; the upstream one must be a container version, and is recorded."""
    own = vmap.get("triton_container_version") or vmap.get("upstream_container_version")
    container = own[0] if own else ""
    if container.removesuffix("dev") != release:
        raise ResolveError(
            f"build.py: version map is for container {container or '?'}, "
            f"not {release}; check the server ref"
        )
    upstream = vmap.get("upstream_container_version")
    if upstream and kind_problem("upstream-container-version", upstream[0]):
        raise ResolveError(
            f"build.py:{upstream[1]}: upstream_container_version {upstream[0]!r} is not a "
            "container version (YY.MM); its images cannot be named"
        )


def read_release_facts(
    build_py: str,
    triton_version: str | None,
    compat_md: str | None,
    *,
    upstream_release: str,
) -> Release:
    """Facts of one release (``upstream_release`` is the container release asked for),
    each with where it was read; build.py's map wins over the compatibility table."""
    vmap = version_map_lines(build_py, upstream_release=upstream_release)
    _container(vmap, upstream_release)
    cells = _compat_facts(compat_md, upstream_release) if compat_md else {}
    facts = {f: (c.value, f"{COMPAT_MD}:{c.line}") for f, c in cells.items()}
    notes: dict[str, list[str]] = {}
    for key, fact in _MAP_FACTS.items():
        if key in vmap and vmap[key][0]:
            value, line = vmap[key]
            cell = cells.get(fact)
            if cell is not None and cell.value != value:
                notes.setdefault(fact, []).append(f"{COMPAT_MD}:{cell.line} says {cell.value}")
            facts[fact] = (value, f"{BUILD_PY}:{line}")
    _check_triton_version(facts, triton_version)
    for fact, (value, where) in facts.items():
        if not FACT.match(value):
            raise ResolveError(f"{where}: release fact {fact}={value!r} is not a version string")
        problem = kind_problem(fact, value)
        if problem:
            notes.setdefault(fact, []).insert(0, problem)
    if compat_md and "tensorrt" in cells and "cuda" in cells:
        _rows_agree(compat_md, upstream_release, cells, notes)
    kept = {k: v for k, v in facts.items() if k in RELEASE_FIELDS}
    return Release(
        facts=tuple(sorted((k, v) for k, (v, _where) in kept.items())),
        sources=tuple(
            ReleaseSource(fact=k, source=where, note="; ".join(notes[k]) if k in notes else None)
            for k, (_v, where) in sorted(kept.items())
        ),
    )


def _rows_agree(
    markdown: str, release: str, cells: dict[str, _Cell], notes: dict[str, list[str]]
) -> None:
    """tensorrt comes from the TensorRT-LLM image's row, cuda from the vLLM image's: say so
    when those rows name different CUDA versions."""
    trt, cuda = cells["tensorrt"], cells["cuda"]
    if trt.table == cuda.table:
        return
    other = _cuda_of(markdown, trt.table, release)
    if other and other != cuda.value:
        notes.setdefault("tensorrt", []).append(
            f"read from the {trt.table} row, whose CUDA is {other}, not cuda={cuda.value} "
            f"({COMPAT_MD}:{cuda.line}, {cuda.table})"
        )
