"""Variable scopes and argument expansion (pure).

A :class:`Scope` knows a variable's value, or that its value is *unknown* (it was built
from variables that are not known: ``set(url https://h/v${version}/x)`` with no
``version`` makes ``url`` unknown, remembering ``version``; one set differently under an
``if()`` that cannot be decided is remembered as ``NAME?``). Expanding an unknown or
undefined variable never silently gives an empty string: the names go to ``missing``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .lexer import Arg

_VAR = re.compile(r"\$(ENV|CACHE)?\{([A-Za-z0-9_./+-]*)\}")


@dataclass
class Scope:
    """Variables with known values, and variables whose value is unknown (with the names
    of the unknowns they were built from)."""

    values: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Name prefixes of variables something unseen may have set (``find_package(Foo)``:
    # ``Foo_``, ``FOO_``).
    prefixes: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, values: Mapping[str, str], unknown: Iterable[str] = ()) -> Scope:
        scope = cls(dict(values))
        for name in unknown:
            scope.forget(name)
        return scope

    def copy(self) -> Scope:
        return Scope(dict(self.values), dict(self.unknown), set(self.prefixes))

    def defined(self, name: str) -> bool:
        return name in self.values or name in self.unknown

    def put(self, name: str, value: str, missing: Iterable[str] = ()) -> None:
        why = tuple(dict.fromkeys(missing))
        if why:
            self.values.pop(name, None)
            self.unknown[name] = why
        else:
            self.unknown.pop(name, None)
            self.values[name] = value

    def forget(self, name: str, because: Iterable[str] = ()) -> None:
        """``name`` is set, to a value this reader cannot know."""
        self.values.pop(name, None)
        self.unknown[name] = tuple(because) or (name,)

    def merge(self, outcomes: Iterable[Scope]) -> None:
        """Become what is known whichever of ``outcomes`` happens: a variable that differs
        between them (or is set in only some) is unknown, named ``NAME?``."""
        outs = list(outcomes)
        names = {n for o in outs for n in (*o.values, *o.unknown)}
        values: dict[str, str] = {}
        unknown: dict[str, tuple[str, ...]] = {}
        for name in sorted(names):
            seen = {o.values.get(name) for o in outs}
            if len(seen) == 1 and None not in seen:
                values[name] = seen.pop()  # type: ignore[assignment]
            elif any(name in o.unknown for o in outs):
                unknown[name] = tuple(
                    dict.fromkeys(m for o in outs for m in o.unknown.get(name, ()))
                )
            else:
                unknown[name] = (f"{name}?",)
        self.values.clear()
        self.values.update(values)
        self.unknown.clear()
        self.unknown.update(unknown)
        self.prefixes.update(p for o in outs for p in o.prefixes)

    def drop(self, name: str) -> None:
        self.values.pop(name, None)
        self.unknown.pop(name, None)


def expand(
    text: str,
    scope: Scope | Mapping[str, str],
    missing: list[str],
    empty: Callable[[str], bool] | None = None,
) -> str:
    """Expand ``${VAR}`` (nested, innermost first); unknown names go to ``missing``.
    With ``empty`` (conditions only), an environment variable, and a variable that is not
    defined and for which ``empty(name)`` holds, expand to nothing, as in CMake."""
    if not isinstance(scope, Scope):
        scope = Scope(dict(scope))
    known = scope

    def sub(m: re.Match[str]) -> str:
        kind, name = m.group(1), m.group(2)
        if kind != "ENV" and name in known.values:
            return known.values[name]
        if kind != "ENV" and name in known.unknown:
            missing.extend(known.unknown[name])
        elif empty is not None and (kind == "ENV" or empty(name)):
            return ""
        else:
            missing.append(f"$ENV{{{name}}}" if kind == "ENV" else name)
        return ""

    for _ in range(64):
        new = _VAR.sub(sub, text)
        if new == text:
            return new
        text = new
    return text


@dataclass(frozen=True, slots=True)
class Value:
    """One expanded argument: its text, whether it was quoted, the unknowns it met."""

    text: str
    quoted: bool = False
    missing: tuple[str, ...] = ()


def values(
    args: Iterable[Arg],
    scope: Scope | Mapping[str, str],
    empty: Callable[[str], bool] | None = None,
) -> list[Value]:
    """Expanded arguments; unquoted ones split into list elements as CMake does
    (``empty``: see :func:`expand`)."""
    out: list[Value] = []
    for a in args:
        missing: list[str] = []
        if a.kind == "bracket":
            out.append(Value(a.text, True))
        elif a.kind == "quoted":
            out.append(Value(expand(a.text, scope, missing, empty), True, tuple(missing)))
        else:
            value = expand(a.text, scope, missing, empty)
            parts = [v.replace("\\;", ";") for v in re.split(r"(?<!\\);", value) if v]
            out.extend(Value(v, False, tuple(missing)) for v in parts)
            if not parts and missing:
                out.append(Value("", False, tuple(missing)))
    return out


def items(value: str) -> list[str]:
    """A CMake list's elements as stored (``\\;`` kept), empty elements dropped."""
    return [v for v in re.split(r"(?<!\\);", value) if v]


def missing_of(vals: Iterable[Value]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for v in vals for m in v.missing))
