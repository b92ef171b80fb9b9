"""The dependencies that Triton's in-tree wheels declare (pure: text in, lists out).

``tritonserver`` and ``tritonfrontend`` are built during the compile, so they are never
resolved; what they depend on is, read from ``pyproject.toml`` ``[project]`` or from
``setup()`` in ``setup.py`` with :mod:`ast` (never executed).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Mapping
from typing import TypeGuard

from packaging.utils import canonicalize_name

# In-tree wheels: distribution name -> files that may declare its dependencies, in the
# order they are consulted. tritonserver moved from setup.py (r24.12) to pyproject.toml
# (r25.04); build.py copies server:python/openai into the install tree's python/openai.
LOCAL_WHEELS: dict[str, tuple[str, ...]] = {
    "tritonserver": ("core:pyproject.toml", "core:python/setup.py"),
    "tritonfrontend": ("server:src/python/pyproject.toml", "server:src/python/setup.py"),
}
Metadata = tuple[list[str], dict[str, list[str]]]


def declared(dist: str, files: Mapping[str, str]) -> Metadata | str:
    """(dependencies, extras) that ``dist`` declares in the first of its
    :data:`LOCAL_WHEELS` files that ``files`` holds, or why they are unknown."""
    sources = LOCAL_WHEELS[dist]
    problems: list[str] = []
    for key in sources:
        if key not in files:
            continue
        reader = _from_pyproject if key.endswith(".toml") else _from_setup_py
        meta = reader(dist, files[key])
        if not isinstance(meta, str):
            return meta
        problems.append(f"{key}: {meta}")
    missing = [k for k in sources if k not in files]
    if missing:
        problems.append(f"not read: {', '.join(missing)}")
    return f"built in-tree; its dependencies are unknown ({'; '.join(problems)})"


def _from_pyproject(dist: str, text: str) -> Metadata | str:
    try:
        project = tomllib.loads(text).get("project")
    except tomllib.TOMLDecodeError as err:
        return f"not TOML ({err})"
    if not isinstance(project, dict) or canonicalize_name(str(project.get("name"))) != dist:
        return f"no [project] named {dist}"
    if "dependencies" in project.get("dynamic", []):
        return "dependencies are dynamic"
    deps = project.get("dependencies", [])
    extras = project.get("optional-dependencies", {})
    return _checked(deps, extras)


def _checked(deps: object, extras: object) -> Metadata | str:
    if not _strings(deps) or not isinstance(extras, dict) or not _strings(list(extras)):
        return "dependencies are not a list of strings"
    if not all(_strings(v) for v in extras.values()):
        return "optional dependencies are not lists of strings"
    return list(deps), {str(canonicalize_name(k)): list(v) for k, v in extras.items()}


def _strings(value: object) -> TypeGuard[list[str] | tuple[str, ...]]:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _from_setup_py(dist: str, text: str) -> Metadata | str:
    """``install_requires``/``extras_require`` of ``setup(name=dist, …)``, read with
    :mod:`ast`: literals, module-level names bound to literals, and ``+`` of lists."""
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        return f"not Python ({err.msg})"
    names: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = _value(node.value, names)
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name | ast.Attribute):
            continue
        func = call.func.id if isinstance(call.func, ast.Name) else call.func.attr
        kw = {k.arg: _value(k.value, names) for k in call.keywords if k.arg}
        name = kw.get("name")
        if func == "setup" and isinstance(name, str) and canonicalize_name(name) == dist:
            return _checked(kw.get("install_requires", []), kw.get("extras_require", {}))
    return f"no setup(name={dist!r}, ...)"


_UNKNOWN = object()


def _value(node: ast.expr, names: Mapping[str, object]) -> object:
    """A literal value of ``node`` (names and list ``+`` resolved), else ``_UNKNOWN``."""
    if isinstance(node, ast.Name):
        return names.get(node.id, _UNKNOWN)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _value(node.left, names), _value(node.right, names)
        if isinstance(left, list) and isinstance(right, list):
            return left + right
        return _UNKNOWN
    if isinstance(node, ast.List | ast.Tuple):
        items = [_value(e, names) for e in node.elts]
        return _UNKNOWN if _UNKNOWN in items else items
    if isinstance(node, ast.Dict):
        keys = [_value(k, names) if k else _UNKNOWN for k in node.keys]
        values = [_value(v, names) for v in node.values]
        return _UNKNOWN if _UNKNOWN in keys + values else dict(zip(keys, values, strict=True))
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNKNOWN
