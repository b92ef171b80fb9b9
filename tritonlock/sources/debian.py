"""Debian archive formats, pure: version order, Release and Packages files, ``deb`` lines.

Versions compare exactly like ``dpkg --compare-versions``; a requested version matches
the way ``apt-get install name=version`` matches it (exact, ``prefix*`` or a glob,
case-insensitive). Nothing here touches the network or the file system.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "DebSource",
    "PackageEntry",
    "ReleaseFile",
    "compare_versions",
    "expand_deb_line",
    "parse_deb_line",
    "parse_packages",
    "parse_release",
    "parse_stanza",
    "parse_version",
    "strip_clearsign",
    "version_key",
    "version_matches",
]

_DIGITS = "0123456789"
_UPSTREAM = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
_REVISION = re.compile(r"^[A-Za-z0-9.+~]+$")


# --- versions -----------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, str, str]:
    """``[epoch:]upstream[-revision]`` → (epoch, upstream, revision); ValueError if dpkg
    would reject or warn about it."""
    version = text.strip()
    if not version or any(c.isspace() for c in version):
        raise ValueError(f"version {text!r} is empty or has spaces")
    epoch_text, colon, rest = version.partition(":")
    if not colon:
        epoch_text, rest = "0", version
    if not epoch_text.isascii() or not epoch_text.isdigit() or int(epoch_text) > 2**31 - 1:
        raise ValueError(f"version {text!r} has a bad epoch")
    upstream, hyphen, revision = rest.rpartition("-")
    if not hyphen:
        upstream, revision = rest, ""
    if not _UPSTREAM.match(upstream) or (hyphen and not _REVISION.match(revision)):
        raise ValueError(f"version {text!r} is not a Debian version")
    return int(epoch_text), upstream, revision


def _order(c: str) -> int:
    if c in _DIGITS:
        return 0
    if c.isascii() and c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of one upstream or revision part."""
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and a[i] not in _DIGITS) or (j < len(b) and b[j] not in _DIGITS):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i, j = i + 1, j + 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        first_diff = 0
        while i < len(a) and j < len(b) and a[i] in _DIGITS and b[j] in _DIGITS:
            first_diff = first_diff or ord(a[i]) - ord(b[j])
            i, j = i + 1, j + 1
        if i < len(a) and a[i] in _DIGITS:
            return 1
        if j < len(b) and b[j] in _DIGITS:
            return -1
        if first_diff:
            return first_diff
    return 0


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is lower than, equal to or higher than ``b`` (dpkg semantics)."""
    ea, ua, ra = parse_version(a)
    eb, ub, rb = parse_version(b)
    diff = (ea > eb) - (ea < eb) or _verrevcmp(ua, ub) or _verrevcmp(ra, rb)
    return (diff > 0) - (diff < 0)


version_key = functools.cmp_to_key(compare_versions)


def version_matches(pattern: str | None, version: str) -> bool:
    """Whether ``apt-get install name=<pattern>`` accepts ``version``: the exact string,
    a prefix when the pattern ends in ``*``, or an fnmatch glob (all case-insensitive)."""
    if pattern is None:
        return True
    want, have = pattern.lower(), version.lower()
    if want == have or (len(want) > 1 and want.endswith("*") and have.startswith(want[:-1])):
        return True
    return any(c in want for c in "*?[") and fnmatch.fnmatchcase(have, want)


# --- control files ------------------------------------------------------------------------


def parse_stanza(text: str) -> dict[str, str]:
    """One deb822 paragraph → {lower-case field: value}; continuation lines joined by
    newlines (a lone ``.`` line stands for an empty one)."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0] in " \t":
            if not key:
                raise ValueError(f"continuation line without a field: {line.strip()!r}")
            more = line.strip()
            fields[key] += "\n" + ("" if more == "." else more)
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"not a control field: {line[:60]!r}")
        key = name.strip().lower()
        fields[key] = value.strip()
    return fields


def strip_clearsign(text: str) -> str:
    """The signed text of an OpenPGP clear-signed message (InRelease), unverified;
    other text is returned unchanged."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "-----BEGIN PGP SIGNED MESSAGE-----":
        return text
    try:
        start = lines.index("", 1) + 1
        end = lines.index("-----BEGIN PGP SIGNATURE-----", start)
    except ValueError:
        raise ValueError("clear-signed message without a body or a signature") from None
    body = (line[2:] if line.startswith("- ") else line for line in lines[start:end])
    return "\n".join(body) + "\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseFile:
    """A suite's Release file: its fields and the SHA256 list (path → (hex, size))."""

    fields: Mapping[str, str]
    sha256: Mapping[str, tuple[str, int]]


_HASH_LINE = re.compile(r"^([0-9a-fA-F]{64})\s+([0-9]+)\s+(\S+)$")


def parse_release(text: str) -> ReleaseFile:
    """A Release or InRelease file (its signature is not checked). ValueError without
    a SHA256 list."""
    fields = parse_stanza(strip_clearsign(text).split("\n\n", 1)[0])
    listing = fields.get("sha256")
    if listing is None:
        raise ValueError("the Release file has no SHA256 list")
    sha256: dict[str, tuple[str, int]] = {}
    for line in listing.splitlines():
        if not line.strip():
            continue
        match = _HASH_LINE.match(line.strip())
        if not match:
            raise ValueError(f"bad SHA256 line in the Release file: {line.strip()[:80]!r}")
        sha256[match.group(3)] = (match.group(1).lower(), int(match.group(2)))
    return ReleaseFile(fields=fields, sha256=sha256)


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageEntry:
    """One binary package version of a Packages index."""

    name: str
    version: str
    architecture: str
    provides: tuple[str, ...] = ()


_PROVIDES = re.compile(r"(?im)^provides:")


def parse_packages(text: str, wanted: Collection[str] | None = None) -> Iterator[PackageEntry]:
    """The entries of a Packages index; with ``wanted``, only those named so or
    providing such a name (the rest is skipped cheaply). Entries without a name, an
    architecture or a valid version are skipped."""
    for chunk in text.split("\n\n"):
        head = chunk.lstrip("\n")
        if not head:
            continue
        if wanted is not None and head.startswith("Package:"):
            name = head[8 : head.find("\n") if "\n" in head else None].strip()
            if name not in wanted and ("rovides:" not in head or not _PROVIDES.search(head)):
                continue
        entry = _entry(parse_stanza(head))
        if entry and (wanted is None or entry.name in wanted or set(entry.provides) & set(wanted)):
            yield entry


def _entry(fields: dict[str, str]) -> PackageEntry | None:
    name, version = fields.get("package", ""), fields.get("version", "")
    arch = fields.get("architecture", "")
    try:
        parse_version(version)
    except ValueError:
        return None
    if not name or not arch:
        return None
    provides = tuple(
        p.split("(", 1)[0].strip().split(":", 1)[0]
        for p in fields.get("provides", "").replace("\n", " ").split(",")
        if p.strip()
    )
    return PackageEntry(name=name, version=version, architecture=arch, provides=provides)


# --- deb lines -----------------------------------------------------------------------------

_CODENAME_VAR = r"\$\{?(?:VERSION_CODENAME|UBUNTU_CODENAME)\}?"
_EXPANSIONS: tuple[tuple[str, str], ...] = (
    (r"\$\(\s*dpkg\s+--print-architecture\s*\)", "arch"),
    (
        r"\$\(\s*(?:\.|source)\s+/etc/os-release\s*(?:&&|;)\s*echo\s+"
        rf"(?:\"{_CODENAME_VAR}\"|'?{_CODENAME_VAR}'?)\s*\)",
        "codename",
    ),
    (r"\$\(\s*lsb_release\s+(?:-cs|-sc|-c\s+-s|-s\s+-c)\s*\)", "codename"),
    (_CODENAME_VAR, "codename"),
)


def expand_deb_line(line: str, *, arch: str, codename: str) -> str:
    """Replace the shell expansions build scripts use in deb lines (architecture,
    release codename) by their values for the target; ValueError for any other."""
    values = {"arch": arch, "codename": codename}
    out = line
    for pattern, what in _EXPANSIONS:
        out = re.sub(pattern, values[what], out)
    if "$" in out or "`" in out:
        raise ValueError(f"cannot expand the shell in {line!r}")
    return " ".join(out.replace('"', "").replace("'", "").split())


@dataclass(frozen=True, slots=True, kw_only=True)
class DebSource:
    """A binary repository: ``url`` ends in ``/``; a flat repository has a ``suite``
    ending in ``/`` (its directory below ``url``) and no components."""

    url: str
    suite: str
    components: tuple[str, ...] = ()

    @property
    def flat(self) -> bool:
        return self.suite.endswith("/")


_PPA = re.compile(r"^ppa:([a-z0-9][a-z0-9.+-]*)/([a-z0-9][a-z0-9.+-]*)$")


def parse_deb_line(line: str, *, arch: str, codename: str) -> DebSource | None:
    """A one-line ``deb`` entry (or ``ppa:owner/name``) after expansion; None for
    ``deb-src`` and for entries whose ``arch=`` option leaves out ``arch``."""
    text = expand_deb_line(line, arch=arch, codename=codename)
    ppa = _PPA.match(text)
    if ppa:
        text = f"deb https://ppa.launchpadcontent.net/{ppa[1]}/{ppa[2]}/ubuntu {codename} main"
    kind, _, rest = text.partition(" ")
    if kind == "deb-src":
        return None
    if kind != "deb":
        raise ValueError(f"not a deb line: {line!r}")
    options, rest = _options(rest.strip(), line)
    if not _arch_allowed(options, arch):
        return None
    words = rest.split()
    if len(words) < 2 or not re.match(r"^https?://[^\s/]+", words[0]):
        raise ValueError(f"deb line without an http(s) URL and a suite: {line!r}")
    url, suite, components = words[0].rstrip("/") + "/", words[1], tuple(words[2:])
    if suite.endswith("/") == bool(components):
        raise ValueError(f"deb line needs components, or a suite ending in '/': {line!r}")
    return DebSource(url=url, suite=suite.lstrip("/") or "/", components=components)


def _options(rest: str, line: str) -> tuple[dict[str, list[str]], str]:
    if not rest.startswith("["):
        return {}, rest
    inside, bracket, after = rest[1:].partition("]")
    if not bracket:
        raise ValueError(f"unclosed '[' in {line!r}")
    options: dict[str, list[str]] = {}
    for word in inside.split():
        key, eq, value = word.partition("=")
        if eq:
            options[key] = value.split(",")
    return options, after.strip()


def _arch_allowed(options: dict[str, list[str]], arch: str) -> bool:
    if "arch" in options and arch not in options["arch"]:
        return False
    return arch not in options.get("arch-", [])
