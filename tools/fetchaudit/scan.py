"""Find what can fetch in texts the offline compile runs (pure).

* :func:`script_hits`: lines of a Python or shell script that install, build with pip's
  isolation, download or clone (comments and Python docstrings are not code);
* :func:`command_lists` / :func:`command_use`: the commands of a CMake
  ``execute_process``/``add_custom_command``/``add_custom_target``/``ExternalProject_Add``
  call, and what one of them does (a script it runs, pip, ``-m build``, git, wget …);
* :func:`recipe_uses`: the same for upstream's ``cmake_build`` script, line by line;
* :func:`why_not_reached`: why a command in a CMake file that was read is not reached,
  from the lines the walk ran (the ``if()`` that is false, the function never called …).
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tritonlock.upstream import cmake, shell
from tritonlock.upstream import commands as shcmd
from tritonlock.upstream.cmake.blocks import Block, Node

# -- scripts ------------------------------------------------------------------

_SEP = r"""["']?\s*,?\s*["']?"""  # between words of a command line or of an argv list
Patterns = tuple[tuple[str, re.Pattern[str]], ...]
_COMMON: Patterns = (
    ("pip", re.compile(rf"\bpip[0-9.]*{_SEP}(install|wheel|download)\b")),
    ("build", re.compile(rf"(^|[\s\"',\[])-m{_SEP}build([\s\"',\]]|$)")),
    (
        "setup.py",
        re.compile(rf"setup\.py{_SEP}(bdist_wheel|bdist_egg|install|develop|sdist|build)\b"),
    ),
    ("git", re.compile(rf"\bgit{_SEP}(clone|fetch|submodule|pull)\b")),
)
# A download: wget/curl where a command starts (shell), an argv or command string that
# starts with it (Python, Perl's system/qx/backticks), or an HTTP library.
_PATTERNS: dict[str, Patterns] = {
    "shell": (
        *_COMMON,
        ("download", re.compile(r"(^|[;&|(`{]|\$\(|\bthen\b|\bdo\b|\bsudo\b)\s*(wget|curl)(\s|$)")),
    ),
    "python": (
        *_COMMON,
        ("download", re.compile(r"""["'](wget|curl)(["'\s])""")),
        ("urllib", re.compile(r"\burllib2\b|\burlretrieve\(|\burlopen\(")),
        (
            "requests",
            re.compile(r"^\s*(import|from) requests\b|\brequests\.(get|post|head|request)\("),
        ),
    ),
    "perl": (
        *_COMMON,
        (
            "download",
            re.compile(
                r"""\b(system|exec|qx)\s*[({]?\s*["']?(wget|curl)\b|`\s*(wget|curl)\b"""
                r"|\bLWP::|\bHTTP::Tiny\b|\bNet::FTP\b"
            ),
        ),
    ),
}
_NO_ISOLATION = re.compile(r"--no-isolation|(^|[\s\"',\[])-n([\s\"',\]]|$)")


@dataclass(frozen=True, slots=True)
class Hit:
    """A line of a script that may fetch: its kind (see ``_PATTERNS``; ``build`` is an
    isolated ``-m build``, ``build-no-isolation`` one that installs nothing) and text."""

    line: int
    kind: str
    text: str


def language(path: str, text: str) -> str:
    """``python``, ``perl`` or ``shell``, by the file's extension or its ``#!`` line."""
    first = text.split("\n", 1)[0] if text.startswith("#!") else ""
    if path.endswith(".py") or "python" in first:
        return "python"
    if path.endswith(".pl") or "perl" in first:
        return "perl"
    return "shell"


def is_python(path: str, text: str) -> bool:
    return language(path, text) == "python"


def _code_lines(text: str, python: bool) -> dict[int, str]:
    """Line number → the line's code: comments dropped (and Perl's POD), and for Python
    the lines of bare string statements (docstrings) too."""
    lines = dict(enumerate(text.splitlines(), 1))
    if not python:
        pod = False
        out = {}
        for n, s in lines.items():
            if re.match(r"^=[a-z]", s):
                pod = not s.startswith("=cut")
            elif not pod and not s.lstrip().startswith("#"):
                out[n] = s
        return out
    try:
        tree = ast.parse(text)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, tokenize.TokenError, ValueError):
        return {n: s for n, s in lines.items() if not s.lstrip().startswith("#")}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for n in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                lines.pop(n, None)
    for tok in tokens:
        if tok.type == tokenize.COMMENT and tok.start[0] in lines:
            n, col = tok.start
            lines[n] = lines[n][:col]
    return lines


def script_hits(path: str, text: str) -> list[Hit]:
    """Every line of a script that may fetch, in line order (one hit per kind and line)."""
    lang = language(path, text)
    code = _code_lines(text, lang == "python")
    isolated = not _NO_ISOLATION.search("\n".join(code.values()))
    hits = []
    for n, line in sorted(code.items()):
        for kind, pattern in _PATTERNS[lang]:
            if pattern.search(line):
                if kind == "build" and not isolated:
                    kind = "build-no-isolation"
                hits.append(Hit(n, kind, " ".join(line.split())[:160]))
    return hits


_SCRIPT = re.compile(r"[\w./${}@+-]+\.(py|sh|bash|pl)$")
_RUNNER = re.compile(
    r"""(^|[\s"'\[(,])(python[0-9.]*|bash|sh|perl|source|exec)([\s"',\])]|$)"""
    r"|\bsys\.executable\b|^\s*\.{0,2}/"
)


def scripts_named(path: str, text: str) -> list[str]:
    """Scripts that a line of the script ``path`` runs: a Python or shell file named on a
    code line that also runs an interpreter (``python3 x.py``, ``["bash", "y.sh"]``), or
    starts with it (``./run.sh``); ``setup.py`` is a build of its own (a ``setup.py`` hit)."""
    out = []
    for line in _code_lines(text, is_python(path, text)).values():
        if not _RUNNER.search(line):
            continue
        for word in re.split(r"""[\s"'(),\[\]=]+""", line):
            base = word.rsplit("/", 1)[-1]
            if _SCRIPT.fullmatch(word) and "://" not in word and base != "setup.py":
                out.append(word)
    return list(dict.fromkeys(out))


def setup_requires(text: str) -> bool:
    """Whether a setup.py asks setuptools to fetch build requirements (``setup_requires``)."""
    return re.search(r"\bsetup_requires\b", text) is not None


# -- CMake commands -------------------------------------------------------------


def _keys(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EXEC_KEYS = _keys(
    "WORKING_DIRECTORY TIMEOUT RESULT_VARIABLE RESULTS_VARIABLE OUTPUT_VARIABLE "
    "ERROR_VARIABLE INPUT_FILE OUTPUT_FILE ERROR_FILE OUTPUT_QUIET ERROR_QUIET "
    "COMMAND_ECHO OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_STRIP_TRAILING_WHITESPACE "
    "ENCODING ECHO_OUTPUT_VARIABLE ECHO_ERROR_VARIABLE COMMAND_ERROR_IS_FATAL"
)
_CUSTOM_KEYS = _keys(
    "OUTPUT MAIN_DEPENDENCY DEPENDS BYPRODUCTS IMPLICIT_DEPENDS WORKING_DIRECTORY COMMENT "
    "DEPFILE JOB_POOL JOB_SERVER_AWARE VERBATIM APPEND USES_TERMINAL COMMAND_EXPAND_LISTS "
    "TARGET PRE_BUILD PRE_LINK POST_BUILD CODEGEN SOURCES ALL"
)
_EP_STEPS = _keys(
    "DOWNLOAD_COMMAND UPDATE_COMMAND PATCH_COMMAND CONFIGURE_COMMAND BUILD_COMMAND "
    "INSTALL_COMMAND TEST_COMMAND"
)
# Every keyword that ends a command of ExternalProject_Add / ExternalProject_Add_Step.
_EP_KEYS = (
    (cmake.KEYWORDS - {"COMMAND"} - _EP_STEPS)
    | {"DEPENDEES", "DEPENDERS", "ALWAYS", "EXCLUDE_FROM_MAIN", "WORKING_DIRECTORY", "COMMENT"}
    | {"LOG", "USES_TERMINAL", "INDEPENDENT", "BYPRODUCTS", "DEPENDS", "CMAKE_COMMAND"}
    | {"TEST_BEFORE_INSTALL", "TEST_AFTER_INSTALL", "TEST_EXCLUDE_FROM_MAIN", "STEP_TARGETS"}
)
RUNS = frozenset(
    {"execute_process", "add_custom_command", "add_custom_target"}
    | {"externalproject_add", "externalproject_add_step"}
)


def command_lists(name: str, words: Sequence[str]) -> list[list[str]]:
    """The argv of each command a reached CMake call runs (``words``: its expanded
    arguments). For ``add_custom_command`` ``ARGS`` continues the command before it."""
    lname = name.lower()
    out: list[list[str]] = []
    current: list[str] | None = None
    if lname == "add_custom_target" and words:  # NAME [ALL] [cmd args...] [COMMAND ...]
        rest = list(words[1:])
        current = []
        out.append(current)
        words = rest[1:] if rest[:1] == ["ALL"] else rest
    if lname.startswith("externalproject"):
        words = list(words[1:]) if lname == "externalproject_add" else list(words[2:])
        starts, ends = _EP_STEPS | {"COMMAND"}, _EP_KEYS
    elif lname == "execute_process":
        starts, ends = frozenset({"COMMAND"}), _EXEC_KEYS
    else:
        starts, ends = frozenset({"COMMAND"}), _CUSTOM_KEYS
    for w in words:
        if w in starts:
            current = []
            out.append(current)
        elif w == "ARGS" and lname == "add_custom_command" and out:
            current = out[-1]
        elif w in ends:
            current = None
        elif current is not None:
            current.append(w)
    return [c for c in out if c]


@dataclass(frozen=True, slots=True)
class Use:
    """What one command does that matters offline: ``kind`` is ``script`` (``path`` names
    it; ``cmake-script`` for ``cmake -P``; ``inline`` for ``python -c``, ``path`` is the
    code), ``pip``, ``build``, ``build-no-isolation``,
    ``download``, ``git`` or ``setup.py``; ``text`` is the command as written."""

    kind: str
    text: str
    path: str = ""
    url: str = ""
    ref: str | None = None


def _interpreter_flag(argv: Sequence[str]) -> tuple[str, str] | None:
    """``("-c", code)`` or ``("-m", module)`` when Python's own options (before any script)
    give one."""
    for i, w in enumerate(argv[1:-1], 1):
        if w in ("-c", "-m"):
            return w, argv[i + 1]
        if not w.startswith("-"):
            return None
    return None


def command_use(argv: Sequence[str]) -> list[Use]:
    """What ``argv`` (one command, as CMake or a shell runs it) does offline."""
    argv = list(shell.strip_prefix(tuple(argv)))
    text = " ".join(argv)
    if not argv:
        return []
    prog = os.path.basename(argv[0])
    python = re.search("python", prog, re.IGNORECASE) is not None  # ${Python3_EXECUTABLE} too
    if prog == "cmake" or prog.endswith("cmake") or "CMAKE_COMMAND" in prog:
        if "-P" in argv[:-1]:
            return [Use("cmake-script", text, path=argv[argv.index("-P") + 1])]
        return []
    flag = _interpreter_flag(argv) if python else None
    if flag is not None and flag[0] == "-c":
        return [Use("inline", text, path=flag[1])]
    if flag is not None:
        module = flag[1]
        if module == "pip":
            verb = next((w for w in argv[argv.index(module) + 1 :] if not w.startswith("-")), "")
            return [Use("pip", text)] if verb in ("install", "wheel", "download") else []
        if module == "build":
            isolated = not _NO_ISOLATION.search(" " + text + " ")
            return [Use("build" if isolated else "build-no-isolation", text)]
        return []
    if (
        (prog == "git" or "GIT_EXECUTABLE" in prog)
        and len(argv) > 1
        and argv[1] in ("clone", "fetch", "submodule", "pull")
    ):
        clone = shcmd.git_clone(shell.Command(tuple(argv)))
        if clone is not None:
            return [Use("git", text, url=clone[0], ref=clone[1])]
        return [Use("git", text)]
    if prog in ("wget", "curl"):
        return [Use("download", text)]
    if re.match(r"^pip[0-9.]*$", prog):
        verb = next((w for w in argv[1:] if not w.startswith("-")), "")
        return [Use("pip", text)] if verb in ("install", "wheel", "download") else []
    scripts = [w for w in argv[:3] if _SCRIPT.fullmatch(w)]
    runner = python or prog in ("sh", "bash", "perl") or "PERL" in prog
    if scripts and (runner or argv[0] == scripts[0]):
        if os.path.basename(scripts[0]) == "setup.py":
            return [Use("setup.py", text, path=scripts[0])]
        return [Use("script", text, path=scripts[0])]
    return []


# -- cmake_build ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecipeUse:
    """A command of ``cmake_build`` that matters offline, at its line: a :class:`Use`,
    and for a ``git clone`` whether it clones submodules too."""

    line: int
    use: Use
    recursive: bool = False


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    buf, start = "", 0
    for n, line in enumerate(text.splitlines(), 1):
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        yield start, buf + line
        buf = ""
    if buf:
        yield start, buf


def recipe_uses(script: str) -> list[RecipeUse]:
    """Every command of ``cmake_build`` that clones, installs, downloads or runs a script."""
    out = []
    for n, line in _logical_lines(script):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for cmd in shell.split(line):
            argv = shcmd.program(cmd)
            for use in command_use(argv):
                out.append(
                    RecipeUse(n, use, "--recursive" in argv or "--recurse-submodules" in argv)
                )
    return out


# -- why a command is not reached -------------------------------------------------


def _lines(nodes: Iterable[Node]) -> Iterable[int]:
    for node in nodes:
        if isinstance(node, Block):
            yield node.line
            yield from _lines(node.body)
            for _, body in node.branches:
                yield from _lines(body)
        else:
            yield node.line


def _chain(nodes: Sequence[Node], line: int) -> list[tuple[Block, int, Sequence[Node]]] | None:
    """The blocks around the command at ``line``, outermost first, each with the branch
    holding it and the body that holds the block; None when no command starts there."""
    for node in nodes:
        if not isinstance(node, Block):
            if node.line == line:
                return []
            continue
        bodies = (
            [(0, node.body)] if not node.branches else list(enumerate(b for _, b in node.branches))
        )
        for i, body in bodies:
            inner = _chain(body, line)
            if inner is not None:
                return [(node, i, nodes), *inner]
    return None


def _words(args: Iterable[cmake.Arg]) -> str:
    return " ".join(a.text if a.kind == "unquoted" else f'"{a.text}"' for a in args)


def _returns_before(body: Sequence[Node], line: int) -> int | None:
    for node in body:
        if node.line >= line:
            return None
        if not isinstance(node, Block) and node.name.lower() == "return":
            return node.line
    return None


def _branch_not_taken(block: Block, branch: int) -> str:
    head = f"if({_words(block.head.args)}) at line {block.line}"
    cond = block.branches[branch][0]
    if branch == 0:
        return f"{head} is false"
    if cond is None:
        return f"else() of {head}: an earlier branch is taken"
    return f"elseif({_words(cond)}) of {head} is false, or an earlier branch is taken"


def why_not_reached(nodes: Sequence[Node], line: int, ran: set[int]) -> str:
    """Why the command at ``line`` of a file (``nodes``: its blocks) did not run, given the
    lines that ran in it (block heads included) in every configuration."""
    chain = _chain(nodes, line)
    if chain is None:
        return "not reached"
    body: Sequence[Node] = nodes
    for block, branch, holder in chain:
        kind = block.head.name.lower()
        if block.line not in ran:
            at = _returns_before(holder, block.line)
            return f"after return() at line {at}" if at else "not reached"
        if kind in ("function", "macro"):
            name = block.head.args[0].text if block.head.args else "?"
            if not any(n in ran for n in _lines(block.body)):
                return f"{kind} {name}() (line {block.line}) is never called"
            body = block.body
        elif kind == "if":
            body = block.branches[branch][1]
            if not any(n in ran for n in _lines(body)):
                return _branch_not_taken(block, branch)
        elif kind in ("foreach", "while"):
            body = block.body
            if not any(n in ran for n in _lines(body)):
                return f"{kind}({_words(block.head.args)}) at line {block.line} runs no iteration"
        else:
            body = block.body
    at = _returns_before(body, line)
    return f"after return() at line {at}" if at else "not reached"
