"""Every fetch the pinned sources can perform during the offline compile, each classified
(pure; compile_fetches.py does the checkouts and the printing).

The walk configures each pinned repository's CMake the way the build does, on the trees
checked out at their pinned commits (submodules at their paths): the repositories
``cmake_build`` configures with its ``-D`` flags, each dependency with what the reached
``ExternalProject_Add``/``FetchContent_Declare`` that fetches it passes, a top-level
repository nothing configures with the recipe's ``TRITON_*`` variables. It records every
command reached (:func:`tritonlock.cmake.configure`'s ``observe``). Then:

* every ``ExternalProject_Add``/``FetchContent_Declare`` with ``URL`` or
  ``GIT_REPOSITORY`` and every ``file(DOWNLOAD)`` of every CMake file of the trees;
* every command of a reached ``execute_process``/``add_custom_command``/
  ``add_custom_target``/``ExternalProject_Add`` (and the scripts it runs, recursively),
  and every such command not reached that would install, download or run a script;
* every ``git clone``, pip, wget/curl and script run of the recipe's ``cmake_build``

is one :class:`Finding`: provided (by which pin, and how: mirror, hook or wheelhouse,
:mod:`tritonlock.emit.provides`), not reached (why), unresolved in the lock, NOT PROVIDED,
or no fetch at all (a local file, a build without isolation, a setup.py that fetches
nothing).
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import fetch_scan as scan
import fetch_targets

from tritonlock import cmake
from tritonlock.cmake.blocks import group
from tritonlock.emit import pip_step_names, provides
from tritonlock.model import GitPin, Lock, Unresolved, WheelPin
from tritonlock.resolve.cmakeflags import configures
from tritonlock.upstream import commands as shcmd
from tritonlock.upstream import shell
from tritonlock.upstream.targets import TARGETS

PROVIDED = "provided"
NOT_REACHED = "not reached"
NOT_PROVIDED = "NOT PROVIDED"
UNRESOLVED = "unresolved"
NO_FETCH = "no fetch"
STATUSES = (NOT_PROVIDED, UNRESOLVED, PROVIDED, NOT_REACHED, NO_FETCH)
MAX_SCRIPT_DEPTH = 4
MAX_WALKS = 4
TRACKED = scan.RUNS | {"add_dependencies", "fetchcontent_makeavailable", "fetchcontent_populate"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One fetch construct: ``where`` (``REPO:PATH:LINE`` or ``cmake_build:N``), what it
    is, what it fetches, its status and why; ``via``: the command that runs a script."""

    section: str  # "cmake", "command", "script" or "recipe"
    status: str
    where: str
    construct: str
    fetches: str
    detail: str
    via: str = ""

    def to_dict(self) -> dict[str, str]:
        d = {
            "section": self.section,
            "status": self.status,
            "where": self.where,
            "construct": self.construct,
            "fetches": self.fetches,
            "detail": self.detail,
        }
        if self.via:
            d["via"] = self.via
        return d


@dataclass(frozen=True, slots=True)
class Tree:
    """A pinned repository checked out with its submodules at their paths: the text of
    each CMake file and the path of every file."""

    name: str
    cmake_files: Mapping[str, str]
    paths: frozenset[str]


Reader = Callable[[str, str], "str | None"]  # (pin name, tree path) -> text, None if absent
Config = tuple[tuple[tuple[str, str], ...], tuple[str, ...], bool]


@dataclass
class _Seen:
    """What the walk saw of one pinned tree, over every configuration of it."""

    configs: list[Config] = field(default_factory=list)
    ran: dict[str, set[int]] = field(default_factory=dict)  # path -> lines run
    fetches: dict[tuple[str, int], list[cmake.Fetch]] = field(default_factory=dict)
    # (path, line, expanded arguments) -> command name, for the calls in TRACKED
    calls: dict[tuple[str, int, tuple[cmake.Value, ...]], str] = field(default_factory=dict)
    generated: dict[str, str] = field(default_factory=dict)  # configure_file: output -> input
    problems: list[str] = field(default_factory=list)


@dataclass
class Audit:
    """The inputs of an audit and what it found."""

    lock: Lock
    recipe: Mapping[str, str]
    trees: Mapping[str, Tree]
    read: Reader
    unread: Mapping[str, str] = field(default_factory=dict)  # pin name -> why not read
    seen: dict[str, _Seen] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    house: dict[str, tuple[WheelPin, ...]] = field(default_factory=dict)
    # what the build builds (None before the first walk: every fetch is followed)
    targets: fetch_targets.Targets | None = None

    @property
    def built(self) -> fetch_targets.Targets:
        return self.targets or fetch_targets.Targets({}, None, frozenset())

    def add(self, finding: Finding) -> None:
        """Record ``finding``; one that differs only in what runs it gets that added."""
        for i, f in enumerate(self.findings):
            if f == finding:
                return
            if replace(f, via="") == replace(finding, via="") and finding.via not in f.via:
                self.findings[i] = replace(f, via=f"{f.via}, {finding.via}")
                return
        self.findings.append(finding)


# -- the walk -------------------------------------------------------------------------


def norm(url: str) -> str:
    """A repository's identity: scheme and host lowercased, no trailing ``/`` or ``.git``."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path.rstrip('/').removesuffix('.git')}"


def is_top(pin: GitPin) -> bool:
    """Asked for by the recipe or the inputs, not only by a CMake file of a pinned repo."""
    return any(f.count(":") < 2 for f in pin.found_in) or not pin.found_in


def pin_for(lock: Lock, url: str, tag: str | None) -> GitPin | None:
    """The lock's pin of ``url`` at ``tag`` (a ref, a commit or its abbreviation)."""
    ref = tag or "HEAD"
    for pin in lock.git:
        if norm(pin.url) != norm(url):
            continue
        if pin.ref == ref or (re.fullmatch(r"[0-9a-f]{7,40}", ref) and pin.commit.startswith(ref)):
            return pin
    return None


def recipe_configs(lock: Lock, cmake_build: str) -> tuple[dict[str, Config], dict[str, str]]:
    """Pin name → how ``cmake_build`` configures it, and the ``TRITON_*`` variables it
    passes the server (what a top-level repository nothing else configures is read with)."""
    out: dict[str, Config] = {}
    flags = configures(cmake_build)
    server = flags.get("server", {})
    base = {k: v for k, v in server.items() if v is not None and k.startswith("TRITON_")}
    base = {k: v for k, v in base.items() if k.endswith("_REPO_TAG") or "ORGANIZATION" in k}
    for name, given in flags.items():
        pin = next((p for p in lock.git if p.name == name), None) or next(
            (p for p in lock.git if norm(p.url).rsplit("/", 1)[-1] == name), None
        )
        if pin is None:
            continue
        known = {**base, **{k: v for k, v in given.items() if v is not None}}
        unknown = sorted(k for k, v in given.items() if v is None)
        out[pin.name] = (tuple(sorted(known.items())), tuple(unknown), False)
    return out, base


def child_config(fetch: cmake.Fetch, top: bool, base: Mapping[str, str]) -> Config:
    """How a reached git fetch configures the repository it fetches (as the build does:
    an ExternalProject with its ``-D`` arguments, a FetchContent dependency in the scope
    that makes it available, without the declaring tree's source paths)."""
    under = dict(base) if top else {}
    if not fetch.inherits:
        known = {**under, **dict(fetch.defines)}
        return tuple(sorted(known.items())), tuple(sorted(set(fetch.unknown))), False
    keep = {k: v for k, v in fetch.defines if cmake.SRC not in v}
    dropped = [k for k, _ in fetch.defines if k not in keep]
    known = {**under, **keep}
    return tuple(sorted(known.items())), tuple(sorted({*fetch.unknown, *dropped})), True


def walk(a: Audit) -> None:
    """Configure every pinned tree every way the build does, recording what runs."""
    starts, base = recipe_configs(a.lock, a.recipe.get("cmake_build", ""))
    platform = {"CMAKE_SYSTEM_PROCESSOR": TARGETS[a.lock.inputs.target].machine}
    platform["CMAKE_HOST_SYSTEM_PROCESSOR"] = platform["CMAKE_SYSTEM_PROCESSOR"]
    queue = list(starts.items())
    final = True
    while queue or final:
        if not queue:  # top-level repositories nothing configures: with the recipe's base
            final = False
            queue = [
                (p.name, (tuple(sorted(base.items())), (), False))
                for p in a.lock.git
                if is_top(p) and not a.seen.get(p.name, _Seen()).configs
            ]
            continue
        name, config = queue.pop(0)
        seen = a.seen.setdefault(name, _Seen())
        if config in seen.configs or name not in a.trees:
            continue
        seen.configs.append(config)
        for fetch in _configure(a.trees[name], config, platform, seen):
            if fetch.kind != "git" or fetch.missing:
                continue
            pin = pin_for(a.lock, fetch.url, fetch.tag)
            if pin is not None and _follows(a.targets, fetch):
                queue.append((pin.name, child_config(fetch, is_top(pin), base)))


def _follows(targets: fetch_targets.Targets | None, fetch: cmake.Fetch) -> bool:
    """Whether a reached git fetch downloads: its ExternalProject is built, or its
    FetchContent content made available (everything, before the build graph is known)."""
    if targets is None:
        return True
    return targets.made_available(fetch.name) if fetch.inherits else targets.is_built(fetch.name)


def _configure(
    tree: Tree, config: Config, platform: Mapping[str, str], seen: _Seen
) -> tuple[cmake.Fetch, ...]:
    variables, unknown, inherits = config

    def observe(path: str, cmd: cmake.Command, scope: cmake.Scope) -> None:
        seen.ran.setdefault(path, set()).add(cmd.line)
        lname = cmd.name.lower()
        if lname in TRACKED:
            words = tuple(cmake.values(cmd.args, scope))
            seen.calls.setdefault((path, cmd.line, words), cmd.name)
        elif lname == "configure_file":
            words = tuple(cmake.values(cmd.args, scope))
            if len(words) > 1 and words[0].text.startswith(cmake.SRC + "/"):
                seen.generated[words[1].text] = words[0].text[len(cmake.SRC) + 1 :]

    project = cmake.configure(
        tree.cmake_files,
        {**platform, **dict(variables)},
        unknown=unknown,
        inherits=inherits,
        observe=observe,
    )
    seen.problems += [p for p in project.problems if p not in seen.problems]
    for f in project.fetches:
        got = seen.fetches.setdefault((f.path, f.line), [])
        if f not in got:
            got.append(f)
    return project.fetches


# -- classification -----------------------------------------------------------------------


def unresolved(
    lock: Lock, owner: str, names: Iterable[str] = (), url: str = ""
) -> Unresolved | None:
    """The lock's ``[[unresolved]]`` entry that covers a fetch of ``owner``'s sources."""
    wanted = {f"{owner}: what its CMake files fetch", "git sources", *names}
    for u in lock.unresolved:
        if (u.kind == "url" and url and u.what == url) or (u.kind == "git" and u.what in wanted):
            return u
    return None


def _short(u: Unresolved) -> str:
    why = u.why if len(u.why) <= 160 else u.why[:159] + "…"
    return f"[[unresolved]] {u.kind} {u.what!r}: {why}"


def _is_download(url: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) is not None and not url.startswith(
        "file://"
    )


def _construct(cmd: cmake.Command) -> tuple[str, str]:
    """``ExternalProject_Add(name) URL`` and the fetched value as written."""
    words = [a.text for a in cmd.args]
    if cmd.name.lower() == "file":
        return "file(DOWNLOAD)", words[1] if len(words) > 1 else "?"
    key = "GIT_REPOSITORY" if "GIT_REPOSITORY" in words else "URL"
    value = words[words.index(key) + 1] if words.index(key) + 1 < len(words) else "?"
    if key == "GIT_REPOSITORY" and "GIT_TAG" in words[:-1]:
        value += f" @ {words[words.index('GIT_TAG') + 1]}"
    return f"{cmd.name}({words[0] if words else ''}) {key}", value


def classify_fetch(
    a: Audit, owner: str, cmd: cmake.Command, f: cmake.Fetch, via: str = ""
) -> Finding:
    """A reached download or git fetch of ``owner``'s CMake."""
    where = f"{owner}:{f.path}:{f.line}"
    construct, _ = _construct(cmd)
    section = "script" if via else "cmake"
    target = f.url if f.kind == "url" else f"{f.url} @ {f.tag or 'HEAD'}"

    def out(status: str, detail: str) -> Finding:
        return Finding(section, status, where, construct, target, detail, via)

    gone = unresolved(a.lock, owner, [f.name.lower(), norm(f.url).rsplit("/", 1)[-1]], f.url)
    if cmd.name.lower() == "file":
        pinned = any(u.url == f.url for u in a.lock.url)
        extra = "; pinned in [[url]]" if pinned else (f"; {_short(gone)}" if gone else "")
        return out(
            NOT_PROVIDED,
            "file(DOWNLOAD) downloads when CMake reaches it; the compile stage does not "
            f"provide it{extra}",
        )
    if f.missing:
        if gone:
            return out(UNRESOLVED, _short(gone))
        return out(NOT_PROVIDED, f"uses {', '.join(f.missing)}, unknown for the recipe")
    if f.kind == "url":
        if not _is_download(f.url):
            return out(NO_FETCH, "a file of the tree, not a download")
        ans = provides.download(a.lock, f.url)
        if ans.provided:
            return out(PROVIDED, f"hook: {ans.detail}")
        return out(UNRESOLVED, _short(gone)) if gone else out(NOT_PROVIDED, ans.detail)
    return _classify_git(a, f, out, gone)


def _classify_git(
    a: Audit, f: cmake.Fetch, out: Callable[[str, str], Finding], gone: Unresolved | None
) -> Finding:
    ans = provides.git_clone(a.lock, f.url, f.tag)
    if not ans.provided and gone:
        return out(UNRESOLVED, f"{_short(gone)}; what it fetches in turn is not examined")
    if not ans.provided:
        return out(NOT_PROVIDED, ans.detail)
    pin = pin_for(a.lock, f.url, f.tag)
    subs = [
        s
        for s in (pin.submodules if pin else ())
        if not provides.fetch_commit(a.lock, s.url, s.commit).provided
    ]
    if subs:
        return out(NOT_PROVIDED, f"{ans.detail}, but submodule {subs[0].path} is not mirrored")
    name = f"pin {pin.name}" if pin else "no pin of this URL and ref"
    more = f" and {len(pin.submodules)} submodules" if pin and pin.submodules else ""
    return out(PROVIDED, f"mirror: {name}{more}, {ans.detail}")


def _commands(text: str) -> dict[int, cmake.Command]:
    try:
        return {c.line: c for c in cmake.commands(text)}
    except cmake.CMakeSyntaxError:
        return {}


def cmake_findings(a: Audit, tree: Tree) -> None:
    """Every download declaration of every CMake file of ``tree``, reached or not."""
    seen = a.seen.get(tree.name, _Seen())
    for path, text in sorted(tree.cmake_files.items()):
        try:
            lines = cmake.declarations(text)
        except cmake.CMakeSyntaxError:
            continue
        cmds = _commands(text)
        for line in lines:
            for f in seen.fetches.get((path, line), []):
                gate = _not_built(a, cmds[line], f.name)
                if gate:
                    construct, _ = _construct(cmds[line])
                    where = f"{tree.name}:{path}:{line}"
                    a.add(Finding("cmake", NOT_REACHED, where, construct, f.url, gate))
                else:
                    a.add(classify_fetch(a, tree.name, cmds[line], f))
            if (path, line) not in seen.fetches:
                construct, value = _construct(cmds[line])
                why = not_reached(tree, seen, path, line)
                a.add(
                    Finding(
                        "cmake", NOT_REACHED, f"{tree.name}:{path}:{line}", construct, value, why
                    )
                )


def _word(v: cmake.Value) -> str:
    """An expanded argument; one that is unknown is written ``${NAME}``."""
    if v.text or not v.missing:
        return v.text
    return "${" + v.missing[0].rstrip("?") + "}"


def _not_built(a: Audit, cmd: cmake.Command, name: str) -> str | None:
    """Why a reached declaration downloads nothing: its target is never built, or its
    FetchContent content is never made available (None: it downloads)."""
    lname = cmd.name.lower()
    if lname == "externalproject_add" and not a.built.is_built(name):
        return a.built.why_not_built(name)
    if lname == "fetchcontent_declare" and not a.built.made_available(name):
        return f"FetchContent_Declare({name}) is never made available (MakeAvailable/Populate)"
    return None


def _call_not_built(a: Audit, name: str, words: Sequence[cmake.Value]) -> str | None:
    """Why the commands of a reached call never run: its target is never built."""
    lname = name.lower()
    texts = [w.text for w in words]
    if lname in ("externalproject_add", "add_custom_target") and texts:
        return None if a.built.is_built(texts[0]) else a.built.why_not_built(texts[0])
    if lname == "add_custom_command" and "TARGET" in texts[:-1]:
        target = texts[texts.index("TARGET") + 1]
        return None if a.built.is_built(target) else a.built.why_not_built(target)
    return None


def not_reached(tree: Tree, seen: _Seen, path: str, line: int) -> str:
    if not seen.configs:
        return f"{tree.name} is never configured: no fetch that runs in the build asks for it"
    if path not in seen.ran:
        return f"{path} is not read: no add_subdirectory/include/find_package reaches it"
    return scan.why_not_reached(
        group(list(cmake.commands(tree.cmake_files[path]))), line, seen.ran[path]
    )


# -- commands and scripts ----------------------------------------------------------------


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
    seen = a.seen.get(tree.name, _Seen())
    reached = set()
    for (path, line, words), name in sorted(seen.calls.items(), key=lambda c: c[0][:2]):
        if name.lower() not in scan.RUNS:
            continue
        reached.add((path, line))
        where = f"{tree.name}:{path}:{line}"
        gate = _call_not_built(a, name, words)
        for argv in scan.command_lists(name, [_word(w) for w in words]):
            for use in scan.command_use(argv):
                if gate:
                    a.add(Finding("command", NOT_REACHED, where, use.kind, use.text[:160], gate))
                else:
                    classify_use(a, tree, use, where, posixpath.dirname(path), "command")
    for path, text in sorted(tree.cmake_files.items()):
        for line, cmd in sorted(_commands(text).items()):
            if cmd.name.lower() not in scan.RUNS or (path, line) in reached:
                continue
            raw = [x.text for x in cmd.args]
            uses = [u for argv in scan.command_lists(cmd.name, raw) for u in scan.command_use(argv)]
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
        generated = a.seen.get(tree.name, _Seen()).generated
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
            out(UNRESOLVED, _short(gone)) if gone else out(NOT_PROVIDED, ans.detail)
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
    status = PROVIDED if ans.provided else NOT_PROVIDED
    return (
        status,
        f"isolated build of {where} [{', '.join(requires)}]: "
        f"{ans.how + ': ' if ans.how else ''}{ans.detail}",
    )


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
    cmds = _commands(text)
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
    if not ans.provided:
        out(UNRESOLVED, _short(gone)) if gone else out(NOT_PROVIDED, ans.detail)
        return
    pin = pin_for(a.lock, use.url, use.ref)
    subs = [
        s
        for s in (pin.submodules if pin and ru.recursive else ())
        if not provides.fetch_commit(a.lock, s.url, s.commit).provided
    ]
    if subs:
        out(NOT_PROVIDED, f"{ans.detail}, but submodule {subs[0].path} is not mirrored")
    else:
        out(PROVIDED, f"mirror: pin {pin.name if pin else '?'}, {ans.detail}")


# -- the whole audit ----------------------------------------------------------------------------


def audit(
    lock: Lock,
    recipe: Mapping[str, str],
    trees: Mapping[str, Tree],
    read: Reader,
    unread: Mapping[str, str] | None = None,
) -> Audit:
    """Every fetch construct of the pinned sources and the recipe, classified."""
    a = Audit(lock=lock, recipe=recipe, trees=trees, read=read, unread=dict(unread or {}))
    a.house = provides.wheelhouse(lock, recipe)
    for _ in range(MAX_WALKS):  # until what is built no longer changes
        a.seen = {}
        walk(a)
        calls = [(name, words) for s in a.seen.values() for (_, _, words), name in s.calls.items()]
        built = fetch_targets.targets(calls)
        if built == a.targets:
            break
        a.targets = built
    if a.built.built is None:
        a.notes.append("a DEPENDS could not be expanded: every target counts as built")
    recipe_findings(a)
    for pin in lock.git:
        tree = trees.get(pin.name)
        if tree is None:
            why = a.unread.get(pin.name, "not checked out")
            a.add(
                Finding(
                    "cmake",
                    UNRESOLVED,
                    f"{pin.name}@{pin.commit[:12]}",
                    "tree",
                    pin.url,
                    f"not examined: {why}",
                )
            )
            continue
        cmake_findings(a, tree)
        command_findings(a, tree)
        seen = a.seen.get(pin.name)
        if seen is None or not seen.configs:
            a.notes.append(f"{pin.name}: pinned, but no fetch that runs in the build asks for it")
        a.notes += [f"{pin.name}: the walk met {p}" for p in (seen.problems if seen else [])]
    a.findings.sort(key=lambda f: (STATUSES.index(f.status), f.section, f.where, f.fetches))
    return a


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {s: sum(1 for f in findings if f.status == s) for s in STATUSES}
