"""What upstream's CMake copies out of an image with ``docker cp`` (pure).

pytorch_backend's CMake builds against the libtorch of the pytorch image: one
``add_custom_command`` runs ``docker pull IMAGE``, ``docker create --name NAME IMAGE``,
``docker cp [-a] [-L] NAME:PATH DEST`` for each file or folder it needs (directly, and in
``/bin/sh -c`` scripts with ``for`` loops over a CMake list and ``if [ ${VAR} = 'ON' ]``
tests), then ``docker rm NAME``. :func:`image_copies` reads those commands where CMake
reaches them for the recipe's ``-D`` flags and the target's processor (with
:mod:`tritonlock.upstream.cmake`), and returns, per image, every path copied out of it.

tritonlock's build copies exactly those paths from the image pinned by digest and serves
them to the offline compile through a ``docker`` command of its own, which knows
``pull``, ``create``, ``cp`` and ``rm`` and nothing else (:mod:`tritonlock.emit.dockershim`);
any other docker command is an error here, so a lock never promises what the build cannot
serve. A copy that upstream lets fail (``docker cp … || true``) is listed like any other:
the build copies it, and an image without that path stops the build there.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import ResolveError
from . import shell
from .cmake import Command, Scope, Value, configure, values

__all__ = ["BUILD_HOST_FILES", "PATH", "ImageCopies", "image_copies"]

# Every target tritonlock knows builds in upstream's Ubuntu-based build image (build.py's
# RHEL recipe is not one of them): what its CMake may read of that machine.
BUILD_HOST_FILES = {
    "/etc/os-release": 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
}
# A path in an image, as the lock records it and a Dockerfile COPY names it.
PATH = re.compile(r"^(/[A-Za-z0-9_+@=-][A-Za-z0-9._+@=-]*)+$")
_RUNNERS = frozenset({"add_custom_command", "add_custom_target", "execute_process"})
_KEYWORDS = frozenset(
    {"OUTPUT", "COMMAND", "MAIN_DEPENDENCY", "DEPENDS", "BYPRODUCTS", "IMPLICIT_DEPENDS"}
    | {"WORKING_DIRECTORY", "COMMENT", "DEPFILE", "JOB_POOL", "JOB_SERVER_AWARE", "VERBATIM"}
    | {"APPEND", "USES_TERMINAL", "COMMAND_EXPAND_LISTS", "DEPENDS_EXPLICIT_ONLY", "CODEGEN"}
    | {"SOURCES", "TARGET", "PRE_BUILD", "PRE_LINK", "POST_BUILD", "ALL", "TIMEOUT"}
    | {"RESULT_VARIABLE", "RESULTS_VARIABLE", "OUTPUT_VARIABLE", "ERROR_VARIABLE"}
    | {"INPUT_FILE", "OUTPUT_FILE", "ERROR_FILE", "OUTPUT_QUIET", "ERROR_QUIET"}
    | {"COMMAND_ECHO", "OUTPUT_STRIP_TRAILING_WHITESPACE", "ERROR_STRIP_TRAILING_WHITESPACE"}
    | {"ENCODING", "ECHO_OUTPUT_VARIABLE", "ECHO_ERROR_VARIABLE", "COMMAND_ERROR_IS_FATAL"}
)
_OPERATORS = frozenset({"||", "&&", ";", "|"})
_SHELLS = frozenset({"sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash"})
# docker verb -> (options taking a value, options without one)
_VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "pull": (frozenset(), frozenset({"-q", "--quiet"})),
    "create": (frozenset({"--name"}), frozenset()),
    "rm": (frozenset(), frozenset({"-f", "--force", "-v", "--volumes"})),
    "cp": (frozenset(), frozenset({"-a", "--archive", "-L", "--follow-link", "-q", "--quiet"})),
}


@dataclass(frozen=True, slots=True)
class ImageCopies:
    """The paths one image is copied out of by, and where those commands are."""

    image: str
    paths: tuple[str, ...]
    found_in: tuple[str, ...]


@dataclass
class _Found:
    repo: str
    containers: dict[str, str] = field(default_factory=dict)  # docker create name -> image
    paths: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # image -> path -> where
    errors: list[str] = field(default_factory=list)


def image_copies(
    repo: str,
    files: Mapping[str, str],
    variables: Mapping[str, str],
    *,
    unknown: Iterable[str] = (),
    platform: Mapping[str, str] | None = None,
) -> tuple[ImageCopies, ...]:
    """Per image, the paths ``repo``'s CMake (``files``: path -> text) copies out of it
    with ``docker cp`` when configured with ``variables`` (``-D``; ``unknown``: defined
    with a value not known here) on a machine CMake sees as ``platform``. ResolveError
    names the first docker command tritonlock cannot read or serve."""
    found = _Found(repo)

    def observe(path: str, cmd: Command, scope: Scope) -> None:
        if cmd.name.lower() in _RUNNERS and not found.errors:
            _runner(f"{repo}:{path}:{cmd.line}", cmd, scope, found)

    project = configure(
        files,
        {**(platform or {}), **variables},
        unknown=unknown,
        observe=observe,
        host_files=BUILD_HOST_FILES,
    )
    problems = [p for p in project.problems if "cannot read CMake" in p]
    if problems:
        raise ResolveError(f"{repo}:{problems[0]}")
    if found.errors:
        raise ResolveError(found.errors[0])
    return tuple(
        ImageCopies(
            image=image,
            paths=tuple(sorted(paths)),
            found_in=tuple(sorted({w for where in paths.values() for w in where})),
        )
        for image, paths in sorted(found.paths.items())
    )


def _runner(where: str, cmd: Command, scope: Scope, found: _Found) -> None:
    vals = values(cmd.args, scope)
    if cmd.name.lower() == "add_custom_target":
        vals = _implicit_command(vals)
    for words in _groups(vals):
        if not any("docker" in w.text for w in words):
            continue
        docker = [
            (argv, conditions)
            for argv, conditions in _simple_commands(_line(words))
            if posixpath.basename(argv[0]) == "docker"
        ]
        unserved = [argv for argv, _ in docker if argv[1:2] and argv[1] not in _VERBS]
        missing = sorted({m.rstrip("?") for w in words for m in w.missing})
        if unserved:
            found.errors.append(
                f"{where}: `docker {unserved[0][1]}` is not served in tritonlock's offline "
                "build (its docker knows pull, create, cp and rm of a pinned image)"
            )
        elif missing:
            found.errors.append(
                f"{where}: a docker command uses {', '.join(missing)}, whose value is not "
                "known for this build"
            )
        for argv, conditions in docker:
            if found.errors:
                return
            _docker(where, argv, conditions, found)


def _implicit_command(vals: list[Value]) -> list[Value]:
    """``add_custom_target(NAME [ALL] [cmd args…] [COMMAND …])``: its first command may
    come without the COMMAND keyword."""
    rest = vals[1:]
    if rest[:1] and not rest[0].quoted and rest[0].text == "ALL":
        rest = rest[1:]
    if rest[:1] and (rest[0].quoted or rest[0].text not in _KEYWORDS):
        return [Value("COMMAND"), *rest]
    return rest


def _groups(vals: list[Value]) -> list[list[Value]]:
    """The words of each ``COMMAND`` of a command's expanded arguments."""
    groups: list[list[Value]] = []
    current: list[Value] | None = None
    for v in vals:
        if not v.quoted and v.text in _KEYWORDS:
            current = [] if v.text == "COMMAND" else None
            if current is not None:
                groups.append(current)
        elif current is not None:
            current.append(v)
    return groups


def _line(words: list[Value]) -> str:
    """The shell line a Makefile runs for one COMMAND: each argument quoted, shell
    operators given as separate arguments left as operators (as CMake leaves them)."""
    return " ".join(
        w.text if not w.quoted and w.text in _OPERATORS else shlex.quote(w.text) for w in words
    )


def _simple_commands(line: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(argv, conditions) of each simple command of ``line``, into ``sh -c`` scripts."""
    out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for c in shell.split(line):
        argv = shell.strip_prefix(c.argv)
        if len(argv) == 3 and argv[0] in _SHELLS and argv[1] == "-c":
            out += [(a, c.conditions + inner) for a, inner in _simple_commands(argv[2])]
        elif argv:
            out.append((argv, c.conditions))
    return out


def decide(condition: str) -> bool | None:
    """A shell ``if`` condition as :func:`tritonlock.upstream.shell.split` records it
    (``[ ON = ON ]``, ``! [ OFF = ON ]``, several joined by `` && ``): True, False, or None
    when it is not a comparison of literal words."""
    results = [shell.truth(part) for part in condition.split(" && ")]
    if False in results:
        return False
    return None if None in results else True


def _docker(where: str, argv: tuple[str, ...], conditions: tuple[str, ...], found: _Found) -> None:
    verb = argv[1] if len(argv) > 1 else ""
    if verb not in _VERBS:
        found.errors.append(
            f"{where}: `docker {verb}` is not served in tritonlock's offline build "
            "(its docker knows pull, create, cp and rm of a pinned image)"
        )
        return
    for condition in conditions:
        taken = decide(condition)
        if taken is None:
            found.errors.append(f"{where}: cannot decide `{condition}` for `{shlex.join(argv)}`")
            return
        if not taken:
            return
    try:
        named, positional = _options(argv[2:], *_VERBS[verb])
    except ValueError as err:
        found.errors.append(f"{where}: `{shlex.join(argv)}`: {err}")
        return
    if verb == "create" and positional and "--name" in named:
        found.containers[named["--name"]] = positional[0]
    elif verb == "cp":
        _copy(where, argv, positional, found)


def _options(
    args: tuple[str, ...], valued: frozenset[str], flags: frozenset[str]
) -> tuple[dict[str, str], list[str]]:
    named: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if positional or not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        key, eq, value = arg.partition("=")
        if key in valued:
            if not eq:
                if i >= len(args):
                    raise ValueError(f"{key} needs a value")
                value, i = args[i], i + 1
            named[key] = value
        elif arg in flags or (arg[1:2] != "-" and all(f"-{c}" in flags for c in arg[1:])):
            named[arg] = ""
        else:
            raise ValueError(f"option {arg} is not served in tritonlock's offline build")
    return named, positional


def _copy(where: str, argv: tuple[str, ...], positional: list[str], found: _Found) -> None:
    if len(positional) != 2 or ":" not in positional[0]:
        found.errors.append(f"{where}: `{shlex.join(argv)}`: expected CONTAINER:PATH DEST")
        return
    name, _, path = positional[0].partition(":")
    image = found.containers.get(name)
    if image is None:
        found.errors.append(f"{where}: `{shlex.join(argv)}`: no `docker create` made {name!r}")
        return
    clean = _image_path(path)
    if clean is None:
        found.errors.append(
            f"{where}: `{shlex.join(argv)}`: {path!r} is not an absolute path tritonlock can copy"
        )
        return
    found.paths.setdefault(image, {}).setdefault(clean, set()).add(where)


def _image_path(path: str) -> str | None:
    """``path`` as a COPY names it (``DIR/.``, docker's "the folder's content", is DIR);
    None for a relative path, ``..``, or a character outside :data:`PATH`."""
    if not path.startswith("/") or ".." in path.split("/"):
        return None
    clean = posixpath.normpath(path)
    clean = "/" + clean.lstrip("/")
    return clean if PATH.match(clean) else None
