"""Split CMake text into command invocations, following the CMake language grammar:
line and bracket comments, quoted and bracket arguments, escapes, nested parentheses
(pure). Also :func:`is_cmake_file`: which files of a tree CMake reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACKET_OPEN = re.compile(r"\[(=*)\[")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", ";": "\\;", "0": "\0"}


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


# ``config.h.cmake`` and the like are configure_file() templates, not CMake scripts.
_TEMPLATE_STEMS = frozenset({"h", "hh", "hpp", "hxx", "c", "cc", "cpp", "in", "pc", "rc", "py"})


def is_cmake_file(path: str) -> bool:
    """True for the files CMake reads: ``CMakeLists*.txt`` and ``*.cmake`` (not templates)."""
    base = path.rsplit("/", 1)[-1]
    if base.startswith("CMakeLists") and base.endswith(".txt"):
        return True
    stem = base.removesuffix(".cmake")
    return stem != base and stem.rpartition(".")[2].lower() not in _TEMPLATE_STEMS - {stem}
