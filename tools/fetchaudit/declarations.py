"""Every download declaration of a pinned tree, reached or not, classified (pure):
``ExternalProject_Add``/``FetchContent_Declare`` with ``URL`` or ``GIT_REPOSITORY`` and
``file(DOWNLOAD)``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from tritonlock.emit import provides
from tritonlock.model import GitPin, Unresolved
from tritonlock.upstream import cmake
from tritonlock.upstream.cmake.blocks import group

from . import scan
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


def is_download(url: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) is not None and not url.startswith(
        "file://"
    )


def describe(cmd: cmake.Command) -> tuple[str, str]:
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
    construct, _ = describe(cmd)
    section = "script" if via else "cmake"
    target = f.url if f.kind == "url" else f"{f.url} @ {f.tag or 'HEAD'}"

    def out(status: str, detail: str) -> Finding:
        return Finding(section, status, where, construct, target, detail, via)

    gone = unresolved(a.lock, owner, [f.name.lower(), norm(f.url).rsplit("/", 1)[-1]], f.url)
    if cmd.name.lower() == "file":
        pinned = any(u.url == f.url for u in a.lock.url)
        extra = "; pinned in [[url]]" if pinned else (f"; {short(gone)}" if gone else "")
        return out(
            NOT_PROVIDED,
            "file(DOWNLOAD) downloads when CMake reaches it; the compile stage does not "
            f"provide it{extra}",
        )
    if f.missing:
        if gone:
            return out(UNRESOLVED, short(gone))
        return out(NOT_PROVIDED, f"uses {', '.join(f.missing)}, unknown for the recipe")
    if f.kind == "url":
        if not is_download(f.url):
            return out(NO_FETCH, "a file of the tree, not a download")
        ans = provides.download(a.lock, f.url)
        if ans.provided:
            return out(PROVIDED, f"hook: {ans.detail}")
        return out(UNRESOLVED, short(gone)) if gone else out(NOT_PROVIDED, ans.detail)
    return _classify_git(a, f, out, gone)


def _classify_git(
    a: Audit, f: cmake.Fetch, out: Callable[[str, str], Finding], gone: Unresolved | None
) -> Finding:
    ans = provides.git_clone(a.lock, f.url, f.tag)
    if not ans.provided and gone:
        return out(UNRESOLVED, f"{short(gone)}; what it fetches in turn is not examined")
    if not ans.provided:
        return out(NOT_PROVIDED, ans.detail)
    pin = pin_for(a.lock, f.url, f.tag)
    return out(*cloned(a, pin, ans.detail, recursive=True))


def cloned(a: Audit, pin: GitPin | None, detail: str, *, recursive: bool) -> tuple[str, str]:
    """A clone served by its mirror (``detail``), and with ``recursive`` the submodules of
    ``pin`` too: provided, or NOT PROVIDED naming the first submodule that is not."""
    subs = pin.submodules if pin and recursive else ()
    for s in subs:
        ans = provides.submodule(a.lock, s.url, s.commit)
        if not ans.provided:
            return (
                NOT_PROVIDED,
                f"{detail}, but submodule {s.path} ({len(subs)} in all): {ans.detail}",
            )
    name = f"pin {pin.name}" if pin else "no pin of this URL and ref"
    more = f" and its {len(subs)} submodules" if subs else ""
    return PROVIDED, f"mirror: {name}{more}, {detail}"


def commands_at(text: str) -> dict[int, cmake.Command]:
    try:
        return {c.line: c for c in cmake.commands(text)}
    except cmake.CMakeSyntaxError:
        return {}


def cmake_findings(a: Audit, tree: Tree) -> None:
    """Every download declaration of every CMake file of ``tree``, reached or not."""
    seen = a.seen.get(tree.name, Seen())
    for path, text in sorted(tree.cmake_files.items()):
        try:
            lines = cmake.declarations(text)
        except cmake.CMakeSyntaxError:
            continue
        cmds = commands_at(text)
        for line in lines:
            for f in seen.fetches.get((path, line), []):
                gate = not_built(a, cmds[line], f.name)
                if gate:
                    construct, _ = describe(cmds[line])
                    where = f"{tree.name}:{path}:{line}"
                    a.add(Finding("cmake", NOT_REACHED, where, construct, f.url, gate))
                else:
                    a.add(classify_fetch(a, tree.name, cmds[line], f))
            if (path, line) not in seen.fetches:
                construct, value = describe(cmds[line])
                why = not_reached(tree, seen, path, line)
                a.add(
                    Finding(
                        "cmake", NOT_REACHED, f"{tree.name}:{path}:{line}", construct, value, why
                    )
                )


def word(v: cmake.Value) -> str:
    """An expanded argument; one that is unknown is written ``${NAME}``."""
    if v.text or not v.missing:
        return v.text
    return "${" + v.missing[0].rstrip("?") + "}"


def not_built(a: Audit, cmd: cmake.Command, name: str) -> str | None:
    """Why a reached declaration downloads nothing: its target is never built, or its
    FetchContent content is never made available (None: it downloads)."""
    lname = cmd.name.lower()
    if lname == "externalproject_add" and not a.built.is_built(name):
        return a.built.why_not_built(name)
    if lname == "fetchcontent_declare" and not a.built.made_available(name):
        return f"FetchContent_Declare({name}) is never made available (MakeAvailable/Populate)"
    return None


def call_not_built(a: Audit, name: str, words: Sequence[cmake.Value]) -> str | None:
    """Why the commands of a reached call never run: its target is never built."""
    lname = name.lower()
    texts = [w.text for w in words]
    if lname in ("externalproject_add", "add_custom_target") and texts:
        return None if a.built.is_built(texts[0]) else a.built.why_not_built(texts[0])
    if lname == "add_custom_command" and "TARGET" in texts[:-1]:
        target = texts[texts.index("TARGET") + 1]
        return None if a.built.is_built(target) else a.built.why_not_built(target)
    return None


def not_reached(tree: Tree, seen: Seen, path: str, line: int) -> str:
    if not seen.configs:
        return f"{tree.name} is never configured: no fetch that runs in the build asks for it"
    if path not in seen.ran:
        return f"{path} is not read: no add_subdirectory/include/find_package reaches it"
    return scan.why_not_reached(
        group(list(cmake.commands(tree.cmake_files[path]))), line, seen.ran[path]
    )
