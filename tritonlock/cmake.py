"""Read the downloads a CMake file declares, without running CMake (pure).

:func:`commands` splits CMake text into command invocations (name, arguments,
line) following the CMake language grammar: line and bracket comments, quoted
and bracket arguments, escapes, nested parentheses. :func:`fetches` walks them in
order, keeps a variable scope (``set``, ``unset``, ``option``, ``set(... CACHE ...)``
defaults that never override what the caller passed, as with ``-D``, and the ``list()``
forms that build variables: ``APPEND``, ``PREPEND``, ``GET``, ``LENGTH``; any other
``list()`` form makes the variables it writes unknown), and returns
every ``ExternalProject_Add`` / ``FetchContent_Declare`` that names a
``GIT_REPOSITORY`` or ``URL``, and every ``file(DOWNLOAD ...)``, with its
variables expanded.

Control flow (``if``/``foreach``/functions) is not evaluated: every branch is read
and the last assignment before a use wins. A variable that is not known is
reported in :attr:`Fetch.missing`, never silently taken as empty. Declarations
inside ``function()``/``macro()`` bodies are marked :attr:`Fetch.template`: their
arguments are only known at each call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACKET_OPEN = re.compile(r"\[(=*)\[")
_VAR = re.compile(r"\$(ENV|CACHE)?\{([A-Za-z0-9_./+-]*)\}")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", ";": "\\;", "0": "\0"}
_KEYWORD = re.compile(r"^[A-Z][A-Z0-9_]*$")


class CMakeSyntaxError(ValueError):
    """The text is not valid CMake (unterminated argument, comment or call)."""


@dataclass(frozen=True, slots=True)
class Arg:
    """One raw argument: its text, and how it was written."""

    text: str
    kind: str  # "unquoted" | "quoted" | "bracket"


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # as written; compare lowercased
    args: tuple[Arg, ...]
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetch:
    """A download declared by CMake. ``kind`` is "git" or "url"."""

    kind: str
    name: str
    line: int
    url: str
    tag: str | None = None
    hashed: bool = False
    missing: tuple[str, ...] = ()
    template: bool = False  # inside a function() or macro() body: arguments are unknown


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def peek(self, n: int = 0) -> str:
        i = self.pos + n
        return self.text[i] if i < len(self.text) else ""

    def advance(self, n: int = 1) -> str:
        chunk = self.text[self.pos : self.pos + n]
        self.line += chunk.count("\n")
        self.pos += n
        return chunk

    def bracket(self) -> str | None:
        """Read ``[==[ ... ]==]`` at pos, or return None when there is none."""
        m = _BRACKET_OPEN.match(self.text, self.pos)
        if m is None:
            return None
        close = "]" + m.group(1) + "]"
        end = self.text.find(close, m.end())
        if end < 0:
            raise CMakeSyntaxError(f"line {self.line}: unterminated bracket")
        self.advance(m.end() - self.pos)
        body = self.advance(end - self.pos)
        self.advance(len(close))
        return body[1:] if body.startswith("\n") else body

    def comment(self) -> None:
        self.advance()  # '#'
        if self.bracket() is not None:
            return
        end = self.text.find("\n", self.pos)
        self.advance((end if end >= 0 else len(self.text)) - self.pos)

    def escape(self) -> str:
        self.advance()  # backslash
        c = self.advance()
        if c == "":
            raise CMakeSyntaxError(f"line {self.line}: backslash at end of input")
        if c == "\n":
            return ""
        return _ESCAPES.get(c, c)

    def quoted(self) -> str:
        self.advance()  # opening quote
        out: list[str] = []
        while True:
            c = self.peek()
            if c == "":
                raise CMakeSyntaxError(f"line {self.line}: unterminated quoted argument")
            if c == '"':
                self.advance()
                return "".join(out)
            out.append(self.escape() if c == "\\" else self.advance())

    def unquoted(self) -> str:
        out: list[str] = []
        depth_quote = False
        while True:
            c = self.peek()
            if c == "" or (not depth_quote and (c.isspace() or c in "()#")):
                return "".join(out)
            if c == "\\":
                out.append(self.escape())
                continue
            if c == '"':  # legacy: quotes inside an unquoted argument
                depth_quote = not depth_quote
            out.append(self.advance())

    def arguments(self) -> tuple[Arg, ...]:
        args: list[Arg] = []
        depth = 0
        while True:
            c = self.peek()
            if c == "":
                raise CMakeSyntaxError(f"line {self.line}: unterminated command")
            if c.isspace():
                self.advance()
            elif c == "#":
                self.comment()
            elif c == "(":
                depth += 1
                args.append(Arg(self.advance(), "unquoted"))
            elif c == ")":
                self.advance()
                if depth == 0:
                    return tuple(args)
                depth -= 1
                args.append(Arg(")", "unquoted"))
            elif c == '"':
                args.append(Arg(self.quoted(), "quoted"))
            elif c == "[" and (text := self.bracket()) is not None:
                args.append(Arg(text, "bracket"))
            else:
                args.append(Arg(self.unquoted(), "unquoted"))


def commands(text: str) -> Iterator[Command]:
    """Every command invocation in ``text``, in order."""
    r = _Reader(text)
    while r.pos < len(r.text):
        c = r.peek()
        if c.isspace():
            r.advance()
        elif c == "#":
            r.comment()
        elif (m := _IDENT.match(r.text, r.pos)) is not None:
            line = r.line
            r.advance(m.end() - r.pos)
            while r.peek() in (" ", "\t"):
                r.advance()
            if r.peek() != "(":
                raise CMakeSyntaxError(f"line {line}: expected '(' after {m.group(0)}")
            r.advance()
            yield Command(m.group(0), r.arguments(), line)
        else:
            raise CMakeSyntaxError(f"line {r.line}: unexpected {c!r}")


def expand(text: str, scope: Mapping[str, str], missing: list[str]) -> str:
    """Expand ``${VAR}`` (nested, innermost first); unknown names go to ``missing``."""

    def sub(m: re.Match[str]) -> str:
        kind, name = m.group(1), m.group(2)
        if kind != "ENV" and name in scope:
            return scope[name]
        missing.append(f"$ENV{{{name}}}" if kind == "ENV" else name)
        return ""

    for _ in range(64):
        new = _VAR.sub(sub, text)
        if new == text:
            return new
        text = new
    return text


def _values(args: tuple[Arg, ...], scope: Mapping[str, str]) -> list[tuple[str, tuple[str, ...]]]:
    """Expanded arguments, each with the unknown variables its expansion met."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for a in args:
        missing: list[str] = []
        if a.kind == "bracket":
            out.append((a.text, ()))
        elif a.kind == "quoted":
            out.append((expand(a.text, scope, missing), tuple(missing)))
        else:
            value = expand(a.text, scope, missing)
            parts = [v.replace("\\;", ";") for v in re.split(r"(?<!\\);", value) if v]
            out.extend((v, tuple(missing)) for v in parts)
            if not parts and missing:
                out.append(("", tuple(missing)))
    return out


KEYWORDS = frozenset(
    {
        "GIT_REPOSITORY",
        "GIT_TAG",
        "GIT_SHALLOW",
        "GIT_PROGRESS",
        "GIT_SUBMODULES",
        "GIT_SUBMODULES_RECURSE",
        "GIT_REMOTE_NAME",
        "GIT_CONFIG",
        "GIT_REMOTE_UPDATE_STRATEGY",
        "URL",
        "URL_HASH",
        "URL_MD5",
        "DOWNLOAD_NAME",
        "DOWNLOAD_NO_EXTRACT",
        "DOWNLOAD_COMMAND",
        "DOWNLOAD_DIR",
        "PREFIX",
        "SOURCE_DIR",
        "BINARY_DIR",
        "SOURCE_SUBDIR",
        "EXCLUDE_FROM_ALL",
        "CMAKE_ARGS",
        "CMAKE_CACHE_ARGS",
        "PATCH_COMMAND",
        "UPDATE_COMMAND",
        "CONFIGURE_COMMAND",
        "BUILD_COMMAND",
        "INSTALL_COMMAND",
        "TEST_COMMAND",
        "COMMAND",
        "DEPENDS",
        "TLS_VERIFY",
        "FIND_PACKAGE_ARGS",
        "OVERRIDE_FIND_PACKAGE",
        "SYSTEM",
        "LOG_DOWNLOAD",
        "BUILD_IN_SOURCE",
        "INSTALL_DIR",
        "STAMP_DIR",
        "TMP_DIR",
        "BUILD_BYPRODUCTS",
        "HTTP_HEADER",
        "INACTIVITY_TIMEOUT",
        "TIMEOUT",
        "DOWNLOAD_EXTRACT_TIMESTAMP",
        "UPDATE_DISCONNECTED",
    }
)


Values = list[tuple[str, tuple[str, ...]]]


def _keyword_values(values: Values, key: str) -> Values | None:
    """The values after ``key`` up to the next known keyword; None when absent."""
    words = [v for v, _ in values]
    if key not in words:
        return None
    i = words.index(key) + 1
    out: Values = []
    while i < len(values) and words[i] not in KEYWORDS:
        out.append(values[i])
        i += 1
    return out


def _missing(*groups: Values | None) -> tuple[str, ...]:
    names = [m for g in groups if g for _, ms in g for m in ms]
    return tuple(dict.fromkeys(names))


def _declared(cmd: Command, scope: Mapping[str, str]) -> list[Fetch]:
    values = _values(cmd.args, scope)
    if not values:
        return []
    name, rest = values[0][0], values[1:]
    repo = _keyword_values(rest, "GIT_REPOSITORY")
    if repo:
        tag = _keyword_values(rest, "GIT_TAG")
        return [
            Fetch(
                kind="git",
                name=name,
                line=cmd.line,
                url=repo[0][0],
                tag=tag[0][0] if tag else None,
                missing=_missing(repo[:1], tag[:1] if tag else None),
            )
        ]
    hashed = bool(_keyword_values(rest, "URL_HASH") or _keyword_values(rest, "URL_MD5"))
    return [
        Fetch(kind="url", name=name, line=cmd.line, url=u, hashed=hashed, missing=m)
        for u, m in _keyword_values(rest, "URL") or []
    ]


def _file_download(cmd: Command, scope: Mapping[str, str]) -> list[Fetch]:
    values = _values(cmd.args, scope)
    words = [v for v, _ in values]
    if len(words) < 2 or words[0] != "DOWNLOAD":
        return []
    hashed = "EXPECTED_HASH" in words or "EXPECTED_MD5" in words
    return [
        Fetch(
            kind="url",
            name=words[2].rsplit("/", 1)[-1] if len(words) > 2 else "download",
            line=cmd.line,
            url=words[1],
            hashed=hashed,
            missing=values[1][1],
        )
    ]


def _assign(cmd: Command, scope: dict[str, str]) -> None:
    """Apply ``set``/``unset``/``option`` to ``scope`` (see module docstring)."""
    lname = cmd.name.lower()
    values = [v for v, _ in _values(cmd.args, scope)]
    if not values:
        return
    var, rest = values[0], values[1:]
    if lname == "unset":
        scope.pop(var, None)
    elif lname == "option":
        scope.setdefault(var, rest[1] if len(rest) > 1 else "OFF")
    elif "PARENT_SCOPE" in rest:
        return
    elif "CACHE" in rest:
        scope.setdefault(var, ";".join(rest[: rest.index("CACHE")]))
    elif rest:
        scope[var] = ";".join(rest)
    else:
        scope.pop(var, None)


def _items(value: str) -> list[str]:
    """A CMake list's elements as stored (``\\;`` kept), empty elements dropped."""
    return [v for v in re.split(r"(?<!\\);", value) if v]


_LIST_INPLACE = frozenset(
    {"INSERT", "REMOVE_ITEM", "REMOVE_AT", "REMOVE_DUPLICATES", "REVERSE", "SORT", "FILTER"}
)


def _list(cmd: Command, scope: dict[str, str]) -> None:
    """Apply ``list(...)`` to ``scope``; a form not evaluated makes its outputs unknown."""
    words = [v for v, _ in _values(cmd.args, scope)]
    if len(words) < 2:
        return
    sub, var, rest = words[0].upper(), words[1], words[2:]
    if sub in ("APPEND", "PREPEND"):
        old = _items(scope.get(var, ""))
        new = [*old, *rest] if sub == "APPEND" else [*rest, *old]
        scope[var] = ";".join(new)
    elif sub in ("GET", "LENGTH") and rest:
        out = rest[-1]
        if var not in scope:
            scope.pop(out, None)
        elif sub == "LENGTH":
            scope[out] = str(len(_items(scope[var])))
        else:
            got = _get(_items(scope[var]), rest[:-1])
            if got is None:
                scope.pop(out, None)
            else:
                scope[out] = ";".join(got)
    elif sub in _LIST_INPLACE or (sub == "TRANSFORM" and "OUTPUT_VARIABLE" not in rest):
        scope.pop(var, None)
    elif sub == "TRANSFORM":
        i = rest.index("OUTPUT_VARIABLE")
        if i + 1 < len(rest):
            scope.pop(rest[i + 1], None)
    elif sub in ("POP_BACK", "POP_FRONT"):
        for name in (var, *rest):
            scope.pop(name, None)
    elif rest:  # FIND, JOIN, SUBLIST: the output is the last argument
        scope.pop(rest[-1], None)


def _get(items: list[str], indices: list[str]) -> list[str] | None:
    """``items`` at ``indices`` (negative counts from the end); None when any is invalid."""
    out: list[str] = []
    for text in indices:
        if not re.fullmatch(r"-?[0-9]+", text):
            return None
        i = int(text)
        if not -len(items) <= i < len(items):
            return None
        out.append(items[i])
    return out


@dataclass(frozen=True, slots=True)
class Scan:
    """What one file declares, and the variable scope at its end."""

    fetches: tuple[Fetch, ...]
    scope: Mapping[str, str]


def scan(text: str, variables: Mapping[str, str] | None = None) -> Scan:
    """Every git or URL download declared in ``text`` (see module docstring)."""
    scope = dict(variables or {})
    found: list[Fetch] = []
    depth = 0
    for cmd in commands(text):
        lname = cmd.name.lower()
        new: list[Fetch] = []
        if lname in ("function", "macro"):
            depth += 1
        elif lname in ("endfunction", "endmacro"):
            depth = max(0, depth - 1)
        elif lname in ("set", "unset", "option"):
            _assign(cmd, scope)
        elif lname == "list":
            _list(cmd, scope)
        elif lname in ("externalproject_add", "fetchcontent_declare"):
            new = _declared(cmd, scope)
        elif lname == "file":
            new = _file_download(cmd, scope)
        found.extend(replace(f, template=True) if depth else f for f in new)
    return Scan(tuple(found), scope)


def fetches(text: str, variables: Mapping[str, str] | None = None) -> list[Fetch]:
    """The downloads of :func:`scan`, as a list."""
    return list(scan(text, variables).fetches)


# ``config.h.cmake`` and the like are configure_file() templates, not CMake scripts.
_TEMPLATE_STEMS = frozenset({"h", "hh", "hpp", "hxx", "c", "cc", "cpp", "in", "pc", "rc", "py"})


def is_cmake_file(path: str) -> bool:
    """True for the files CMake reads: ``CMakeLists*.txt`` and ``*.cmake`` (not templates)."""
    base = path.rsplit("/", 1)[-1]
    if base.startswith("CMakeLists") and base.endswith(".txt"):
        return True
    stem = base.removesuffix(".cmake")
    return stem != base and stem.rpartition(".")[2].lower() not in _TEMPLATE_STEMS - {stem}
