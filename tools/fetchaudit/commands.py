"""The commands the compile runs, and the scripts they run (pure): every command of a
reached ``execute_process``/``add_custom_command``/``add_custom_target``/
``ExternalProject_Add`` (and those not reached that would install, download or run a
script), and ``cmake_build``'s clones, pip runs, downloads and scripts."""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence

from tritonlock.emit import pip_step_names, provides
from tritonlock.upstream import cmake, shell
from tritonlock.upstream import commands as shcmd

from . import scan
from .declarations import (
    call_not_built,
    classify_fetch,
    cloned,
    commands_at,
    not_reached,
    word,
)
from .model import (
    NO_FETCH,
    NOT_PROVIDED,
    NOT_REACHED,
    PROVIDED,
    UNRESOLVED,
    Audit,
    Finding,
    Seen,
    Tree,
    norm,
    pin_for,
    short,
    unresolved,
)

MAX_SCRIPT_DEPTH = 4


def resolve_path(
    tree: Tree, written: str, base_dir: str, generated: Mapping[str, str] | None = None
) -> str | None:
    """A script path as the walk expanded it (absolute in the virtual tree, relative to
    ``base_dir``, or with an unknown part dropped) as a path of ``tree``; a file
    ``configure_file`` writes (``generated``) is its input's path."""
    if generated and written in generated:
        return generated[written] if generated[written] in tree.paths else None
    if written.startswith(cmake.BIN + "/"):
        return None
    if written.startswith(cmake.SRC + "/"):
        path = written[len(cmake.SRC) + 1 :]
    elif written.startswith("/"):
        path = written.lstrip("/")
    else:
        path = posixpath.normpath(posixpath.join(base_dir, written))
    if path in tree.paths:
        return path
    base = posixpath.basename(written)
    near = sorted(p for p in tree.paths if posixpath.basename(p) == base and p.startswith(base_dir))
    anywhere = sorted(p for p in tree.paths if posixpath.basename(p) == base)
    pick = near or anywhere
    return pick[0] if len(pick) == 1 else None


def command_findings(a: Audit, tree: Tree) -> None:
    """Each command a reached CMake call runs that installs, downloads or runs a script,
    and each such call that is not reached."""
    seen = a.seen.get(tree.name, Seen())
    reached = set()
    for (path, line, words), name in sorted(seen.calls.items(), key=lambda c: c[0][:2]):
        if name.lower() not in scan.RUNS:
            continue
        reached.add((path, line))
        where = f"{tree.name}:{path}:{line}"
        gate = call_not_built(a, name, words)
        for argv in scan.command_lists(name, [word(w) for w in words]):
            for use in scan.command_use(argv):
                if gate:
                    a.add(Finding("command", NOT_REACHED, where, use.kind, use.text[:160], gate))
                else:
                    classify_use(a, tree, use, where, posixpath.dirname(path), "command")
    for path, text in sorted(tree.cmake_files.items()):
        for line, cmd in sorted(commands_at(text).items()):
            if cmd.name.lower() not in scan.RUNS or (path, line) in reached:
                continue
            raw = [x.text for x in cmd.args]
            uses = [u for argv in scan.command_lists(cmd.name, raw) for u in scan.command_use(argv)]
            # inline code counts where it may fetch
            uses = [u for u in uses if u.kind != "inline" or scan.script_hits("-c.py", u.path)]
            for use in uses:
                why = not_reached(tree, seen, path, line)
                a.add(
                    Finding(
                        "command",
                        NOT_REACHED,
                        f"{tree.name}:{path}:{line}",
                        f"{cmd.name}: {use.kind}",
                        use.text[:160],
                        why,
                    )
                )


def classify_use(
    a: Audit,
    tree: Tree,
    use: scan.Use,
    where: str,
    base_dir: str,
    section: str,
    via: str = "",
    depth: int = 0,
) -> None:
    """One command (of CMake, a script or cmake_build) that may fetch."""

    def out(status: str, detail: str) -> None:
        a.add(Finding(section, status, where, use.kind, use.text[:160], detail, via))

    if use.kind in ("script", "cmake-script", "setup.py"):
        generated = a.seen.get(tree.name, Seen()).generated
        path = resolve_path(tree, use.path, base_dir, generated)
        if path is None:
            made = "written in the build tree" if use.path.startswith(cmake.BIN) else "not"
            out(NOT_PROVIDED, f"runs {use.path}, {made} a file of {tree.name}: not examined")
        elif use.kind == "setup.py":
            _setup_py(a, tree, path, out)
        elif use.kind == "cmake-script":
            _cmake_script(a, tree, path, where)
        else:
            script_findings(a, tree, path, where, depth)
    elif use.kind == "inline":
        hits = scan.script_hits("inline.py", use.path)
        _hit_findings(a, tree, hits, where, base_dir, via, depth, lines=False)
    elif use.kind == "git" and use.url:
        ans = provides.git_clone(a.lock, use.url, use.ref)
        gone = unresolved(a.lock, tree.name, [norm(use.url).rsplit("/", 1)[-1]])
        if ans.provided:
            out(PROVIDED, f"mirror: {ans.detail}")
        else:
            out(UNRESOLVED, short(gone)) if gone else out(NOT_PROVIDED, ans.detail)
    elif use.kind == "build":
        out(*_isolated(a, tree, base_dir))
    elif use.kind == "build-no-isolation":
        out(NO_FETCH, "python -m build without isolation installs nothing")
    elif use.kind == "pip":
        out(*_pip(a, use.text))
    else:
        out(
            NOT_PROVIDED,
            f"{use.kind}: the compile stage has no network and provides no such download",
        )


def _pip(a: Audit, text: str) -> tuple[str, str]:
    """A pip run outside the recipe: served when every requirement it names is a wheel of
    the wheelhouse."""
    cmds = shell.split(text)
    pip = shcmd.pip(cmds[0]) if cmds else None
    if pip is None or pip.requirement_files or not pip.requirements:
        return (
            NOT_PROVIDED,
            "pip: what it installs is known only when it runs; no pip step of the lock plans it",
        )
    names = {w.name.lower() for ws in a.house.values() for w in ws}
    absent = [
        r
        for r in pip.requirements
        if re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() not in names
    ]
    if absent:
        return NOT_PROVIDED, f"pip: {', '.join(absent)} not in the wheelhouse"
    return PROVIDED, "wheelhouse: every requirement is a wheel of the compile's steps"


def _pyproject(a: Audit, tree: Tree, start: str) -> tuple[str, str] | None:
    d = start
    while True:
        path = posixpath.join(d, "pyproject.toml") if d else "pyproject.toml"
        if path in tree.paths:
            text = a.read(tree.name, path)
            if text is not None:
                return path, text
        if not d:
            return None
        d = posixpath.dirname(d)


def _isolated(a: Audit, tree: Tree, script_dir: str) -> tuple[str, str]:
    """An isolated ``python -m build`` run from ``script_dir``: the nearest pyproject.toml
    up the tree says what its environment installs."""
    found = _pyproject(a, tree, script_dir)
    if found is None:
        requires, where = ["setuptools>=40.8.0"], "no pyproject.toml: PEP 518's default"
    else:
        try:
            data = tomllib.loads(found[1])
        except tomllib.TOMLDecodeError:
            return NOT_PROVIDED, f"{tree.name}:{found[0]} is not TOML"
        system = data.get("build-system", {})
        requires = list(system.get("requires", ["setuptools>=40.8.0"]))
        where = f"{tree.name}:{found[0]}"
    env = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
    ans = provides.isolated_build(a.house, tree.name, requires, env)
    what = f"isolated build of {where} [{', '.join(requires)}]"
    if ans.provided:
        return PROVIDED, f"{ans.how}: {ans.detail}, for the {what}"
    return NOT_PROVIDED, f"{what}: {ans.detail}"


def _setup_py(a: Audit, tree: Tree, path: str, out: Callable[[str, str], None]) -> None:
    text = a.read(tree.name, path) or ""
    if scan.setup_requires(text):
        out(NOT_PROVIDED, f"{tree.name}:{path} has setup_requires, which setuptools fetches")
    else:
        out(NO_FETCH, f"{tree.name}:{path} has no setup_requires: it builds from what is installed")


def _cmake_script(a: Audit, tree: Tree, path: str, via: str) -> None:
    """A ``cmake -P`` script: what it reaches run on its own."""
    files = dict(tree.cmake_files)
    text = files.get(path) or a.read(tree.name, path) or ""
    files[path] = text
    project = cmake.configure(files, {}, top=path)
    cmds = commands_at(text)
    for f in project.fetches:
        if f.path == path and f.line in cmds:
            a.add(classify_fetch(a, tree.name, cmds[f.line], f, via))


def script_findings(a: Audit, tree: Tree, path: str, via: str, depth: int = 0) -> None:
    """The lines of a script the compile runs that may fetch, and the scripts it runs."""
    text = a.read(tree.name, path)
    where = f"{tree.name}:{path}"
    if text is None or depth > MAX_SCRIPT_DEPTH:
        return
    here = posixpath.dirname(path)
    hits = scan.script_hits(path, text)
    if not hits:
        nothing = "no install, download or clone in it"
        a.add(Finding("script", NO_FETCH, where, "script", path, nothing, via))
    _hit_findings(a, tree, hits, where, here, via, depth)
    for name in scan.scripts_named(path, text):
        inner = resolve_path(tree, name, here)
        if inner is not None and inner != path:
            script_findings(a, tree, inner, f"{where}", depth + 1)


def _hit_findings(
    a: Audit,
    tree: Tree,
    hits: Sequence[scan.Hit],
    where: str,
    here: str,
    via: str,
    depth: int,
    lines: bool = True,
) -> None:
    """Classify each line of a script (or inline code) that may fetch."""
    for hit in hits:
        use = scan.Use(hit.kind, hit.text)
        if hit.kind == "git":
            cmds = [u for c in _shell(hit.text) for u in scan.command_use(c) if u.url]
            use = cmds[0] if cmds else use
        if hit.kind == "setup.py":
            near = posixpath.join(here, "setup.py") if here else "setup.py"
            use = scan.Use("setup.py", hit.text, path=near)
        at = f"{where}:{hit.line}" if lines else where
        classify_use(a, tree, use, at, here, "script", via, depth + 1)


def _shell(text: str) -> list[tuple[str, ...]]:
    try:
        return [shcmd.program(c) for c in shell.split(text)]
    except ValueError:
        return []


# -- the recipe ---------------------------------------------------------------------------------


def recipe_findings(a: Audit) -> None:
    """The clones, pip runs, downloads and scripts of ``cmake_build``."""
    script = a.recipe.get("cmake_build", "")
    steps = pip_step_names(a.recipe)
    server = a.trees.get("server")
    for ru in scan.recipe_uses(script):
        where = f"cmake_build:{ru.line}"
        use = ru.use

        def out(status: str, detail: str, use: scan.Use = use, where: str = where) -> None:
            a.add(Finding("recipe", status, where, use.kind, use.text[:160], detail))

        if use.kind == "git" and use.url:
            _recipe_clone(a, ru, out)
        elif use.kind == "pip":
            ans = provides.pip_install(a.house, steps.get(where, ()), where)
            out(PROVIDED if ans.provided else NOT_PROVIDED, ans.detail)
        elif use.kind in ("script", "cmake-script", "setup.py") and server is not None:
            written = use.path.removeprefix("/workspace/")
            if written != use.path:
                classify_use(
                    a, server, scan.Use(use.kind, use.text, path=written), where, "", "recipe"
                )
            else:
                out(
                    NOT_PROVIDED,
                    f"runs {use.path}, which is not a file of the server tree: not examined",
                )
        else:
            classify_use(a, server or Tree("server", {}, frozenset()), use, where, "", "recipe")


def _recipe_clone(a: Audit, ru: scan.RecipeUse, out: Callable[[str, str], None]) -> None:
    use = ru.use
    ans = provides.git_clone(a.lock, use.url, use.ref)
    name = norm(use.url).rsplit("/", 1)[-1]
    gone = next((u for u in a.lock.unresolved if u.kind == "git" and u.what == name), None)
    if not ans.provided and gone:
        out(UNRESOLVED, f"{short(gone)}; what it fetches in turn is not examined")
        return
    if not ans.provided:
        out(NOT_PROVIDED, ans.detail)
        return
    pin = pin_for(a.lock, use.url, use.ref)
    out(*cloned(a, pin, ans.detail, recursive=ru.recursive))
