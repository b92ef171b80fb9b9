"""Recognise the commands of a recipe that fetch something: pip, apt/yum/dnf, wget/curl,
git clone, apt repositories and CMake ``-D`` definitions (pure, over argv tuples).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..util.redact import without_userinfo
from .shell import Command, strip_prefix

_PIP = re.compile(r"^pip[0-9.]*$")
_PYTHON = re.compile(r"^python[0-9.]*$")
_URL = re.compile(r"^(https?|ftp)://\S+$")
_URL_VAR = re.compile(r"^\$\{?[A-Za-z_]*URL\}?$")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PIP_VALUE = _words(
    "-r --requirement -c --constraint -i --index-url --extra-index-url -f --find-links "
    "-t --target --prefix --root --platform --python-version --implementation --abi "
    "--progress-bar --cache-dir --src -e --editable --trusted-host --upgrade-strategy "
    "--log --proxy --retries --timeout --exists-action --cert --client-cert "
    "--global-option --config-settings -C --report --only-binary --no-binary"
)
_PIP_INDEX = _words("-i --index-url --extra-index-url -f --find-links --trusted-host")
_PIP_NOISE = _words(
    "--no-cache-dir --progress-bar --cache-dir -q --quiet -v --verbose --log --retries "
    "--timeout --disable-pip-version-check --no-color --root-user-action"
)
_APT_VALUE = _words("-o -t -c --target-release --option --config-file")
_GIT_VALUE = _words(
    "-b --branch --depth -o --origin -c --config --reference --filter -j --jobs "
    "--template --separate-git-dir --shallow-since --shallow-exclude -u --upload-pack"
)
_XARGS_VALUE = _words("-I -n -P -L -d -a -E -s --max-args --max-procs --delimiter")


@dataclass(frozen=True, slots=True)
class Pip:
    requirements: tuple[str, ...]
    requirement_files: tuple[str, ...]
    constraint_files: tuple[str, ...]
    index_options: tuple[str, ...]
    options: tuple[str, ...]


def _xargs(cmd: Command) -> tuple[str, ...]:
    """The command ``xargs`` runs, with ``-I R`` replaced by the piped ``find`` pattern."""
    args = list(cmd.argv[1:])
    replace_str = None
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in _XARGS_VALUE and args:
            value = args.pop(0)
            replace_str = value if opt == "-I" else replace_str
    source = _find_pattern(cmd.piped_from)
    if replace_str and source:
        args = [a.replace(replace_str, source) for a in args]
    return tuple(args)


def _find_pattern(argv: tuple[str, ...]) -> str | None:
    if not argv or argv[0] != "find" or "-name" not in argv[:-1]:
        return None
    root = argv[1] if len(argv) > 1 and not argv[1].startswith("-") else "."
    return f"{root.rstrip('/')}/{argv[argv.index('-name') + 1]}"


def program(cmd: Command) -> tuple[str, ...]:
    """The argv that really runs (prefix assignments, sudo/env and xargs removed)."""
    argv = strip_prefix(cmd.argv)
    if argv and argv[0] == "xargs":
        argv = strip_prefix(_xargs(Command(argv, cmd.conditions, cmd.piped_from)))
    return argv


def _pip_args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    if not argv:
        return None
    name = os.path.basename(argv[0])
    if _PIP.match(name):
        rest = argv[1:]
    elif _PYTHON.match(name) and "-m" in argv and argv.index("-m") + 1 < len(argv):
        i = argv.index("-m")
        rest = argv[i + 2 :] if argv[i + 1] == "pip" else ()
    else:
        return None
    return rest[1:] if rest and rest[0] == "install" else None


def pip(cmd: Command) -> Pip | None:
    """A ``pip install``'s requirements and options, or None for any other command."""
    args = _pip_args(program(cmd))
    if args is None:
        return None
    reqs: list[str] = []
    sections: dict[str, list[str]] = {"req": [], "con": [], "index": [], "opt": []}
    it = iter(args)
    for arg in it:
        if not arg.startswith("-"):
            reqs.append(without_userinfo(arg))
            continue
        opt, eq, value = arg.partition("=")
        if not eq and opt in _PIP_VALUE:
            value = next(it, "")
        _pip_option(opt, value, sections)
    return Pip(
        tuple(reqs),
        tuple(sections["req"]),
        tuple(sections["con"]),
        tuple(sections["index"]),
        tuple(sections["opt"]),
    )


def _pip_option(opt: str, value: str, sections: dict[str, list[str]]) -> None:
    long = {"-r": "--requirement", "-c": "--constraint", "-i": "--index-url"}.get(opt, opt)
    long = {"-f": "--find-links", "-t": "--target", "-e": "--editable", "-U": "--upgrade"}.get(
        long, long
    )
    if long == "--requirement":
        sections["req"].append(value)
    elif long == "--constraint":
        sections["con"].append(value)
    elif long in _PIP_INDEX or long == "--no-index":
        sections["index"].append(without_userinfo(f"{long}={value}" if value else long))
    elif long not in _PIP_NOISE:
        sections["opt"].append(without_userinfo(f"{long}={value}" if value else long))


def packages(cmd: Command) -> tuple[str, tuple[tuple[str, str | None], ...]] | None:
    """(manager, ((name, version-or-None), ...)) of an apt/yum/dnf install."""
    argv = program(cmd)
    if not argv or os.path.basename(argv[0]) not in (
        "apt-get",
        "apt",
        "aptitude",
        "yum",
        "dnf",
        "microdnf",
    ):
        return None
    if "install" not in argv:
        return None
    manager = {"apt-get": "apt", "aptitude": "apt"}.get(os.path.basename(argv[0]), argv[0])
    manager = os.path.basename(manager)
    out: list[tuple[str, str | None]] = []
    args = iter(argv[argv.index("install") + 1 :])
    for arg in args:
        if arg in _APT_VALUE:
            next(args, None)
        elif arg.startswith("-") or "/" in arg or arg.endswith((".deb", ".rpm")) or not arg:
            continue
        else:
            out.append(_package(manager, arg))
    return manager, tuple(out)


def _package(manager: str, arg: str) -> tuple[str, str | None]:
    if manager == "apt" and "=" in arg:
        name, _, version = arg.partition("=")
        return name, version
    return arg, None


def urls(cmd: Command) -> tuple[str, ...]:
    """URLs a ``wget``/``curl``/``ADD`` fetches (literal URLs and ``$…URL`` variables)."""
    argv = program(cmd)
    if not argv or os.path.basename(argv[0]) not in ("wget", "curl"):
        return ()
    return tuple(without_userinfo(a) for a in argv[1:] if _URL.match(a) or _URL_VAR.match(a))


def repositories(cmd: Command) -> tuple[str, ...]:
    """Package repositories a command adds (``deb …`` lines, add-apt-repository,
    ``--add-repo``) or that a downloaded ``cuda-keyring`` package configures."""
    argv = program(cmd)
    if not argv:
        return ()
    prog = os.path.basename(argv[0])
    if prog in ("echo", "printf"):
        return tuple(
            " ".join(without_userinfo(a).split())
            for a in argv[1:]
            if a.startswith(("deb ", "deb-src "))
        )
    if prog == "add-apt-repository":
        return tuple(without_userinfo(a) for a in argv[1:] if not a.startswith("-"))
    if "--add-repo" in argv[:-1]:
        return (without_userinfo(argv[argv.index("--add-repo") + 1]),)
    keyrings = [u for u in urls(cmd) if re.search(r"/cuda-keyring_[^/]*\.deb$", u)]
    return tuple(f"deb {u.rsplit('/', 1)[0]}/ /" for u in keyrings)


def git_clone(cmd: Command) -> tuple[str, str | None] | None:
    """(url, branch-or-None) of a ``git clone``."""
    argv = program(cmd)
    if len(argv) < 3 or os.path.basename(argv[0]) != "git" or argv[1] != "clone":
        return None
    branch, positional = None, []
    args = iter(argv[2:])
    for arg in args:
        opt, eq, value = arg.partition("=")
        if arg.startswith("-") and not eq and opt in _GIT_VALUE:
            value = next(args, "")
        if opt in ("-b", "--branch"):
            branch = value
        elif not arg.startswith("-"):
            positional.append(arg)
    return (without_userinfo(positional[0]), branch) if positional else None


def cmake_defines(cmd: Command) -> dict[str, str]:
    """``-DNAME[:TYPE]=VALUE`` definitions of a ``cmake`` configure command."""
    argv = program(cmd)
    if not argv or os.path.basename(argv[0]) != "cmake":
        return {}
    out = {}
    for arg in argv[1:]:
        if arg.startswith("-D") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            out[name.split(":", 1)[0]] = value
    return out


_MAKE_VALUE = _words("-C --directory -f --file --makefile -I --include-dir -o -W")
_BUILD_VALUE = _words("--config --preset")
_COUNT = _words("-j --jobs --parallel -l --load-average")  # an optional number follows


def build_targets(cmd: Command) -> tuple[str, ...]:
    """The targets a ``cmake --build DIR [-t|--target NAME...]`` or ``make [NAME...]``
    command builds by name (none: only ALL is built)."""
    argv = program(cmd)
    if not argv:
        return ()
    tool = os.path.basename(argv[0])
    if tool == "cmake" and "--build" in argv:
        return _cmake_build_targets(argv[argv.index("--build") + 2 :])
    if tool in ("make", "gmake", "ninja"):
        return _make_targets(argv[1:])
    return ()


def _cmake_build_targets(args: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    on = False
    skip = ""
    for arg in args:
        if _skipped(skip, arg):
            skip = ""
        elif arg == "--":
            break
        elif arg in ("-t", "--target"):
            on = True
        elif arg.startswith("--target="):
            out.extend(arg.partition("=")[2].split(","))
            on = False
        elif arg.startswith("-"):
            on = False
            skip = arg if arg in _BUILD_VALUE | _COUNT else ""
        elif on:
            out.append(arg)
    return tuple(t for t in out if t)


def _make_targets(args: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    skip = ""
    for arg in args:
        if _skipped(skip, arg):
            skip = ""
        elif arg.startswith("-"):
            skip = arg if arg in _MAKE_VALUE | _COUNT else ""
        elif "=" not in arg:
            out.append(arg)
    return tuple(out)


def _skipped(option: str, arg: str) -> bool:
    """Whether ``arg`` is the value of the ``option`` before it."""
    if not option:
        return False
    if option in _COUNT:
        return arg.isdigit() or arg.startswith("$")
    return True
