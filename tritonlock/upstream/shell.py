"""The one reading of shell text (a Dockerfile RUN line, a generated build script), with
one :class:`Command` for a simple command. Not a shell: enough to read upstream's recipe
and to rewrite it.

Two readings share it:

* :func:`split` (reading): every simple command of a script with ``shlex``, keeping the
  ``if`` conditions each runs under and the command piped into it.
* :func:`segments` and :func:`command` (rewriting): a line cut at its operators with
  every byte kept, so ``"".join(segments(text)) == text``, and one segment's words. Only
  what is rewritten changes; a RUN round-trips unchanged when it holds no floating input.

Two constructs are read further by :func:`split`, because upstream installs with them:

* ``for NAME in WORD…; do BODY; done`` over literal words (no variable, glob or quote
  left in them) is unrolled: BODY once per word, ``$NAME`` and ``${NAME}`` replaced by it
  wherever the shell would expand them (not inside single quotes, not after a
  backslash). Any other loop is not guessed: BODY is read once, each of its commands
  under the loop's header ``for NAME in …`` as a condition, which no plan can decide.
* ``NAME=$(CMD)`` and later ``printf '%s\\n' "$NAME" | …`` (or ``echo "$NAME" | …``):
  what is piped is CMD's output, so CMD is the pipe's source, as in ``CMD | …``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_SEPARATORS = frozenset({"&&", "||", ";", ";;", "&", "|", "(", ")"})
_SKIP_WORDS = frozenset({"do", "done", "for", "while", "until", "case", "esac", "{", "}"})
# after these a word is a command's first word again (where `do` and `done` are keywords)
_COMMAND_START = _SEPARATORS | _SKIP_WORDS | {"if", "then", "elif", "else", "fi", "!"}
_SUB = "__tlsub{}__"
_SUB_RE = re.compile(r"__tlsub(\d+)__")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LITERAL_WORD = re.compile(r"^[A-Za-z0-9_.,:+=@%/-]+$")
_EXPANSION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_REFERENCE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
# `$` and backquote that quoting makes literal, while the words are read (restored after)
_MARK = str.maketrans({"$": "\ue000", "`": "\ue001"})
_UNMARK = str.maketrans({"\ue000": "$", "\ue001": "`"})


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command: its words (leading ``VAR=value`` assignments included;
    substitutions restored), the conditions it runs under, the command piped into it, and
    the keywords written before it in its segment (``then``, ``do``…; :func:`command`)."""

    argv: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    piped_from: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @property
    def assignments(self) -> tuple[str, ...]:
        """The leading ``VAR=value`` words."""
        n = next((i for i, w in enumerate(self.argv) if not _ASSIGN.match(w)), len(self.argv))
        return self.argv[:n]

    @property
    def words(self) -> tuple[str, ...]:
        """The command and its arguments, after the assignments."""
        return self.argv[len(self.assignments) :]

    @property
    def name(self) -> str:
        return self.words[0].rsplit("/", 1)[-1] if self.words else ""

    def render(self, new: str) -> str:
        """``new`` (already quoted shell) behind the kept keywords and assignments."""
        head = " ".join(self.keywords + tuple(shlex.quote(a) for a in self.assignments))
        return f" {head} {new} " if head else f" {new} "


def loop_words(argv: Sequence[str]) -> tuple[str, ...] | None:
    """The words ``for NAME in WORD…`` iterates over, if every one is literal (else None:
    a variable, a glob, a quote or a command's output is known only when it runs)."""
    if len(argv) < 3 or argv[0] != "for" or not _NAME.match(argv[1]) or argv[2] != "in":
        return None
    words = tuple(argv[3:])
    if any(not _LITERAL_WORD.match(w) or _SUB_RE.search(w) for w in words):
        return None
    return words


def _marked(text: str, start: int = 0, inner: bool = False) -> tuple[str, int]:
    """``text`` with each ``$`` and backquote that quoting makes literal marked; inside
    ``$(…)`` (``inner``) up to its closing parenthesis. Returns the text and where it ended."""
    out: list[str] = []
    double = False
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            out.append(ch + text[i + 1 : i + 2].translate(_MARK))
            i += 2
            continue
        if ch == "'" and not double:
            end = text.find("'", i + 1)
            end = len(text) - 1 if end < 0 else end
            out.append(text[i : end + 1].translate(_MARK))
            i = end + 1
            continue
        if text.startswith("$(", i):
            sub, i = _marked(text, i + 2, inner=True)
            out.append("$(" + sub)
            continue
        if ch == '"':
            double = not double
        elif inner and not double and ch in "()":
            depth += 1 if ch == "(" else -1
            if depth < 0:
                return "".join(out) + ch, i + 1
        out.append(ch)
        i += 1
    return "".join(out), i


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


def _whole_command(sub: str) -> bool:
    return sub.startswith("$(") and sub.endswith(")")


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


def _body_end(words: list[str], start: int) -> int:
    """Index of the ``done`` that closes the loop body starting at ``start`` (nested
    loops counted), or ``len(words)`` when the text ends first."""
    depth, first = 0, True
    for i in range(start, len(words)):
        word = words[i]
        if first and word == "do":
            depth += 1
        elif first and word == "done":
            if depth == 0:
                return i
            depth -= 1
        first = word in _COMMAND_START
    return len(words)


class _Splitter:
    def __init__(self, subs: list[str]) -> None:
        self.subs = subs
        self.commands: list[Command] = []
        self.frames: list[list[str]] = []
        self.argv: list[str] = []  # words with literal `$` still marked
        self.cond: list[str] | None = None
        self.pipe: tuple[str, ...] = ()
        self.bound: dict[str, str] = {}  # loop variables of the unrolled iteration
        self.outputs: dict[str, tuple[str, ...]] = {}  # NAME=$(CMD): NAME -> CMD

    def conditions(self) -> tuple[str, ...]:
        return tuple(c for frame in self.frames for c in frame)

    def word(self, token: str) -> str:
        def bind(m: re.Match[str]) -> str:
            return self.bound.get(m.group(1) or m.group(2), m.group(0))

        return _EXPANSION.sub(bind, _restore(token, self.subs))

    def finish(self, sep: str) -> None:
        marked = tuple(self.argv)
        argv = tuple(w.translate(_UNMARK) for w in marked)
        self.argv = []
        if argv and self.cond is not None:
            self.cond.append(" ".join(argv))
        if argv:
            self.commands.append(Command(argv, self.conditions(), self.pipe))
            self.remember(marked)
        self.pipe = self.output(marked) if sep == "|" else ()

    def remember(self, marked: tuple[str, ...]) -> None:
        """What ``NAME=$(CMD)`` leaves in NAME; a command that names NAME may change it."""
        if not all(_ASSIGN.match(w) for w in marked):
            for word in marked[1:]:
                self.outputs.pop(word.split("=", 1)[0], None)
            return
        for word in marked:
            name, _, value = word.partition("=")
            self.outputs.pop(name, None)
            text, subs = _substitutions(value)
            if self.conditions() or text != _SUB.format(0) or not _whole_command(subs[0]):
                continue
            inner = split(subs[0][2:-1].translate(_UNMARK))
            if len(inner) == 1 and not inner[0].conditions and not inner[0].piped_from:
                self.outputs[name] = inner[0].argv

    def output(self, marked: tuple[str, ...]) -> tuple[str, ...]:
        """The command whose output ``marked`` writes to the pipe: itself, or CMD for
        ``printf '%s\\n' "$NAME"`` and ``echo "$NAME"`` after ``NAME=$(CMD)``."""
        argv = tuple(w.translate(_UNMARK) for w in marked)
        if argv[:2] == ("printf", "%s\\n") and len(argv) == 3:
            ref = _REFERENCE.match(marked[2])
        elif argv[:1] == ("echo",) and len(argv) == 2:
            ref = _REFERENCE.match(marked[1])
        else:
            return argv
        return self.outputs.get(ref.group(1), argv) if ref else argv

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

    def loop(self, words: list[str], i: int) -> int | None:
        """Read the ``for`` loop whose keyword is ``words[i]``: the index after its
        ``done``, or None when no ``do`` follows (then ``for`` is skipped as before)."""
        do = next(
            (j for j in range(i + 2, len(words)) if words[j] == "do" and words[j - 1] == ";"),
            None,
        )
        if do is None:
            return None
        header = [self.word(w) for w in words[i : do - 1]]
        end = _body_end(words, do + 1)
        body = words[do + 1 : end]
        items = loop_words(header)
        if items is None:
            depth = len(self.frames)
            self.frames.append([" ".join(header).translate(_UNMARK)])
            self.feed(body)
            del self.frames[depth:]
            return end + 1
        outer = self.bound
        for item in items:
            self.bound = {**outer, header[1]: item}
            self.feed(body)
        self.bound = outer
        return end + 1

    def feed(self, words: list[str]) -> None:
        i = 0
        while i < len(words):
            word = words[i]
            i += 1
            if word in _SEPARATORS:
                self.finish(word)
            elif word[:1] in ("<", ">") or word in (">&", "&>"):
                if self.argv and self.argv[-1].isdigit():
                    self.argv.pop()
                i += 1  # the redirection's target
            elif not self.argv and word == "for" and (after := self.loop(words, i - 1)):
                i = after
            elif not self.argv and self.keyword(word):
                continue
            else:
                self.argv.append(self.word(word))
        self.finish(";")


def split(script: str) -> list[Command]:
    """Every simple command of ``script`` (one logical line or many)."""
    marked, _ = _marked(script)
    text, subs = _substitutions(marked)
    splitter = _Splitter(subs)
    splitter.feed(_tokens(text))
    return splitter.commands


def strip_prefix(argv: tuple[str, ...]) -> tuple[str, ...]:
    """Drop leading ``VAR=value`` words and ``sudo``/``env`` wrappers."""
    args = list(argv)
    while args and (_ASSIGN.match(args[0]) or args[0] in ("sudo", "env", "exec", "command", "!")):
        args.pop(0)
        while args and args[0].startswith("-") and args[0] != "--":
            args.pop(0)
    return tuple(args)


def truth(text: str) -> bool | None:
    """A ``[ A = B ]`` test (``[[ ]]``, ``test``; ``==``, ``!=``; negated by leading
    ``!``) of literal words: True or False; None for anything else (a variable left, a
    glob, another test)."""
    text = text.strip()
    negate = False
    while text.startswith("! "):
        negate, text = not negate, text[2:].lstrip()
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    if words[:1] in (["["], ["[["]) and words[-1:] in (["]"], ["]]"]):
        words = words[1:-1]
    elif words[:1] == ["test"]:
        words = words[1:]
    else:
        return None
    if len(words) != 3 or words[1] not in ("=", "==", "!=") or "$" in words[0] + words[2]:
        return None
    equal = words[0] == words[2]
    return (equal if words[1] != "!=" else not equal) != negate


# --- rewriting: segments of a line, every byte kept ----------------------------------------

OPERATORS = ("&&", "||", ";", "|", "(", ")", "\n")
KEYWORDS = frozenset({"then", "else", "do", "!", "{"})


def segments(text: str) -> list[str]:
    """``[segment, op, segment, op, …, segment]``; quotes and backslashes respected."""
    out: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                buf.append(text[i : i + 2])
                i += 2
                continue
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "\\":
            buf.append(text[i : i + 2])
            i += 2
            continue
        else:
            op = next((o for o in OPERATORS if text.startswith(o, i)), None)
            if op is not None:
                out += ["".join(buf), op]
                buf = []
                i += len(op)
                continue
        buf.append(ch)
        i += 1
    out.append("".join(buf))
    return out


def command(segment: str) -> Command | None:
    """Parse one segment, or None when it is not plain words (then it is kept as written)."""
    try:
        words = shlex.split(segment, posix=True)
    except ValueError:
        return None
    i = 0
    while i < len(words) and words[i] in KEYWORDS:
        i += 1
    return Command(tuple(words[i:]), keywords=tuple(words[:i]))


_IF = re.compile(
    r'^\s*if\s+\[\s+"?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?"?\s+(=|==|!=)\s+"?([A-Za-z0-9_.+-]*)"?\s+\]\s*$'
)
_LEAD = re.compile(r"^(\s*)(then|else)\b")


def static_if(parts: list[str], args: Mapping[str, str]) -> list[str] | None:
    """A RUN that is one ``if [ "$ARG" = "lit" ]; then A; else B; fi`` over a build ARG
    with a default: the branch that default selects (``[seg, op, …]``), else None."""
    m = _IF.match(parts[0])
    if m is None or m.group(1) not in args:
        return None
    marks: dict[str, int] = {}
    depth = 0
    for k in range(2, len(parts), 2):
        for word in parts[k].split():
            if word in ("then", "else", "elif"):
                if depth == 0 and (word in marks or word == "elif"):
                    return None
                if depth == 0:
                    marks[word] = k
                continue
            if word == "if":
                depth += 1
            elif word == "fi" and depth:
                depth -= 1
            elif word == "fi":
                marks.setdefault("fi", k)
            break
    if "then" not in marks or "fi" not in marks:
        return None
    if any(parts[k].strip() for k in range(marks["fi"] + 2, len(parts), 2)):
        return None
    equal = args[m.group(1)] == m.group(3)
    take = equal if m.group(2) != "!=" else not equal
    start = marks["then"] if take else marks.get("else")
    if start is None:
        return ["true"]
    end = marks.get("else", marks["fi"]) if take else marks["fi"]
    branch = parts[start : end - 1]
    branch[0] = _LEAD.sub(r"\1", branch[0])
    return branch
