"""The image roles a build.py reads from ``--image ROLE,REF`` (read with ``ast``, never run).

build.py keeps the option's pairs in a dict named ``images`` and asks for roles by name:
``if "base" in images``, ``images["gpu-base"]``, or a local such as
``backend_name = "tensorflow"`` … ``if backend_name in images``. Every such name is a role
that release knows; the set differs between releases (``inference`` from r26.03).
Pure functions over text.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..errors import ResolveError, UsageError
from .options import IMAGE_ROLES

_IMAGES = "images"


def _constants(scope: ast.AST) -> dict[str, str]:
    """Names assigned exactly one string constant in ``scope`` (a local alias of a role)."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found.setdefault(target.id, set()).add(node.value.value)
    return {name: next(iter(values)) for name, values in found.items() if len(values) == 1}


def _name(node: ast.expr, local: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return local.get(node.id)
    return None


def _is_images(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == _IMAGES


def _roles_in(scope: ast.AST, local: Mapping[str, str]) -> Iterator[str]:
    for node in ast.walk(scope):
        if isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn) and _is_images(right):
                    role = _name(node.left, local)
                    if role:
                        yield role
        elif isinstance(node, ast.Subscript) and _is_images(node.value):
            role = _name(node.slice, local)
            if role:
                yield role
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _is_images(node.func.value)
            and node.args
        ):
            role = _name(node.args[0], local)
            if role:
                yield role


def image_roles(build_py: str) -> frozenset[str]:
    """Every role this build.py asks its ``images`` dict for."""
    try:
        tree = ast.parse(build_py)
    except SyntaxError as err:
        raise ResolveError(f"build.py: not valid Python (line {err.lineno}): {err.msg}") from None
    roles: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            roles.update(_roles_in(node, _constants(node)))
    roles.update(_roles_in(tree, {}))
    return frozenset(roles)


def check_image_roles(build_py: str, images: Iterable[tuple[str, str]], where: str) -> None:
    """UsageError when ``--image ROLE,…`` names a role this build.py never reads (it would
    be ignored, and the lock would claim an image the build does not use)."""
    asked: Sequence[str] = sorted({role for role, _ref in images})
    if not asked:
        return
    known = image_roles(build_py) or IMAGE_ROLES
    for role in asked:
        if role not in known:
            raise UsageError(
                f"--image {role},…: build.py at {where} does not read image role {role!r} "
                f"(it reads {', '.join(sorted(known))})"
            )
