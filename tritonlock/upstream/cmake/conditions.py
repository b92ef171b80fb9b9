"""``if()`` conditions evaluated the way CMake does, with a third answer (pure).

:func:`evaluate` gives True, False or None (cannot be decided here: a variable whose value
is unknown, ``EXISTS`` and other questions about the file system or targets). Precedence
is CMake's: parentheses, unary tests, binary tests, ``NOT``, ``AND``, ``OR``. A bare
word is a variable name when it is not a constant (CMP0054 NEW: quoted arguments are
never dereferenced).

A variable that is not defined is what CMake says it is, undefined (false, empty),
unless something this reader does not see may define it: CMake itself (``CMAKE_*``), a
package search (``Foo_FOUND``, ``Foo_DIR``, ``Foo_VERSION`` …, and every ``Foo_*`` after
``find_package(Foo)``): then it is unknown. Platform variables CMake leaves undefined
on Linux (``WIN32``, ``APPLE``, ``MSVC`` …) are undefined. The environment is the
build's, which the recipe sets: in a condition, an environment variable it does not set
is undefined (``DEFINED ENV{X}`` is false, ``$ENV{X}`` is empty). ``EXISTS`` of a path
inside the tree is true when the tree has that file or folder (only CMake files and
submodules are known), else unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .lexer import Arg
from .values import Scope, Value, items, values

Tri = bool | None

_TRUE = frozenset({"1", "ON", "YES", "TRUE", "Y"})
_FALSE = frozenset({"0", "OFF", "NO", "FALSE", "N", "IGNORE", "NOTFOUND", ""})
# Undefined on a Linux build: an if() on them is false, not unknown.
ABSENT_ON_LINUX = frozenset(
    {"WIN32", "APPLE", "MSVC", "MINGW", "CYGWIN", "ANDROID", "IOS", "EMSCRIPTEN", "BORLAND"}
    | {"CMAKE_HOST_WIN32", "CMAKE_HOST_APPLE", "XCODE", "WINDOWS_STORE", "WINCE", "MSYS"}
    | {"OSX", "WINDOWS", "MACOS", "DARWIN"}
)
_UNARY_UNKNOWN = frozenset(
    {"EXISTS", "COMMAND", "POLICY", "TARGET", "TEST", "IS_DIRECTORY", "IS_SYMLINK"}
    | {"IS_ABSOLUTE", "IS_READABLE", "IS_WRITABLE", "IS_EXECUTABLE"}
)
_BINARY = frozenset(
    {"EQUAL", "LESS", "GREATER", "LESS_EQUAL", "GREATER_EQUAL"}
    | {"STREQUAL", "STRLESS", "STRGREATER", "STRLESS_EQUAL", "STRGREATER_EQUAL"}
    | {"VERSION_EQUAL", "VERSION_LESS", "VERSION_GREATER"}
    | {"VERSION_LESS_EQUAL", "VERSION_GREATER_EQUAL"}
    | {"MATCHES", "IN_LIST", "PATH_EQUAL", "IS_NEWER_THAN"}
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.+-]*$")
_PROVIDED_SUFFIXES = (
    "_FOUND",
    "_DIR",
    "_ROOT",
    "_VERSION",
    "_VERSION_STRING",
    "_INCLUDE_DIR",
    "_INCLUDE_DIRS",
    "_LIBRARY",
    "_LIBRARIES",
    "_EXECUTABLE",
    "_POPULATED",
    "_SOURCE_DIR",
    "_BINARY_DIR",
)


def provided(name: str, scope: Scope) -> bool:
    """True when something unseen here (CMake, a package search) may define ``name``."""
    if name in ABSENT_ON_LINUX:
        return False
    return (
        name.startswith(("CMAKE_", "ENV{", "CACHE{"))
        or name.endswith(_PROVIDED_SUFFIXES)
        or any(name.startswith(p) for p in scope.prefixes)
    )


def condition_values(args: Sequence[Arg], scope: Scope) -> list[Value]:
    """``if()`` arguments expanded as CMake expands them there (see the docstring)."""
    return values(args, scope, empty=lambda name: not provided(name, scope))


_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def constant(text: str) -> Tri:
    """The truth of a CMake constant, or None when ``text`` is not one."""
    up = text.upper()
    if up in _TRUE:
        return True
    if up in _FALSE or up.endswith("-NOTFOUND"):
        return False
    if _NUMBER.match(text):
        return float(text) != 0
    return None


def truth(text: str) -> bool:
    """A value as a condition (any non-constant string is false)."""
    return bool(constant(text))


class _Parser:
    def __init__(
        self, args: Sequence[Value], scope: Scope, exists: Callable[[str], Tri] | None = None
    ) -> None:
        self.args = list(args)
        self.scope = scope
        self.exists = exists or (lambda _path: None)
        self.pos = 0

    def peek(self) -> Value | None:
        return self.args[self.pos] if self.pos < len(self.args) else None

    def keyword(self, *words: str) -> str | None:
        v = self.peek()
        if v is not None and not v.quoted and not v.missing and v.text in words:
            self.pos += 1
            return v.text
        return None

    def take(self) -> Value:
        v = self.peek()
        if v is None:
            raise ValueError("incomplete condition")
        self.pos += 1
        return v

    def or_(self) -> Tri:
        left = self.and_()
        while self.keyword("OR"):
            right = self.and_()
            left = True if True in (left, right) else (None if None in (left, right) else False)
        return left

    def and_(self) -> Tri:
        left = self.not_()
        while self.keyword("AND"):
            right = self.not_()
            left = False if False in (left, right) else (None if None in (left, right) else True)
        return left

    def not_(self) -> Tri:
        if self.keyword("NOT"):
            inner = self.not_()
            return None if inner is None else not inner
        return self.binary()

    def binary(self) -> Tri:
        if self.keyword("("):
            inner = self.or_()
            if not self.keyword(")"):
                raise ValueError("unbalanced parentheses")
            return inner
        op = self.keyword("DEFINED", *_UNARY_UNKNOWN)
        if op == "DEFINED":  # `DEFINED $ENV{X}` with X unset leaves nothing to test
            return False if self.peek() is None else self.defined(self.take())
        if op in ("EXISTS", "IS_DIRECTORY"):
            path = self.take()
            return None if path.missing else self.exists(path.text)
        if op is not None:
            self.take()
            return None
        left = self.take()
        nxt = self.peek()
        if nxt is not None and not nxt.quoted and nxt.text in _BINARY:
            self.pos += 1
            right = self.take()
            if nxt.text == "IN_LIST":  # the right side names a list variable
                name = None if right.missing else right.text
                return compare(self.operand(left), nxt.text, name, self.scope)
            return compare(self.operand(left), nxt.text, self.operand(right), self.scope)
        return self.atom(left)

    def defined(self, v: Value) -> Tri:
        if v.missing:
            return None
        name = v.text
        if not name:
            return False
        if name.startswith("ENV{") and name.endswith("}"):
            return False  # the recipe sets no environment variable CMake asks about
        if name.startswith("CACHE{") and name.endswith("}"):
            name = name[6:-1]
        if self.scope.defined(name):
            return True
        return None if provided(name, self.scope) else False

    def operand(self, v: Value) -> str | None:
        """A binary operand's value: a variable's when it names one; None when unknown."""
        if v.missing:
            return None
        if v.quoted or not _NAME.match(v.text) or _NUMBER.match(v.text):
            return v.text
        if v.text in self.scope.values:
            return self.scope.values[v.text]
        if v.text in self.scope.unknown or provided(v.text, self.scope):
            return None
        return v.text  # not a variable: the word itself, as CMake reads it

    def atom(self, v: Value) -> Tri:
        if v.missing:
            return None
        known = constant(v.text)
        if known is not None or v.quoted:
            return bool(known)
        if v.text in self.scope.values:
            return truth(self.scope.values[v.text])
        if not _NAME.match(v.text):
            return False
        if v.text in self.scope.unknown or provided(v.text, self.scope):
            return None
        return False


def _version(text: str) -> tuple[int, ...] | None:
    m = re.match(r"^[0-9]+(\.[0-9]+)*", text.strip())
    return tuple(int(p) for p in m.group(0).split(".")) if m else None


def _cmp(a: str | float | tuple[int, ...], b: str | float | tuple[int, ...]) -> int:
    return int(a > b) - int(a < b)  # type: ignore[operator]


_ORDER = {"EQUAL": (0,), "LESS": (-1,), "GREATER": (1,), "LESS_EQUAL": (-1, 0)}
_ORDER |= {"GREATER_EQUAL": (1, 0)}


def compare(a: str | None, op: str, b: str | None, scope: Scope) -> Tri:
    """``a OP b`` with operands already dereferenced (None: unknown)."""
    if op == "IN_LIST":
        if a is None or b is None:
            return None
        if b in scope.values:
            return a in items(scope.values[b])
        return None if b in scope.unknown or provided(b, scope) else False
    if a is None or b is None or op in ("IS_NEWER_THAN",):
        return None
    if op == "MATCHES":
        try:
            return re.search(b, a) is not None
        except re.error:
            return None
    if op in ("STREQUAL", "PATH_EQUAL"):
        return a == b
    base = op.removeprefix("STR").removeprefix("VERSION_")
    if op.startswith("STR"):
        return _cmp(a, b) in _ORDER[base]
    if op.startswith("VERSION_"):
        va, vb = _version(a), _version(b)
        if va is None or vb is None:
            return None
        width = max(len(va), len(vb))
        va, vb = va + (0,) * (width - len(va)), vb + (0,) * (width - len(vb))
        return _cmp(va, vb) in _ORDER[base]
    if not (_NUMBER.match(a) and _NUMBER.match(b)):
        return False
    return _cmp(float(a), float(b)) in _ORDER[base]


def evaluate(
    args: Sequence[Value], scope: Scope, exists: Callable[[str], Tri] | None = None
) -> Tri:
    """The condition of ``if(args)``: True, False, or None when it cannot be decided.
    ``exists`` answers ``EXISTS path`` (None: unknown)."""
    parser = _Parser(args, scope, exists)
    try:
        result = parser.or_()
    except ValueError:
        return None
    return result if parser.pos == len(parser.args) else None
