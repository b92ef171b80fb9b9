"""Commands that write variables: computed where this reader can, else made unknown
(pure). ``set``/``unset``/``option``/``cmake_dependent_option``, ``list``, ``string``,
``cmake_parse_arguments``; ``math``, ``execute_process``, ``file(READ ...)``, ``find_*``,
``get_*`` only make their outputs unknown."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .conditions import condition_values, evaluate
from .lexer import Command, commands
from .values import Scope, Value, items, missing_of, values

__all__ = ["COMMANDS", "Value", "apply", "default", "file_outputs", "items"]

_FIND = frozenset({"find_program", "find_library", "find_path", "find_file"})
_GET = frozenset(
    {"get_filename_component", "get_property", "get_target_property", "get_cmake_property"}
    | {"get_directory_property", "get_source_file_property", "cmake_path", "site_name"}
)
_RESULT_ANYWHERE = frozenset({"processorcount", "cmake_host_system_information"})
COMMANDS = frozenset(
    {"set", "unset", "option", "cmake_dependent_option", "list", "string", "math"}
    | {"cmake_parse_arguments", "execute_process", "fetchcontent_getproperties"}
    | {"externalproject_get_property", "cmake_policy", "try_compile", "try_run"}
    | {"pkg_check_modules", "pkg_search_module", "processorcount"}
    | {"cmake_host_system_information"}
    | _FIND
    | _GET
)


def default(scope: Scope, name: str, value: str, missing: tuple[str, ...] = ()) -> None:
    """``name`` = ``value`` unless already defined (a cache default, an option)."""
    if not scope.defined(name):
        scope.put(name, value, missing)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def apply(cmd: Command, scope: Scope, parent: Scope | None) -> None:
    lname = cmd.name.lower()
    vals = values(cmd.args, scope)
    if not vals:
        return
    if lname.startswith("check_") or lname in _RESULT_ANYWHERE:
        # check_include_file(h VAR), check_cxx_source_compiles(src VAR), ProcessorCount(N)…
        # write a result this reader does not compute.
        for v in vals[0 if lname in _RESULT_ANYWHERE else 1 :]:
            if _IDENT.match(v.text):
                scope.forget(v.text)
    elif lname in ("pkg_check_modules", "pkg_search_module"):
        scope.prefixes.add(f"{vals[0].text}_")
    elif lname == "set":
        _set(vals, scope, parent)
    elif lname == "unset":
        scope.drop(vals[0].text)
    elif lname == "option":
        rest = vals[1:]
        default(
            scope, vals[0].text, rest[1].text if len(rest) > 1 else "OFF", missing_of(rest[1:2])
        )
    elif lname == "cmake_dependent_option":
        _dependent(vals, scope)
    elif lname == "list":
        _list([v.text for v in vals], scope)
    elif lname == "string":
        _string(vals, scope)
    elif lname == "cmake_parse_arguments":
        _parse_arguments([v.text for v in vals], scope)
    elif lname == "execute_process":
        words = [v.text for v in vals]
        for i, w in enumerate(words[:-1]):
            if w in ("OUTPUT_VARIABLE", "RESULT_VARIABLE", "ERROR_VARIABLE", "RESULTS_VARIABLE"):
                scope.forget(words[i + 1])
    elif lname == "fetchcontent_getproperties":
        low = vals[0].text.lower()
        for suffix in ("_POPULATED", "_SOURCE_DIR", "_BINARY_DIR"):
            scope.forget(low + suffix)
    elif lname == "externalproject_get_property":
        for v in vals[1:]:
            scope.forget(v.text)
    elif lname == "cmake_policy" and vals[0].text == "GET" and len(vals) > 2:
        scope.forget(vals[2].text)
    elif lname in ("try_compile", "try_run"):
        scope.forget(vals[0].text)
    elif lname == "math" and len(vals) > 1:
        scope.forget(vals[1].text)
    elif lname in _FIND or lname in _GET:
        scope.forget(vals[0].text)


def _set(vals: list[Value], scope: Scope, parent: Scope | None) -> None:
    name, rest = vals[0].text, vals[1:]
    words = [v.text for v in rest]
    if name.startswith("ENV{"):
        return
    if "PARENT_SCOPE" in words and words[-1] == "PARENT_SCOPE":
        target = parent
        rest = rest[:-1]
        if target is None:
            return
        if rest:
            target.put(name, ";".join(v.text for v in rest), missing_of(rest))
        else:
            target.drop(name)
        return
    if "CACHE" in words:
        i = words.index("CACHE")
        value = ";".join(v.text for v in rest[:i])
        if "FORCE" in words[i:]:
            scope.put(name, value, missing_of(rest[:i]))
        else:
            default(scope, name, value, missing_of(rest[:i]))
    elif rest:
        scope.put(name, ";".join(v.text for v in rest), missing_of(rest))
    else:
        scope.drop(name)


def _dependent(vals: list[Value], scope: Scope) -> None:
    if len(vals) < 5 or scope.defined(vals[0].text):
        return
    name, value, depends, force = vals[0].text, vals[2], vals[3], vals[4]
    results = []
    for cond in items(depends.text):
        args = tuple(a for c in commands(f"if({cond})") for a in c.args)
        results.append(evaluate(condition_values(args, scope), scope))
    if depends.missing or None in results:
        scope.forget(name)
    elif all(results):
        scope.put(name, value.text, value.missing)
    else:
        scope.put(name, force.text, force.missing)


_LIST_INPLACE = frozenset(
    {"INSERT", "REMOVE_ITEM", "REMOVE_AT", "REMOVE_DUPLICATES", "REVERSE", "SORT", "FILTER"}
)


def _list(words: list[str], scope: Scope) -> None:
    """``list(...)``; a form not evaluated makes its outputs unknown."""
    if len(words) < 2:
        return
    sub, var, rest = words[0].upper(), words[1], words[2:]
    if sub in ("APPEND", "PREPEND"):
        if var in scope.unknown:
            return
        old = items(scope.values.get(var, ""))
        scope.put(var, ";".join([*old, *rest] if sub == "APPEND" else [*rest, *old]))
    elif sub in ("GET", "LENGTH") and rest:
        out = rest[-1]
        if var not in scope.values:
            scope.forget(out)
        elif sub == "LENGTH":
            scope.put(out, str(len(items(scope.values[var]))))
        else:
            got = _get(items(scope.values[var]), rest[:-1])
            if got is None:
                scope.forget(out)
            else:
                scope.put(out, ";".join(got))
    elif sub in _LIST_INPLACE or (sub == "TRANSFORM" and "OUTPUT_VARIABLE" not in rest):
        scope.forget(var)
    elif sub == "TRANSFORM":
        i = rest.index("OUTPUT_VARIABLE")
        if i + 1 < len(rest):
            scope.forget(rest[i + 1])
    elif sub in ("POP_BACK", "POP_FRONT"):
        for name in (var, *rest):
            scope.forget(name)
    elif rest:  # FIND, JOIN, SUBLIST: the output is the last argument
        scope.forget(rest[-1])


def _get(elements: list[str], indices: list[str]) -> list[str] | None:
    """``elements`` at ``indices`` (negative counts from the end); None when any is invalid."""
    out: list[str] = []
    for text in indices:
        if not re.fullmatch(r"-?[0-9]+", text):
            return None
        i = int(text)
        if not -len(elements) <= i < len(elements):
            return None
        out.append(elements[i])
    return out


def _string(vals: list[Value], scope: Scope) -> None:
    words = [v.text for v in vals]
    sub = words[0].upper()
    if sub in ("TOLOWER", "TOUPPER", "STRIP") and len(vals) >= 3:
        src = vals[1]
        text = src.text.lower() if sub == "TOLOWER" else src.text.upper()
        scope.put(words[2], src.text.strip() if sub == "STRIP" else text, src.missing)
    elif sub == "REPLACE" and len(vals) >= 4:
        parts = vals[4:]
        text = "".join(v.text for v in parts).replace(words[1], words[2]) if words[1] else ""
        scope.put(words[3], text, missing_of(vals[1:3] + parts))
    elif sub in ("APPEND", "PREPEND") and len(vals) >= 2:
        name = words[1]
        extra = "".join(words[2:])
        old = scope.values.get(name, "")
        why = (*scope.unknown.get(name, ()), *missing_of(vals[2:]))
        scope.put(name, old + extra if sub == "APPEND" else extra + old, why)
    elif sub == "CONCAT" and len(vals) >= 2:
        scope.put(words[1], "".join(words[2:]), missing_of(vals[2:]))
    elif sub == "REGEX" and len(words) >= 4:
        scope.forget(words[3])
    elif sub in ("JOIN",) and len(vals) >= 3:
        scope.put(words[2], words[1].join(words[3:]), missing_of(vals[3:]))
    elif sub in (
        "LENGTH",
        "TIMESTAMP",
        "MD5",
        "SHA1",
        "SHA256",
        "RANDOM",
        "UUID",
        "MAKE_C_IDENTIFIER",
    ):
        scope.forget(words[-1] if sub in ("LENGTH", "MD5", "SHA1", "SHA256") else words[1])
    elif sub in ("SUBSTRING", "FIND", "COMPARE", "ASCII", "CONFIGURE", "GENEX_STRIP", "REPEAT"):
        scope.forget(words[-1] if sub != "CONFIGURE" else words[2] if len(words) > 2 else words[0])
    elif sub == "JSON" and len(words) >= 2:
        scope.forget(words[1])


def _parse_arguments(words: list[str], scope: Scope) -> None:
    """``cmake_parse_arguments(PREFIX OPTIONS ONE MULTI ARGS...)`` and ``PARSE_ARGV N``."""
    if words[:1] == ["PARSE_ARGV"] and len(words) >= 5:
        start = int(words[1]) if words[1].isdigit() else 0
        count = int(scope.values.get("ARGC", "0") or 0)
        args = [scope.values.get(f"ARGV{i}", "") for i in range(start, count)]
        words = words[2:5]
    elif len(words) >= 4:
        args = words[4:]
        words = words[:4]
    else:
        return
    prefix, options, one, multi = words[0], *(items(w) for w in words[1:4])
    found: dict[str, list[str]] = {}
    current: str | None = None
    unparsed: list[str] = []
    for a in args:
        if a in options:
            found[a] = ["TRUE"]
            current = None
        elif a in one or a in multi:
            found[a] = []
            current = a
        elif current is not None:
            found[current].append(a)
            if current in one:
                current = None
        else:
            unparsed.append(a)
    for o in options:
        scope.put(f"{prefix}_{o}", "TRUE" if o in found else "FALSE")
    for k in (*one, *multi):
        if found.get(k):
            scope.put(f"{prefix}_{k}", ";".join(found[k]))
        else:
            scope.drop(f"{prefix}_{k}")
    if unparsed:
        scope.put(f"{prefix}_UNPARSED_ARGUMENTS", ";".join(unparsed))
    else:
        scope.drop(f"{prefix}_UNPARSED_ARGUMENTS")


_OUT_AFTER_FILE = frozenset({"READ", "STRINGS", "SHA256", "SHA1", "MD5", "TIMESTAMP", "SIZE"})
_OUT_FIRST = frozenset({"GLOB", "GLOB_RECURSE", "RELATIVE_PATH"})


def file_outputs(cmd: Command, scope: Scope, host: Mapping[str, str] | None = None) -> None:
    """The variables a ``file()`` form writes become unknown, except what
    ``file(STRINGS)`` reads from a file of ``host`` (path -> text: a file of the build
    machine whose content is known)."""
    words = [v.text for v in values(cmd.args, scope)]
    if len(words) < 2:
        return
    sub = words[0].upper()
    if sub == "STRINGS" and len(words) > 2 and words[1] in (host or {}):
        _strings(words[2], (host or {})[words[1]], words[3:], scope)
    elif sub in _OUT_AFTER_FILE and len(words) > 2:
        scope.forget(words[2])
    elif sub in _OUT_FIRST or sub in ("TO_CMAKE_PATH", "TO_NATIVE_PATH", "REAL_PATH"):
        scope.forget(words[1] if sub in _OUT_FIRST else words[2] if len(words) > 2 else words[1])


def _strings(var: str, text: str, options: list[str], scope: Scope) -> None:
    """``file(STRINGS <file> <var> [REGEX <regex>])`` of a known file: its lines (matching
    the regex) as a list; any other option, or a regex Python reads otherwise, is unknown."""
    lines = [line for line in text.splitlines() if line]
    if options[:1] == ["REGEX"] and len(options) == 2:
        try:
            pattern = re.compile(options[1])
        except re.error:
            scope.forget(var)
            return
        lines = [line for line in lines if pattern.search(line)]
    elif options:
        scope.forget(var)
        return
    scope.put(var, ";".join(line.replace(";", "\\;") for line in lines))
