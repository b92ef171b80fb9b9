"""Commands grouped into CMake's blocks: ``if``/``foreach``/``while``/``function``/
``macro``/``block``, each with its body (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .lexer import Arg, CMakeSyntaxError, Command

_OPEN = {
    "if": "endif",
    "foreach": "endforeach",
    "while": "endwhile",
    "function": "endfunction",
    "macro": "endmacro",
    "block": "endblock",
}
_CLOSE = {v: k for k, v in _OPEN.items()}


@dataclass(frozen=True, slots=True)
class Block:
    """A block: its opening command and its body; for ``if``, each branch's condition
    (the ``if``/``elseif`` arguments, None for ``else``) and body."""

    head: Command
    body: tuple[Node, ...] = ()
    branches: tuple[tuple[tuple[Arg, ...] | None, tuple[Node, ...]], ...] = ()

    @property
    def line(self) -> int:
        return self.head.line


Node = Command | Block


def group(cmds: Sequence[Command]) -> tuple[Node, ...]:
    """``cmds`` as a tree of blocks; CMakeSyntaxError for an unclosed or stray end."""
    pos = 0

    def until(
        end: str | None,
    ) -> tuple[list[Node], Command | None, list[tuple[Command, list[Node]]]]:
        nonlocal pos
        body: list[Node] = []
        parts: list[tuple[Command, list[Node]]] = []
        while pos < len(cmds):
            cmd = cmds[pos]
            pos += 1
            lname = cmd.name.lower()
            if end == "endif" and lname in ("elseif", "else"):
                parts.append((cmd, body))
                body = []
                continue
            if lname == end:
                return body, cmd, parts
            if lname in _CLOSE:
                raise CMakeSyntaxError(f"line {cmd.line}: {cmd.name}() without {_CLOSE[lname]}()")
            if lname in _OPEN:
                inner, closed, inner_parts = until(_OPEN[lname])
                if closed is None:
                    raise CMakeSyntaxError(f"line {cmd.line}: {cmd.name}() is not closed")
                body.append(_block(cmd, inner, inner_parts))
            else:
                body.append(cmd)
        return body, None, parts

    out, _, _ = until(None)
    return tuple(out)


def _block(head: Command, body: list[Node], parts: list[tuple[Command, list[Node]]]) -> Block:
    if head.name.lower() != "if":
        return Block(head, tuple(body))
    branches: list[tuple[tuple[Arg, ...] | None, tuple[Node, ...]]] = []
    cond: tuple[Arg, ...] | None = head.args
    for cmd, part in parts:
        branches.append((cond, tuple(part)))
        cond = None if cmd.name.lower() == "else" else cmd.args
    branches.append((cond, tuple(body)))
    return Block(head, (), tuple(branches))
