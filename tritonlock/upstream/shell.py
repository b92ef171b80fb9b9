"""Split a shell script (a Dockerfile RUN line, a generated build script) into simple
commands with ``shlex``, keeping the ``if`` conditions each runs under and the command
piped into it. Not a shell: enough to read upstream's generated recipe.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_SEPARATORS = frozenset({"&&", "||", ";", ";;", "&", "|", "(", ")"})
_SKIP_WORDS = frozenset({"do", "done", "for", "while", "until", "case", "esac", "{", "}"})
_SUB = "__tlsub{}__"
_SUB_RE = re.compile(r"__tlsub(\d+)__")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command: words (substitutions restored), conditions, pipe source."""

    argv: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    piped_from: tuple[str, ...] = ()


def _substitutions(text: str) -> tuple[str, list[str]]:
    """Replace ``$(...)`` and backquoted commands by placeholder words."""
    subs: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$(", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
        elif text[i] == "`":
            end = text.find("`", i + 1)
            j = len(text) if end < 0 else end + 1
        else:
            out.append(text[i])
            i += 1
            continue
        out.append(_SUB.format(len(subs)))
        subs.append(text[i:j])
        i = j
    return "".join(out), subs


def _restore(word: str, subs: list[str]) -> str:
    return _SUB_RE.sub(lambda m: subs[int(m.group(1))], word)


def _tokens(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain words
        return text.split()


class _Splitter:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.frames: list[list[str]] = []
        self.argv: list[str] = []
        self.cond: list[str] | None = None
        self.pipe: tuple[str, ...] = ()

    def conditions(self) -> tuple[str, ...]:
        return tuple(c for frame in self.frames for c in frame)

    def finish(self, sep: str) -> None:
        argv = tuple(self.argv)
        self.argv = []
        if argv and self.cond is not None:
            self.cond.append(" ".join(argv))
        if argv:
            self.commands.append(Command(argv, self.conditions(), self.pipe))
        self.pipe = argv if sep == "|" else ()

    def keyword(self, word: str) -> bool:
        if word in ("if", "elif"):
            if word == "elif" and self.frames and self.frames[-1]:
                self.frames[-1][-1] = f"! {self.frames[-1][-1]}"
            elif word == "if":
                self.frames.append([])
            self.cond = []
        elif word == "then" and self.cond is not None:
            if self.frames:
                self.frames[-1].append(" && ".join(self.cond))
            self.cond = None
        elif word == "else" and self.frames and self.frames[-1]:
            self.frames[-1][-1] = f"! {self.frames[-1][-1]}"
        elif word == "fi" and self.frames:
            self.frames.pop()
        elif word not in _SKIP_WORDS:
            return False
        return True

    def feed(self, words: list[str], subs: list[str]) -> None:
        skip_next = False
        for word in words:
            if skip_next:
                skip_next = False
            elif word in _SEPARATORS:
                self.finish(word)
            elif word[0] in "<>" or word in (">&", "&>"):
                if self.argv and self.argv[-1].isdigit():
                    self.argv.pop()
                skip_next = True
            elif not self.argv and self.keyword(word):
                continue
            else:
                self.argv.append(_restore(word, subs))
        self.finish(";")


def split(script: str) -> list[Command]:
    """Every simple command of ``script`` (one logical line or many)."""
    text, subs = _substitutions(script)
    splitter = _Splitter()
    splitter.feed(_tokens(text), subs)
    return splitter.commands


def strip_prefix(argv: tuple[str, ...]) -> tuple[str, ...]:
    """Drop leading ``VAR=value`` words and ``sudo``/``env`` wrappers."""
    args = list(argv)
    while args and (_ASSIGN.match(args[0]) or args[0] in ("sudo", "env", "exec", "command", "!")):
        args.pop(0)
        while args and args[0].startswith("-") and args[0] != "--":
            args.pop(0)
    return tuple(args)
