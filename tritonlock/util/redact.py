"""Secrets out of everything shown: one :func:`redact` for every message, log line and
``--json`` output, and the URL rules that keep credentials out of the lock, argv and files.

:func:`redact` finds every ``scheme://`` in a text and masks, up to the next whitespace:

* the user info, ``***@``: everything up to the *last* ``@`` that a host follows, so a
  password holding ``@``, ``:``, ``%40`` or even a raw ``/`` (``http://u:S3C/R@ET@host/``)
  is hidden whole and the host stays. An ``@`` after the first ``/`` is a path's ``@``
  (``https://github.com/org/repo@v1``) only when what comes before that ``/`` is a
  well-formed host name (dotted, an IP address or ``localhost``, with an optional port):
  ``u:S3C`` or a bare ``tok`` is not, so it is taken as user info;
* the value of every query or fragment parameter whose name says it is a secret
  (``token``, ``private_token``, ``access_token``, ``password``, ``secret``, ``key``,
  ``api_key``, ``sig``, ``X-Amz-Signature``, …): ``token=***``.

Without a scheme, ``USER:PASSWORD@HOST`` (as in ``--registry-mirror docker.io=u:p@host``)
is masked the same way. A password holding whitespace (``http://u:my pass@host``, an
option's value echoed back) is masked through the last ``@HOST`` before the next quote or
line end, when what ends at the whitespace cannot be a host and port: ``u:my``, but not
``host:8080`` or ``[::1]`` (so neither a password whose first word is all digits).

Outside URLs, ``NAME=VALUE`` is masked (``NAME=***``) when NAME says it is a secret
unambiguously (``token``, ``GITHUB_TOKEN``, ``--password``, ``client_secret``,
``api_key``, ``credentials``, …; not ``key``, ``code`` or ``auth``), never in ``name==1.0``.

What is not a secret by its shape (a token as a path segment,
``https://host/TOKEN/simple``) cannot be found in free text: such URLs are never recorded
or shown (:func:`credential_free`, :func:`public_url`).

:func:`split_url` parses a URL strictly, as the code that uses it must: the URL without
its user info, and the decoded credentials, which then travel only in memory or in a
child's environment; a user info holding a raw ``/``, ``?`` or ``#`` is refused (percent-
encode it), never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# The same scheme (group 1), found from the start of its run of scheme characters only: a
# search for _SCHEME tried every letter of a long word again (quadratic in its length).
_SCHEME_FIND = re.compile(r"(?<![A-Za-z0-9+.-])[0-9+.-]*([A-Za-z][A-Za-z0-9+.-]*://)")
_END = re.compile(r"\s")
# A host (and port) right after an ``@``, ended by something a host cannot hold.
_HOST_AFTER = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(?::[0-9]{0,5})?(?![\w.~%:@-])")
# What a real host[:port] looks like (for the ``@`` after a ``/`` question).
_WELL_FORMED = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|localhost|[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
    r"|(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9])"
    r"(?::[0-9]{1,5})?",
    re.IGNORECASE,
)
_SECRET_PARAM = re.compile(
    r"(?i)(?<=[?&;#])((?:[A-Za-z0-9]+[-_.])*(?:token|password|passwd|pwd|pass|secret|key|apikey"
    r"|sig|signature|credential|credentials|auth|authorization|session|jwt|code))="
    r"[^&;#\s'\"<>]*"
)
# USER:PASSWORD@HOST without a scheme, at the start of a word or after = ' " ( ,
_BARE_USERINFO = re.compile(r"(?:^|(?<=[\s='\"(,]))[^\s:@/='\"(,]+:")
_TOKEN_SEGMENT = re.compile(r"[A-Za-z0-9_-]{16,}")
# NAME=VALUE outside URLs whose NAME is a secret's (``GITHUB_TOKEN=…``, ``--password=…``).
_FREE_SECRET = re.compile(
    r"(?i)(?:^|(?<=[\s'\"(,;&?]))(-{0,2}(?:[A-Za-z0-9]+[-_.])*"
    r"(?:token|password|passwd|secret|apikey|api[-_]key|access[-_]key|private[-_]key"
    r"|credentials?))=(?!=)[^\s'\"&;,)]+"
)
_SPACED_LIMIT = re.compile(r"['\"\n]")


def redact(text: str, *, urls: Iterable[str] = ()) -> str:
    """``text`` with the credentials of every URL in it masked (see the module docstring);
    and, wherever they appear, the secret parts of ``urls`` (:func:`secrets_of`): for the
    output of a child given those URLs, which may print them its own way."""
    for secret in sorted({s for u in urls for s in secrets_of(u)}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    out: list[str] = []
    pos = 0
    for start, end in _url_regions(text):
        out.append(_bare(text[pos:start]))
        out.append(_url(text[start:end]))
        pos = end
    out.append(_bare(text[pos:]))
    return "".join(out)


def url_without_credentials(url: str) -> str:
    """``url`` without its user info (``https://u:p@host/x`` → ``https://host/x``)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def without_userinfo(text: str) -> str:
    """``text`` with the user info of every URL removed (not masked): for a value that is
    recorded rather than shown, such as a URL the upstream recipe downloads; the build
    gives credentials through its secrets."""
    out: list[str] = []
    pos = 0
    for start, end in _url_regions(text):
        scheme_end = _SCHEME.match(text, start)
        assert scheme_end is not None
        rest = text[scheme_end.end() : end]
        at = _userinfo_end(rest)
        out.append(text[pos : scheme_end.end()])
        out.append(rest[at + 1 :] if at >= 0 else rest)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _url_regions(text: str) -> list[tuple[int, int]]:
    """(start, end) of each URL: from its scheme to whitespace or the next scheme."""
    found = [(m.start(1), m.end(1)) for m in _SCHEME_FIND.finditer(text)]
    regions: list[tuple[int, int]] = []
    for i, (start, scheme_end) in enumerate(found):
        stop = found[i + 1][0] if i + 1 < len(found) else len(text)
        space = _END.search(text, start, stop)
        end = space.start() if space else stop
        if space is not None and _spaced_userinfo(text[scheme_end:end]):
            end = _past_spaced_at(text, end, stop)
        prev = regions[-1] if regions else None
        if prev is not None and prev[1] == start and _open_userinfo(text[prev[0] : prev[1]]):
            regions[-1] = (prev[0], end)  # a password holding "://": one URL
        else:
            regions.append((start, end))
    return regions


def _open_userinfo(region: str) -> bool:
    """A region that may end inside its user info, so that the scheme found next belongs to
    a password (``http://u:a`` of ``http://u:a://b@h``, ``https://`` of ``https://u://@h``,
    ``http://u:/`` of ``http://u:/x://@h``): no ``@`` yet, and what it has of an authority is
    not a host and port (``https://github.com/`` of ``https://github.com/=http://…`` is)."""
    m = _SCHEME.match(region)
    rest = region[m.end() :] if m else ""
    if "@" in rest:
        return False
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    return _WELL_FORMED.fullmatch(authority) is None


def _spaced_userinfo(head: str) -> bool:
    """``head`` (what follows ``scheme://`` up to whitespace) starts a user info that goes on
    past the whitespace (``u:my`` of ``u:my pass@host``): a ``:`` and nothing that ends a user
    info, and not a host and port (``host:8080``, ``[::1]``)."""
    if ":" not in head or head.startswith("[") or any(c in head for c in "/?#@"):
        return False
    return not head.rpartition(":")[2].isdigit()


def _past_spaced_at(text: str, pos: int, stop: int) -> int:
    """Where a user info holding whitespace ends its URL: the end of the word after the last
    ``@HOST`` from ``pos`` to the next quote or line end (``pos`` when there is none)."""
    limit = _SPACED_LIMIT.search(text, pos, stop)
    bound = limit.start() if limit else stop
    at = next(
        (
            i
            for i in range(bound - 1, pos - 1, -1)
            if text[i] == "@" and _HOST_AFTER.match(text, i + 1)
        ),
        -1,
    )
    if at < 0:
        return pos
    space = _END.search(text, at, bound)
    return space.start() if space else bound


def _userinfo_end(rest: str) -> int:
    """Where the user info of ``rest`` (a URL after ``scheme://``) ends: the index of its
    ``@``, or -1 when it has none."""
    authority_end = len(rest)
    for c in "/?#\\":
        i = rest.find(c)
        if 0 <= i < authority_end:
            authority_end = i
    at = -1
    for i in range(len(rest) - 1, -1, -1):
        if rest[i] == "@" and _HOST_AFTER.match(rest, i + 1):
            at = i
            break
    if at <= authority_end:
        return at
    # That @ is past the first /, ? or #: a path's @ when a real host ends the authority
    # (``https://github.com/org/repo@v1``), else user info holding a raw / (``u:S3C/R@ET@h``).
    inside = rest.rfind("@", 0, authority_end)
    return inside if _WELL_FORMED.fullmatch(rest[inside + 1 : authority_end]) else at


def _url(region: str) -> str:
    m = _SCHEME.match(region)
    assert m is not None
    rest = region[m.end() :]
    at = _userinfo_end(rest)
    if at >= 0:
        rest = f"{MASK}@{rest[at + 1 :]}"
    return m.group(0) + _SECRET_PARAM.sub(lambda p: f"{p.group(1)}={MASK}", rest)


def _bare(text: str) -> str:
    """``USER:PASSWORD@HOST`` words (no scheme) and secret ``NAME=VALUE`` pairs masked."""
    out: list[str] = []
    pos = 0
    for m in _BARE_USERINFO.finditer(text):
        if m.start() < pos:
            continue
        space = _END.search(text, m.end())
        word_end = space.start() if space else len(text)
        spaced = m.start() > 0 and text[m.start() - 1] == "="  # docker.io=u:my pass@host
        if space and spaced and _spaced_userinfo(text[m.start() : word_end]):
            word_end = _past_spaced_at(text, word_end, len(text))
        word = text[m.start() : word_end]
        at = _last_host_at(word)
        if at < 0:
            continue
        out.append(text[pos : m.start()])
        out.append(f"{MASK}@")
        pos = m.start() + at + 1
    out.append(text[pos:])
    return _FREE_SECRET.sub(lambda p: f"{p.group(1)}={MASK}", "".join(out))


def _last_host_at(word: str) -> int:
    for i in range(len(word) - 1, -1, -1):
        if word[i] == "@" and _HOST_AFTER.match(word, i + 1):
            return i
    return -1


@dataclass(frozen=True, slots=True)
class Credentials:
    """Decoded user info of a URL; never shown (its repr is masked)."""

    username: str = field(repr=False)
    password: str | None = field(repr=False, default=None)

    def __repr__(self) -> str:
        return f"Credentials({MASK})"


class BadURL(ValueError):
    """A URL that cannot be taken apart safely; ``str()`` says why, without the URL."""


def split_url(url: str) -> tuple[str, Credentials | None]:
    """``url`` without its user info, and the user info decoded (None when it has none).

    A text without ``scheme://`` is returned as it is. Raises :class:`BadURL` for a user
    info holding a raw ``/``, ``?`` or ``#`` (they end the host part of a URL: percent-
    encode them), for a port that is not a number, for user info without a host and for a
    control character in the credentials.
    """
    m = _SCHEME.match(url)
    if m is None:
        return url, None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise BadURL(_BAD_AUTHORITY) from None
    netloc_at = parts.netloc.rfind("@")
    if _userinfo_end(url[m.end() :]) != netloc_at or parts.netloc.endswith("@"):
        raise BadURL(_BAD_AUTHORITY)
    if netloc_at < 0:
        return url, None
    userinfo, host = parts.netloc[:netloc_at], parts.netloc[netloc_at + 1 :]
    user, sep, password = userinfo.partition(":")
    creds = Credentials(unquote(user), unquote(password) if sep else None)
    if any(ord(c) < 32 or ord(c) == 127 for c in creds.username + (creds.password or "")):
        raise BadURL("has a control character in its user info")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), creds


_BAD_AUTHORITY = (
    "is malformed: a '/', '?', '#' or '@' in a password or token must be "
    "percent-encoded (%2F, %3F, %23, %40), and a port must be a number"
)


def looks_like_token(segment: str) -> bool:
    """A path segment shaped like an access token: 16 or more letters, digits, ``_`` or
    ``-``, with at least one letter and one digit (``AbC123…``, a UUID, a hex key).
    ``simple``, ``jp6``, ``cu126``, ``whl``, ``12345678`` or ``jetson-ai-lab`` are not."""
    return (
        _TOKEN_SEGMENT.fullmatch(segment) is not None
        and any(c.isdigit() for c in segment)
        and any(c.isalpha() for c in segment)
    )


def credential_free(url: str) -> bool:
    """True when ``url`` carries no secret, so it may be recorded and shown as it is: an
    http(s) or file URL with no user info, no query, no fragment and no path segment that
    :func:`looks_like_token` (``https://pypi.org/simple/`` and
    ``https://pypi.jetson-ai-lab.dev/jp6/cu126`` are; ``…/simple/?token=…``,
    ``https://host/AbC123…/simple`` and ``https://u:p@host/`` are not)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if parts.scheme not in ("https", "http", "file") or "@" in parts.netloc:
        return False
    if "?" in url or "#" in url:
        return False
    return not any(looks_like_token(unquote(s)) for s in parts.path.split("/"))


def secrets_of(url: str) -> set[str]:
    """The parts of ``url`` that may be secrets, as written and decoded: its password (or
    its user name when it has no password), the path segments that :func:`looks_like_token`
    and its query values; none shorter than 4 characters (those are masked in URLs only)."""
    found: set[str] = set()
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    userinfo = parts.netloc.rpartition("@")[0]
    user, sep, password = userinfo.partition(":")
    found.update((password, unquote(password)) if sep else (user, unquote(user)))
    for segment in parts.path.split("/"):
        if looks_like_token(unquote(segment)):
            found.update((segment, unquote(segment)))
    for pair in re.split(r"[&;]", f"{parts.query}&{parts.fragment}"):
        value = pair.partition("=")[2]
        found.update((value, unquote(value)))
    return {s for s in found if len(s) >= 4}


def public_url(url: str) -> str:
    """``url`` as it may be shown: itself when :func:`credential_free`, else its scheme and
    host only (``https://host/…``)."""
    if credential_free(url):
        return url
    parts = urlsplit(redact(url))
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}/…" if parts.scheme and host else MASK
