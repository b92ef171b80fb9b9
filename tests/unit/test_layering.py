"""The package layout follows the pipeline: no module imports a later stage, sibling stages do
not import each other, and the top level of ``tritonlock/`` holds only the shared pieces."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tritonlock"

# The pipeline, earliest first: a module may import its own unit and any earlier layer.
# Units in one layer are siblings and import none of each other. Names are below `tritonlock.`.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("",),  # tritonlock/__init__.py: the version
    ("errors",),
    ("util",),
    ("model",),
    ("upstream",),
    ("sources",),
    ("resolve",),
    ("lockfile",),
    ("export", "vendor"),
    ("verify", "diff", "emit"),
    ("runner",),
    ("commands",),
    ("cli",),
    ("_entry",),
    ("__main__",),
)
# The top level: the model, the errors and the CLI entry (the lock file is the lockfile/
# package); every other module lives in a package of the pipeline.
TOP_MODULES = {"__init__.py", "__main__.py", "_entry.py", "cli.py", "errors.py", "model.py"}
TOP_DATA = {"py.typed", "schemas"}
PACKAGES = {u for layer in LAYERS for u in layer} - {
    "",
    "errors",
    "model",
    "cli",
    "_entry",
    "__main__",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(name: str, is_package: bool, source: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every tritonlock import in ``source``, however nested."""
    package = name if is_package else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for a in node.names:  # `from pkg import sub` imports the submodule pkg.sub
                sub = PACKAGE.parent / Path(*f"{target}.{a.name}".split("."))
                known = sub.with_suffix(".py").is_file() or sub.is_dir()
                out.append((node.lineno, f"{target}.{a.name}" if known else target))
    return [(line, m) for line, m in out if m == "tritonlock" or m.startswith("tritonlock.")]


def problems(name: str, is_package: bool, source: str) -> list[str]:
    """Every import in ``source`` (module ``name``) of a later stage or of a sibling."""
    mine, my_unit = unit_of(name)
    out = []
    for line, target in imported(name, is_package, source):
        theirs, their_unit = unit_of(target)
        if theirs > mine:
            out.append(f"{name}:{line}: {my_unit or 'tritonlock'} imports later {target}")
        elif theirs == mine and their_unit != my_unit:
            out.append(f"{name}:{line}: {my_unit} imports its sibling {target}")
    return out


def unit_of(module: str) -> tuple[int, str]:
    """(layer index, unit) of a tritonlock module."""
    rest = module.removeprefix("tritonlock").removeprefix(".")
    head = rest.split(".")[0]
    for i, layer in enumerate(LAYERS):
        if head in layer:
            return i, head
    raise AssertionError(f"{module}: in no layer of LAYERS; add its package to the pipeline")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_layer() -> None:
    for path in modules():
        unit_of(module_name(path))


def test_no_module_imports_a_later_stage_or_a_sibling() -> None:
    found = []
    for path in modules():
        found += problems(module_name(path), path.name == "__init__.py", path.read_text("utf-8"))
    assert found == []


def test_the_checker_sees_upward_sibling_and_nested_imports() -> None:
    source = (
        "from ..sources import urls\n"  # earlier: fine
        "from ..emit import bake\n"  # later: upward
        "def f():\n    from tritonlock.runner import execute\n"  # later, inside a function
    )
    assert problems("tritonlock.resolve.x", False, source) == [
        "tritonlock.resolve.x:2: resolve imports later tritonlock.emit.bake",
        "tritonlock.resolve.x:4: resolve imports later tritonlock.runner",
    ]
    sibling = "from ..diff import describe\nfrom . import dockerfile\n"
    assert problems("tritonlock.emit", True, sibling) == [
        "tritonlock.emit:1: emit imports its sibling tritonlock.diff",
    ]


def test_the_top_level_holds_only_the_shared_pieces() -> None:
    for p in PACKAGE.iterdir():
        if p.is_dir() and p.name not in ("__pycache__", "schemas"):
            assert p.name in PACKAGES, f"tritonlock/{p.name}/ is not a stage in LAYERS"
        elif p.is_file():
            assert p.name in TOP_MODULES | TOP_DATA, f"tritonlock/{p.name}: move it to a package"
    assert {p.name for p in PACKAGE.iterdir()} >= TOP_MODULES | TOP_DATA | PACKAGES
