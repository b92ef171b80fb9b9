"""The downloads one command declares: ``ExternalProject_Add`` / ``FetchContent_Declare``
with ``GIT_REPOSITORY`` or ``URL``, and ``file(DOWNLOAD ...)`` (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexer import Command
from .values import Scope, Value, missing_of, values

KEYWORDS = frozenset(
    {"GIT_REPOSITORY", "GIT_TAG", "GIT_SHALLOW", "GIT_PROGRESS", "GIT_SUBMODULES"}
    | {"GIT_SUBMODULES_RECURSE", "GIT_REMOTE_NAME", "GIT_CONFIG", "GIT_REMOTE_UPDATE_STRATEGY"}
    | {"URL", "URL_HASH", "URL_MD5", "DOWNLOAD_NAME", "DOWNLOAD_NO_EXTRACT", "DOWNLOAD_COMMAND"}
    | {"DOWNLOAD_DIR", "PREFIX", "SOURCE_DIR", "BINARY_DIR", "SOURCE_SUBDIR", "EXCLUDE_FROM_ALL"}
    | {"CMAKE_ARGS", "CMAKE_CACHE_ARGS", "CMAKE_CACHE_DEFAULT_ARGS", "PATCH_COMMAND"}
    | {"UPDATE_COMMAND", "CONFIGURE_COMMAND", "BUILD_COMMAND", "INSTALL_COMMAND"}
    | {"TEST_COMMAND", "COMMAND", "DEPENDS", "TLS_VERIFY", "FIND_PACKAGE_ARGS"}
    | {"OVERRIDE_FIND_PACKAGE", "SYSTEM", "LOG_DOWNLOAD", "BUILD_IN_SOURCE", "INSTALL_DIR"}
    | {"STAMP_DIR", "TMP_DIR", "BUILD_BYPRODUCTS", "HTTP_HEADER", "INACTIVITY_TIMEOUT"}
    | {"TIMEOUT", "DOWNLOAD_EXTRACT_TIMESTAMP", "UPDATE_DISCONNECTED", "LIST_SEPARATOR"}
    | {"CMAKE_GENERATOR", "BUILD_ALWAYS", "LOG_CONFIGURE", "LOG_BUILD", "LOG_INSTALL"}
)
_TRUE = frozenset({"1", "ON", "YES", "TRUE", "Y"})
_HASH = re.compile(r"^(SHA256|SHA1|SHA224|SHA384|SHA512|MD5|SHA3_[0-9]+)=([0-9A-Fa-f]+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetch:
    """A download declared by CMake. ``kind`` is "git" or "url".

    ``digest`` is the declared hash as ``ALGO=hex`` (URL_HASH, URL_MD5, EXPECTED_HASH,
    EXPECTED_MD5) when its value is known. ``defines`` are the variables the fetched
    project is configured with: an ExternalProject's ``-D`` arguments in ``CMAKE_ARGS``
    and ``CMAKE_CACHE_ARGS`` (a fresh CMake run: ``inherits`` is False), or, for
    FetchContent (added to the same build), every variable of the declaring scope
    (``inherits``); ``unknown`` names the variables among them whose value is unknown.
    ``target`` is the ``ExternalProject_Add`` target whose build downloads it, and
    ``excluded`` says that target is ``EXCLUDE_FROM_ALL`` (built only when a built target
    depends on it, :mod:`.targets`); a FetchContent or ``file(DOWNLOAD)`` has no target.
    """

    kind: str
    name: str
    line: int
    url: str
    tag: str | None = None
    hashed: bool = False
    digest: str | None = None
    missing: tuple[str, ...] = ()
    path: str = ""
    defines: tuple[tuple[str, str], ...] = ()
    unknown: tuple[str, ...] = ()
    inherits: bool = False
    target: str = ""
    excluded: bool = False

    @property
    def sha256(self) -> str | None:
        """The declared SHA256 (lowercase hex), when that is the declared algorithm."""
        if self.digest and self.digest.startswith("SHA256="):
            return self.digest[7:].lower()
        return None


Values = list[Value]


def keyword_values(vals: Values, key: str) -> Values | None:
    """The values after ``key`` up to the next known keyword; None when absent."""
    words = [v.text for v in vals]
    if key not in words:
        return None
    i = words.index(key) + 1
    out: Values = []
    while i < len(vals) and words[i] not in KEYWORDS:
        out.append(vals[i])
        i += 1
    return out


def excluded(vals: Values) -> bool:
    """Whether ``ExternalProject_Add`` arguments (after the name) say ``EXCLUDE_FROM_ALL``
    with a true value (a value that is not known is not taken as true)."""
    given = keyword_values(vals, "EXCLUDE_FROM_ALL")
    if not given:
        return False
    return not given[0].missing and given[0].text.upper() in _TRUE


def _digest(vals: Values, *, hash_key: str, md5_key: str) -> tuple[bool, str | None]:
    given = keyword_values(vals, hash_key)
    md5 = keyword_values(vals, md5_key)
    if given:
        m = _HASH.match(given[0].text)
        return True, (f"{m.group(1)}={m.group(2)}" if m and not given[0].missing else None)
    if md5:
        ok = re.fullmatch(r"[0-9A-Fa-f]{32}", md5[0].text) and not md5[0].missing
        return True, (f"MD5={md5[0].text}" if ok else None)
    return False, None


def defines_of(vals: Values) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    known: dict[str, str] = {}
    unknown: list[str] = []
    for key in ("CMAKE_ARGS", "CMAKE_CACHE_ARGS", "CMAKE_CACHE_DEFAULT_ARGS"):
        for v in keyword_values(vals, key) or []:
            if not v.text.startswith("-D") or "=" not in v.text:
                continue
            name, _, value = v.text[2:].partition("=")
            name = name.split(":", 1)[0]
            if v.missing:
                unknown.append(name)
                known.pop(name, None)
            else:
                known[name] = value
    return tuple(sorted(known.items())), tuple(dict.fromkeys(unknown))


def declared(cmd: Command, scope: Scope) -> list[Fetch]:
    """What an ``ExternalProject_Add`` / ``FetchContent_Declare`` call fetches."""
    vals = values(cmd.args, scope)
    if not vals:
        return []
    name, rest = vals[0].text, vals[1:]
    content = cmd.name.lower() == "fetchcontent_declare"
    if content:
        defines = tuple(sorted(scope.values.items()))
        unknown = tuple(sorted(scope.unknown))
    else:
        defines, unknown = defines_of(rest)
    common = {"name": name, "line": cmd.line, "defines": defines, "unknown": unknown}
    if not content:
        common |= {"target": name, "excluded": excluded(rest)}
    repo = keyword_values(rest, "GIT_REPOSITORY")
    if repo:
        tag = keyword_values(rest, "GIT_TAG")
        return [
            Fetch(
                kind="git",
                url=repo[0].text,
                tag=tag[0].text if tag else None,
                missing=missing_of([*repo[:1], *(tag[:1] if tag else [])]),
                inherits=content,
                **common,  # type: ignore[arg-type]
            )
        ]
    hashed, digest = _digest(rest, hash_key="URL_HASH", md5_key="URL_MD5")
    urls = keyword_values(rest, "URL") or []
    # Several URLs are mirrors of one file: CMake tries them in order.
    return [
        Fetch(kind="url", url=u.text, hashed=hashed, digest=digest, missing=u.missing, **common)  # type: ignore[arg-type]
        for u in urls[:1]
    ]


def file_download(cmd: Command, scope: Scope) -> list[Fetch]:
    """What ``file(DOWNLOAD url file ...)`` fetches."""
    vals = values(cmd.args, scope)
    if len(vals) < 2 or vals[0].text != "DOWNLOAD":
        return []
    words = [v.text for v in vals]
    hashed, digest = False, None
    for i, w in enumerate(words[:-1]):
        if w == "EXPECTED_HASH":
            hashed = True
            m = _HASH.match(words[i + 1])
            digest = f"{m.group(1)}={m.group(2)}" if m and not vals[i + 1].missing else None
        elif w == "EXPECTED_MD5":
            hashed, digest = True, f"MD5={words[i + 1]}"
    return [
        Fetch(
            kind="url",
            name=words[2].rsplit("/", 1)[-1] if len(words) > 2 else "download",
            line=cmd.line,
            url=words[1],
            hashed=hashed,
            digest=digest,
            missing=vals[1].missing,
        )
    ]
