"""Walk a project's CMake files the way CMake would configure it, without running CMake
(pure): from the top-level ``CMakeLists.txt``, following ``add_subdirectory``,
``include`` (files, and modules by name from ``CMAKE_MODULE_PATH`` inside the tree) and
``find_package`` of a ``Find<Name>.cmake`` there; ``if``/``elseif``/``else`` with
:mod:`.conditions` (a branch whose condition cannot be decided is taken, and so are the
ones after it); ``foreach``; ``function``/``macro`` bodies only where they are called,
with the call's arguments bound (``ARGC``, ``ARGV``, ``ARGN``, ``ARGV<n>``,
``cmake_parse_arguments``); ``set``/``unset``/``option``/``cmake_dependent_option``,
``set(... CACHE ...)`` (a default that never overrides what the caller passed, as with
``-D``), ``list()`` and ``string()``. Commands whose results are not computed here
(``file(READ)``, ``execute_process``, ``find_*`` …) make the variables they write
unknown. Paths are those of a virtual tree rooted at :data:`SRC`.
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from . import assign
from .blocks import Block, Node, group
from .conditions import condition_values, evaluate
from .fetch import Fetch, declared, defines_of, file_download, keyword_values
from .lexer import Arg, CMakeSyntaxError, Command, commands
from .targets import GRAPH, Call
from .values import Scope, values

SRC = "/tritonlock-src"
BIN = "/tritonlock-build"
PARENT = "/tritonlock-superproject"  # CMAKE_SOURCE_DIR of a FetchContent dependency
LINUX = {"UNIX": "1", "LINUX": "1", "CMAKE_HOST_UNIX": "1", "CMAKE_SYSTEM_NAME": "Linux"}
LINUX |= {"CMAKE_HOST_SYSTEM_NAME": "Linux", "CMAKE_COMMAND": "cmake"}
MAX_STEPS = 200_000
MAX_DEPTH = 64
MAX_ITEMS = 1_000
DECLARES = frozenset({"externalproject_add", "fetchcontent_declare"})


@dataclass(frozen=True, slots=True)
class Project:
    """What configuring a tree reaches: downloads (with their file), folders added with
    ``add_subdirectory``, files read, problems (``path: why``), the top-level scope, and
    the build-graph commands reached with their arguments expanded (:mod:`.targets`)."""

    fetches: tuple[Fetch, ...]
    folders: tuple[str, ...]
    files: tuple[str, ...]
    problems: tuple[str, ...]
    scope: Scope
    calls: tuple[Call, ...] = ()


class _Return(Exception):
    pass


class _Exhausted(Exception):
    """More than MAX_STEPS commands (a loop this reader cannot bound)."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


@dataclass
class _Frame:
    path: str  # the CMake file being read (tree path)
    scope: Scope
    parent: Scope | None  # what PARENT_SCOPE writes


@dataclass
class _Function:
    params: tuple[str, ...]
    body: tuple[Node, ...]
    macro: bool
    path: str  # the file that defines it (where its declarations are written)


# Called with (file, command, scope) for each command reached, block heads included,
# before it runs; the scope is live, so read it there and then.
Observer = Callable[[str, Command, Scope], None]


@dataclass
class _Eval:
    files: Mapping[str, str]
    observe: Observer | None = None
    host: Mapping[str, str] = field(default_factory=dict)  # build-machine files: path -> text
    parsed: dict[str, tuple[Node, ...] | None] = field(default_factory=dict)
    functions: dict[str, _Function] = field(default_factory=dict)
    fetches: list[Fetch] = field(default_factory=list)
    content: dict[str, int] = field(default_factory=dict)  # FetchContent name -> fetch index
    folders: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    steps: int = 0
    depth: int = 0

    def exists(self, path: str) -> bool | None:
        """True for a file or folder the tree is known to have; else unknown."""
        where = _in_tree(path, "")
        if where is None or not path.startswith(SRC):
            return None
        if where == "" or where in self.files or any(p.startswith(where + "/") for p in self.files):
            return True
        return None

    def nodes(self, path: str) -> tuple[Node, ...] | None:
        if path not in self.parsed:
            try:
                self.parsed[path] = group(list(commands(self.files[path])))
            except CMakeSyntaxError as err:
                self.problems.append(f"{path}: cannot read CMake ({err})")
                self.parsed[path] = None
            self.read.append(path)
        return self.parsed[path]

    def file(self, path: str, frame: _Frame) -> None:
        """Read ``path`` in ``frame`` (include: the caller's scope; add_subdirectory: new)."""
        body = self.nodes(path)
        if body is None or self.depth > MAX_DEPTH:
            return
        scope = frame.scope
        saved = {
            k: scope.values.get(k) for k in ("CMAKE_CURRENT_LIST_DIR", "CMAKE_CURRENT_LIST_FILE")
        }
        scope.put("CMAKE_CURRENT_LIST_FILE", _abs(path))
        scope.put("CMAKE_CURRENT_LIST_DIR", _abs(posixpath.dirname(path)))
        self.depth += 1
        try:
            self.run(body, _Frame(path, scope, frame.parent))
        except (_Return, _Break, _Continue):
            pass
        finally:
            self.depth -= 1
            for k, v in saved.items():
                if v is None:
                    scope.drop(k)
                else:
                    scope.put(k, v)

    def run(self, body: Iterable[Node], frame: _Frame) -> None:
        for node in body:
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise _Exhausted()
            if self.observe is not None:
                head = node.head if isinstance(node, Block) else node
                self.observe(frame.path, head, frame.scope)
            if isinstance(node, Block):
                self.block(node, frame)
            else:
                self.command(node, frame)

    def block(self, block: Block, frame: _Frame) -> None:
        lname = block.head.name.lower()
        scope = frame.scope
        if lname == "if":
            self.if_chain(block, frame)
        elif lname in ("function", "macro"):
            vals = [v.text for v in values(block.head.args, scope)]
            if vals:
                self.functions[vals[0].lower()] = _Function(
                    tuple(vals[1:]), block.body, lname == "macro", frame.path
                )
        elif lname == "foreach":
            self.foreach(block, frame)
        elif lname == "while":
            result = evaluate(condition_values(block.head.args, scope), scope, self.exists)
            if result is not False:
                self.loop_body(block.body, frame)
        else:  # block() ... endblock(): a scope of its own unless PROPAGATE; read it in place
            self.run(block.body, frame)

    def if_chain(self, block: Block, frame: _Frame) -> None:
        """The branch CMake takes; when that cannot be decided, every branch it may take,
        each from the same scope, and after them a variable is known only where every
        possible outcome agrees (a ``return()`` there may not happen, and is not taken)."""
        scope = frame.scope
        outcomes: list[Scope] = []
        for cond, body in block.branches:
            result = (
                True
                if cond is None
                else evaluate(condition_values(cond, scope), scope, self.exists)
            )
            if result is False:
                continue
            if result and not outcomes:
                self.run(body, frame)
                return
            branch = scope.copy()
            with contextlib.suppress(_Return, _Break, _Continue):
                self.run(body, _Frame(frame.path, branch, frame.parent))
            outcomes.append(branch)
            if result:
                break
        else:
            if not outcomes:
                return
            outcomes.append(scope.copy())  # maybe no branch is taken
        scope.merge(outcomes)

    def loop_body(self, body: tuple[Node, ...], frame: _Frame) -> bool:
        """Run one iteration; False when the loop ends (break)."""
        try:
            self.run(body, frame)
        except _Break:
            return False
        except _Continue:
            pass
        return True

    def foreach(self, block: Block, frame: _Frame) -> None:
        vals = values(block.head.args, frame.scope)
        if not vals:
            return
        var, rest = vals[0].text, vals[1:]
        words = [v.text for v in rest]
        scope = frame.scope
        loop: list[str] | None
        if any(v.missing for v in rest):
            loop = None
        elif words[:1] == ["RANGE"]:
            nums = [int(w) for w in words[1:] if w.lstrip("-").isdigit()]
            if len(nums) != len(words) - 1 or not nums:
                loop = None
            else:
                start, stop, step = (
                    (0, nums[0], 1) if len(nums) == 1 else (*nums[:2], *(nums[2:] or [1]))
                )
                loop = [str(i) for i in range(start, stop + 1, max(1, step))][:MAX_ITEMS]
        elif words[:1] == ["IN"]:
            loop = []
            mode = ""
            for w in words[1:]:
                if w in ("LISTS", "ITEMS", "ZIP_LISTS"):
                    mode = w
                elif mode == "ITEMS":
                    loop.append(w)
                elif mode == "LISTS" and w in scope.values:
                    loop.extend(assign.items(scope.values[w]))
                else:
                    loop = None
                    break
        else:
            loop = words
        if loop is None:
            scope.forget(var)
            self.loop_body(block.body, frame)
            return
        for item in loop[:MAX_ITEMS]:
            scope.put(var, item)
            if not self.loop_body(block.body, frame):
                break

    def command(self, cmd: Command, frame: _Frame) -> None:
        lname = cmd.name.lower()
        scope = frame.scope
        if lname in GRAPH:
            self.calls.append((cmd.name, tuple(values(cmd.args, scope))))
        if lname in assign.COMMANDS or lname.startswith("check_"):
            assign.apply(cmd, scope, frame.parent)
        elif lname in DECLARES:
            found = declared(cmd, scope)
            if lname == "fetchcontent_declare":
                for f in found:
                    self.content[f.name.lower()] = len(self.fetches)
            elif not found:
                self.inner_project(cmd, frame)
            self.found(found, frame)
        elif lname in ("fetchcontent_makeavailable", "fetchcontent_populate"):
            self.made_available(cmd, scope)
        elif lname == "file":
            self.found(file_download(cmd, scope), frame)
            assign.file_outputs(cmd, scope, self.host)
        elif lname == "return":
            raise _Return()
        elif lname == "break":
            raise _Break()
        elif lname == "continue":
            raise _Continue()
        elif lname == "project":
            self.project(cmd, scope, frame)
        elif lname == "add_subdirectory":
            self.subdirectory(cmd, frame)
        elif lname == "include":
            self.include(cmd, frame)
        elif lname == "find_package":
            self.find_package(cmd, frame)
        elif lname in self.functions:
            self.call(self.functions[lname], cmd, frame)

    def found(self, fetches: list[Fetch], frame: _Frame) -> None:
        self.fetches.extend(replace(f, path=frame.path) for f in fetches)

    def made_available(self, cmd: Command, scope: Scope) -> None:
        """A FetchContent dependency is added to the build here: it sees this scope."""
        for v in values(cmd.args, scope):
            i = self.content.get(v.text.lower())
            if i is not None:
                self.fetches[i] = replace(
                    self.fetches[i],
                    defines=tuple(sorted(scope.values.items())),
                    unknown=tuple(sorted(scope.unknown)),
                )

    def inner_project(self, cmd: Command, frame: _Frame) -> None:
        """An ExternalProject whose SOURCE_DIR is a folder of this tree (server's ``src``)
        is configured at build time as a project of its own, with its ``-D`` arguments."""
        rest = values(cmd.args, frame.scope)[1:]
        source = keyword_values(rest, "SOURCE_DIR") or []
        sub = keyword_values(rest, "SOURCE_SUBDIR") or []
        if not source or source[0].missing or (sub and sub[0].missing):
            return
        folder = _in_tree(posixpath.join(source[0].text, *(s.text for s in sub[:1])), "")
        if folder is None or not source[0].text.startswith(SRC):
            return
        path = posixpath.join(folder, "CMakeLists.txt") if folder else "CMakeLists.txt"
        if path not in self.files:
            return
        defines, unknown = defines_of(rest)
        scope = fresh_scope(dict(defines), unknown, folder, inherits=False)
        self.file(path, _Frame(path, scope, None))

    def project(self, cmd: Command, scope: Scope, frame: _Frame) -> None:
        vals = [v.text for v in values(cmd.args, scope)]
        if not vals:
            return
        here = scope.values.get("CMAKE_CURRENT_SOURCE_DIR", SRC)
        there = scope.values.get("CMAKE_CURRENT_BINARY_DIR", BIN)
        for prefix in ("PROJECT", vals[0]):
            scope.put(f"{prefix}_SOURCE_DIR", here)
            scope.put(f"{prefix}_BINARY_DIR", there)
        scope.put("PROJECT_NAME", vals[0])
        top = scope.values.get("CMAKE_SOURCE_DIR") == here
        scope.put("PROJECT_IS_TOP_LEVEL", "ON" if top else "OFF")
        if "CMAKE_PROJECT_NAME" not in scope.values and top:
            scope.put("CMAKE_PROJECT_NAME", vals[0])
        if "VERSION" in vals[1:-1]:
            version = vals[vals.index("VERSION") + 1]
            for prefix in ("PROJECT", vals[0]):
                scope.put(f"{prefix}_VERSION", version)

    def subdirectory(self, cmd: Command, frame: _Frame) -> None:
        vals = values(cmd.args, frame.scope)
        if not vals or vals[0].missing:
            self.problems.append(f"{frame.path}:{cmd.line}: add_subdirectory of an unknown folder")
            return
        folder = _in_tree(vals[0].text, _current_dir(frame.scope))
        if folder is None:
            return
        self.folders.append(folder)
        path = posixpath.join(folder, "CMakeLists.txt") if folder else "CMakeLists.txt"
        if path not in self.files:
            return
        child = frame.scope.copy()
        child.put("CMAKE_CURRENT_SOURCE_DIR", _abs(folder))
        child.put("CMAKE_CURRENT_BINARY_DIR", posixpath.join(BIN, folder))
        self.file(path, _Frame(path, child, frame.scope))

    def include(self, cmd: Command, frame: _Frame) -> None:
        vals = values(cmd.args, frame.scope)
        if not vals:
            return
        if vals[0].missing:
            self.problems.append(f"{frame.path}:{cmd.line}: include of an unknown file")
            return
        name = vals[0].text
        if "/" in name or name.endswith(".cmake"):
            path = _in_tree(name, _current_dir(frame.scope))
        else:
            path = self.module(f"{name}.cmake", frame.scope)
            if path is None and name == "CTest":
                assign.default(frame.scope, "BUILD_TESTING", "ON")
        if path is not None and path in self.files:
            self.file(path, frame)

    def module(self, base: str, scope: Scope) -> str | None:
        """``base`` in a ``CMAKE_MODULE_PATH`` folder inside the tree."""
        for folder in assign.items(scope.values.get("CMAKE_MODULE_PATH", "")):
            where = _in_tree(folder, _current_dir(scope))
            if where is not None:
                path = posixpath.join(where, base) if where else base
                if path in self.files:
                    return path
        return None

    def find_package(self, cmd: Command, frame: _Frame) -> None:
        """A ``Find<Name>.cmake`` in the tree is read; a package whose ``<Name>_DIR`` the
        caller gives is found (the build installs it there first); else ``<Name>_FOUND``
        is unknown, and so is every ``<Name>_*`` variable not set here."""
        vals = [v.text for v in values(cmd.args, frame.scope)]
        if not vals:
            return
        scope = frame.scope
        scope.prefixes.update({f"{vals[0]}_", f"{vals[0].upper()}_"})
        given = scope.values.get(f"{vals[0]}_DIR", "-" if f"{vals[0]}_DIR" in scope.unknown else "")
        if given and not given.upper().endswith("NOTFOUND"):
            scope.put(f"{vals[0]}_FOUND", "TRUE")
            return
        path = (
            None
            if "CONFIG" in vals or "NO_MODULE" in vals
            else self.module(f"Find{vals[0]}.cmake", scope)
        )
        if path is None:
            return
        scope.put("CMAKE_FIND_PACKAGE_NAME", vals[0])
        if len(vals) > 1 and vals[1][:1].isdigit():
            scope.put(f"{vals[0]}_FIND_VERSION", vals[1])
        self.file(path, frame)

    def call(self, fn: _Function, cmd: Command, frame: _Frame) -> None:
        if self.depth > MAX_DEPTH:
            return
        vals = values(cmd.args, frame.scope)
        bound: dict[str, tuple[str, tuple[str, ...]]] = {}
        for i, p in enumerate(fn.params):
            v = vals[i] if i < len(vals) else None
            bound[p] = (v.text, v.missing) if v else ("", ())
        extra = vals[len(fn.params) :]
        join = ";".join
        bound["ARGC"] = (str(len(vals)), ())
        bound["ARGV"] = (join(v.text for v in vals), _all_missing(vals))
        bound["ARGN"] = (join(v.text for v in extra), _all_missing(extra))
        for i, v in enumerate(vals):
            bound[f"ARGV{i}"] = (v.text, v.missing)
        scope = frame.scope if fn.macro else frame.scope.copy()
        saved = {k: (scope.values.get(k), scope.unknown.get(k)) for k in bound}
        for k, (text, missing) in bound.items():
            scope.put(k, text, missing)
        self.depth += 1
        try:
            self.run(fn.body, _Frame(fn.path, scope, frame.parent if fn.macro else frame.scope))
        except _Return:
            pass
        finally:
            self.depth -= 1
            if fn.macro:
                for k, (value, unknown) in saved.items():
                    scope.drop(k)
                    if value is not None:
                        scope.put(k, value)
                    elif unknown is not None:
                        scope.forget(k, unknown)


def _all_missing(vals: list[assign.Value]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for v in vals for m in v.missing))


def _abs(path: str) -> str:
    return posixpath.join(SRC, path) if path else SRC


def _current_dir(scope: Scope) -> str:
    here = scope.values.get("CMAKE_CURRENT_SOURCE_DIR", SRC)
    return _in_tree(here, "") or ""


def _in_tree(path: str, base: str) -> str | None:
    """``path`` (absolute in the virtual tree, or relative to folder ``base``) as a tree
    path ("" for the top); None outside the tree."""
    if path == SRC or path.startswith(SRC + "/"):
        rel = path[len(SRC) + 1 :]
    elif path.startswith("/"):
        return None
    else:
        rel = posixpath.join(base, path)
    rel = posixpath.normpath(rel) if rel else ""
    if rel == ".":
        return ""
    return None if rel.startswith("../") or rel == ".." else rel


def fresh_scope(
    variables: Mapping[str, str], unknown: Iterable[str], folder: str, *, inherits: bool
) -> Scope:
    """The scope CMake starts a project in ``folder`` of the tree with."""
    scope = Scope.of({**LINUX, **variables}, unknown)
    here = _abs(folder)
    there = posixpath.join(BIN, folder) if folder else BIN
    scope.put("CMAKE_SOURCE_DIR", PARENT if inherits else here)
    scope.put("CMAKE_BINARY_DIR", BIN if inherits else there)
    scope.put("CMAKE_CURRENT_SOURCE_DIR", here)
    scope.put("CMAKE_CURRENT_BINARY_DIR", there)
    return scope


def configure(
    files: Mapping[str, str],
    variables: Mapping[str, str],
    *,
    unknown: Iterable[str] = (),
    inherits: bool = False,
    top: str = "CMakeLists.txt",
    observe: Observer | None = None,
    host_files: Mapping[str, str] | None = None,
) -> Project:
    """What configuring the tree ``files`` (path → text) reaches from ``top``, with
    ``variables`` as ``-D`` definitions (``unknown``: definitions whose value is unknown).
    ``inherits``: the tree is a FetchContent dependency, added to another project's build
    (its ``CMAKE_SOURCE_DIR`` is not its own top). ``observe`` sees every command reached.
    ``host_files``: files of the build machine whose text is known (path -> text), which
    ``file(STRINGS)`` reads."""
    scope = fresh_scope(variables, unknown, "", inherits=inherits)
    ev = _Eval(files, observe, dict(host_files or {}))
    if top in files:
        try:
            ev.file(top, _Frame(top, scope, None))
        except _Exhausted:
            ev.problems.append(f"{top}: stopped after {MAX_STEPS} commands")
    return Project(
        tuple(ev.fetches),
        tuple(dict.fromkeys(ev.folders)),
        tuple(ev.read),
        tuple(ev.problems),
        scope,
        tuple(ev.calls),
    )


def declarations(text: str) -> list[int]:
    """Lines of every download declaration in ``text``, reached or not (lexing only)."""
    lines: list[int] = []
    for cmd in commands(text):
        lname = cmd.name.lower()
        words = {a.text for a in cmd.args if a.kind == "unquoted"}
        first = cmd.args[0].text if cmd.args else ""
        if (lname in DECLARES and words & {"GIT_REPOSITORY", "URL"}) or (
            lname == "file" and first == "DOWNLOAD"
        ):
            lines.append(cmd.line)
    return lines


__all__ = ["BIN", "SRC", "Arg", "Observer", "Project", "configure", "declarations"]
