"""Deep verification: ask the sources whether every pin of a lock still holds.

Nothing is re-resolved. A pin fails when its bytes are gone or differ: a commit no remote
(or mirror) serves, a wheel file its index no longer lists with the same sha256, an image
digest the registry no longer has, a download whose sha256 or size changed, an apt
package whose archives no longer offer its version. A ref that moved (a branch with new
commits, a tag rebuilt in the registry, an apt package with a newer matching version) is
only a note.

:func:`plan` turns a lock into checks (pure); :func:`run_checks` runs them concurrently
against a :class:`Sources`; :class:`tritonlock.verify.live.LiveSources` is the real one, and
:func:`tritonlock.verify.live.verify_deep` runs a lock's checks against it.
Apt pins are checked against the recipe captured again at the server commit (see
:mod:`tritonlock.verify.apt`): the lock's snapshot for Ubuntu, the third-party repositories
its steps add (not snapshotted) for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from ..errors import UsageError
from ..model import Apt, ImagePin, Lock, UrlPin, WheelPin
from ..resolve.git import abbreviates, norm
from ..resolve.recipe import STALE
from ..sources import debian
from ..sources.hosts import UBUNTU_SNAPSHOTS
from ..sources.imageref import parse_image_ref
from ..sources.urls import check_url
from ..util.redact import redact
from .apt import AptAnswer

_HEX40_LEN = 40
_SHOWN = 5  # versions named in an apt problem


class Unavailable(Exception):
    """A source does not serve what was asked for; ``reason`` is one line, no secrets."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = " ".join(reason.split())


@dataclass(frozen=True, slots=True)
class Listed:
    """A file as an index lists it now: sha256 (bare hex), size when known, yanked."""

    sha256: str
    size: int | None = None
    yanked: bool = False


class Sources(Protocol):
    """What deep verification asks; every method raises :class:`Unavailable` on failure."""

    def git_commit(self, url: str, commit: str) -> None:
        """Return when ``commit`` can be fetched from ``url`` (or its mirror)."""

    def git_ref(self, url: str, ref: str) -> str | None:
        """The commit ``ref`` names now, None when the remote has no such ref."""

    def index_files(
        self, index: str, project: str, wanted: frozenset[str]
    ) -> Mapping[str, Listed] | None:
        """The files of ``project`` the index lists (at least those ``wanted``); None if
        the index does not know the project."""

    def manifest(self, ref: str, reference: str) -> str:
        """The digest of the manifest (or index) the registry serves for ``reference``."""

    def download(self, url: str) -> tuple[str, int]:
        """``(sha256:<hex>, size)`` of the bytes served at ``url`` now."""

    def apt(self, lock: Lock) -> AptAnswer:
        """What the recipe at ``lock``'s server commit installs with apt, and every version
        the lock's snapshot and the steps' repositories offer for it."""


@dataclass(frozen=True, slots=True)
class Outcome:
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """One question to the sources; ``label`` is for progress."""

    label: str
    run: Callable[[Sources], Outcome]


@dataclass(frozen=True, slots=True)
class DeepReport:
    checked: int
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


# -- planning (pure) --------------------------------------------------------------------


def plan(
    lock: Lock,
    *,
    index_urls: Mapping[str, str] | None = None,
    allow_http: bool = False,
) -> list[Check]:
    """Every check the lock needs, in lock order. UsageError when a pin cannot be checked
    with the options given (an index without URL, a plain-http download without allow_http).
    """
    urls = {i.name: i.url for i in lock.index if i.url} | dict(index_urls or {})
    return [
        *_git_checks(lock),
        *_wheel_checks(lock.wheel, urls),
        *(_image_check(i, p) for i, p in enumerate(lock.image)),
        *(_url_check(i, p, allow_http) for i, p in enumerate(lock.url)),
        *_apt_checks(lock),
    ]


def _git_checks(lock: Lock) -> list[Check]:
    commits: dict[tuple[str, str], tuple[str, list[str]]] = {}
    refs: list[Check] = []
    for i, pin in enumerate(lock.git):
        commits.setdefault((norm(pin.url), pin.commit), (pin.url, []))[1].append(f"git[{i}]")
        for j, sub in enumerate(pin.submodules):
            key = (norm(sub.url), sub.commit)
            commits.setdefault(key, (sub.url, []))[1].append(f"git[{i}].submodules[{j}]")
        if not _is_commit(pin.ref):
            run = partial(check_git_ref, f"git[{i}].ref", pin.url, pin.ref, pin.commit)
            refs.append(Check(f"ls-remote {pin.name} {pin.ref}", run))
    fetches = [
        Check(f"fetch {url} {commit[:12]}", partial(check_git_commit, paths, url, commit))
        for (_, commit), (url, paths) in commits.items()
    ]
    return [*fetches, *refs]


def _is_commit(ref: str) -> bool:
    return len(ref) == _HEX40_LEN and all(c in "0123456789abcdef" for c in ref)


def _wheel_checks(pins: Sequence[WheelPin], urls: Mapping[str, str]) -> list[Check]:
    groups: dict[tuple[str, str], list[tuple[int, WheelPin]]] = {}
    for i, pin in enumerate(pins):
        if pin.index not in urls:
            raise UsageError(
                f"wheel[{i}].index: index {pin.index!r} has no URL in the lock; pass "
                f"--index-url {pin.index}=URL (credentials from ~/.netrc or in the URL)"
            )
        groups.setdefault((pin.index, pin.name), []).append((i, pin))
    return [
        Check(f"index {index}: {name}", partial(check_wheels, index, name, tuple(group)))
        for (index, name), group in groups.items()
    ]


def _image_check(i: int, pin: ImagePin) -> Check:
    return Check(f"image {pin.ref}", partial(check_image, f"image[{i}]", pin))


def _url_check(i: int, pin: UrlPin, allow_http: bool) -> Check:
    check_url(pin.url, allow_http=allow_http)
    return Check(f"download {pin.url}", partial(check_download, f"url[{i}]", pin))


def _apt_checks(lock: Lock) -> list[Check]:
    """One check for all apt pins: they share one recipe capture and one read of the indexes."""
    apt = lock.apt
    if apt is None or not apt.packages:
        return []
    n = len(apt.packages)
    at = f" at snapshot {apt.snapshot}" if apt.snapshot else ""
    label = f"apt: {n} package{'s' if n != 1 else ''}{at}"
    return [Check(label, partial(check_apt, lock, apt))]


# -- judging (pure, given the sources' answers) -----------------------------------------


def check_git_commit(paths: Sequence[str], url: str, commit: str, src: Sources) -> Outcome:
    try:
        src.git_commit(url, commit)
    except Unavailable as err:
        why = f"{commit[:12]}… is not served by {redact(url)}: {err.reason}"
        return Outcome(problems=tuple(f"{p}.commit: {why}" for p in paths))
    return Outcome()


def check_git_ref(path: str, url: str, ref: str, commit: str, src: Sources) -> Outcome:
    try:
        now = src.git_ref(url, ref)
    except Unavailable as err:
        return Outcome(notes=(f"{path}: cannot list {ref!r} of {redact(url)}: {err.reason}",))
    if now is None and abbreviates(ref, commit):
        return Outcome()  # an abbreviated commit id: check_git_commit checks the commit
    if now is None:
        return Outcome(notes=(f"{path}: {redact(url)} no longer has a branch or tag {ref!r}",))
    if now != commit:
        return Outcome(
            notes=(f"{path}: {ref} has moved to {now[:12]} since the lock (pinned {commit[:12]})",)
        )
    return Outcome()


def check_wheels(
    index: str, name: str, group: Sequence[tuple[int, WheelPin]], src: Sources
) -> Outcome:
    wanted = frozenset(f.name for _, pin in group for f in pin.files)
    try:
        listed = src.index_files(index, name, wanted)
    except Unavailable as err:
        return Outcome(problems=tuple(f"wheel[{i}]: {err.reason}" for i, _ in group))
    if listed is None:
        return Outcome(
            problems=tuple(
                f"wheel[{i}].name: index {index!r} no longer has {name}" for i, _ in group
            )
        )
    problems: list[str] = []
    notes: list[str] = []
    for i, pin in group:
        for j, f in enumerate(pin.files):
            path = f"wheel[{i}].files[{j}]"
            now = listed.get(f.name)
            if now is None:
                problems.append(f"{path}.name: {f.name} is no longer listed by index {index!r}")
                continue
            if f"sha256:{now.sha256}" != f.sha256:
                problems.append(
                    f"{path}.sha256: index {index!r} lists {f.name} with sha256:{now.sha256}; "
                    f"the lock has {f.sha256}"
                )
            elif now.size is not None and now.size != f.size:
                problems.append(
                    f"{path}.size: index {index!r} lists {f.name} with {now.size} bytes; "
                    f"the lock has {f.size}"
                )
            if now.yanked:
                notes.append(f"{path}.name: {f.name} is yanked on index {index!r}")
    return Outcome(problems=tuple(problems), notes=tuple(notes))


def check_image(path: str, pin: ImagePin, src: Sources) -> Outcome:
    problems: list[str] = []
    wanted = [("digest", pin.digest)]
    if pin.index_digest:
        wanted.append(("index-digest", pin.index_digest))
    for key, digest in wanted:
        try:
            got = src.manifest(pin.ref, digest)
        except Unavailable as err:
            problems.append(f"{path}.{key}: {digest} of {pin.ref} is gone: {err.reason}")
            continue
        if got != digest:
            problems.append(f"{path}.{key}: asked for {digest} of {pin.ref}, got {got}")
    return Outcome(problems=tuple(problems), notes=_tag_note(path, pin, src))


def _tag_note(path: str, pin: ImagePin, src: Sources) -> tuple[str, ...]:
    if "@" in pin.ref:
        return ()
    was = pin.index_digest or pin.digest
    try:
        now = src.manifest(pin.ref, parse_image_ref(pin.ref).reference)
    except Unavailable as err:
        return (f"{path}.ref: cannot read the tag of {pin.ref}: {err.reason}",)
    if now == was:
        return ()
    note = f"{pin.ref} was rebuilt under the same tag: it now points at {now} (the lock has {was})"
    return (f"{path}.ref: {note}",)


def check_download(path: str, pin: UrlPin, src: Sources) -> Outcome:
    try:
        sha, size = src.download(pin.url)
    except Unavailable as err:
        return Outcome(problems=(f"{path}.url: {err.reason}",))
    if sha != pin.sha256:
        had = "as upstream declares" if pin.fixed_output else f"({pin.size} bytes)"
        return Outcome(
            problems=(
                f"{path}.sha256: {pin.url} now hashes to {sha} ({size} bytes); the lock has "
                f"{pin.sha256} {had}",
            )
        )
    if pin.size is not None and size != pin.size:
        return Outcome(
            problems=(f"{path}.size: {pin.url} is now {size} bytes; the lock has {pin.size}",)
        )
    return Outcome()


def check_apt(lock: Lock, apt: Apt, src: Sources) -> Outcome:
    """Every pinned version still offered by its step's archives; the recipe installs
    nothing the lock does not pin. A newer version the recipe would now pick is a note."""
    if apt.snapshot is None:
        return Outcome(
            problems=(
                "apt.snapshot: the lock has no apt snapshot, so its packages cannot be "
                "checked against a dated archive; re-resolve the lock",
            )
        )
    try:
        answer = src.apt(lock)
    except Unavailable as err:
        return Outcome(problems=(f"apt: cannot check the apt pins: {err.reason}",))
    if answer.stale:
        return Outcome(problems=tuple(f"apt: not checked: {p}" for p in answer.stale))
    problems: list[str] = []
    notes: list[str] = []
    for i, pin in enumerate(apt.packages):
        key = (pin.step, pin.name)
        what = f"apt.packages[{i}]: {pin.name} {pin.version} (step {pin.step})"
        if key not in answer.installs:
            problems.append(f"{what} is no longer installed by the recipe; {STALE}")
            continue
        offered = answer.offered.get(key, ())
        if pin.version not in offered:
            problems.append(f"{what} {_not_offered(offered)}")
            continue
        newest = _newest(offered, answer.installs[key])
        if newest is not None and debian.compare_versions(newest, pin.version) > 0:
            notes.append(f"{what}: the recipe would now install {newest}")
    pinned = {(p.step, p.name) for p in apt.packages}
    for step, name in answer.installs:
        if (step, name) not in pinned:
            problems.append(
                f"apt: the recipe installs {name} (step {step}), which the lock does not pin; "
                f"{STALE}"
            )
    return Outcome(problems=tuple(problems), notes=tuple(notes))


def _not_offered(offered: Sequence[str]) -> str:
    if not offered:
        return (
            "is not offered at all: neither the snapshot nor the repositories its step adds "
            "list the package"
        )
    newest = sorted(offered, key=debian.version_key, reverse=True)
    shown = ", ".join(newest[:_SHOWN]) + (", …" if len(newest) > _SHOWN else "")
    return f"is no longer offered by its repositories: they now offer {shown}"


def _newest(offered: Sequence[str], want: str | None) -> str | None:
    matching = [v for v in offered if debian.version_matches(want, v)]
    return max(matching, key=debian.version_key) if matching else None


# -- running ----------------------------------------------------------------------------


def run_checks(
    checks: Sequence[Check],
    src: Sources,
    *,
    jobs: int = 8,
    progress: Callable[[str], None] | None = None,
) -> DeepReport:
    """Run ``checks`` ``jobs`` at a time; results keep the order of ``checks``."""
    say = progress or (lambda _msg: None)

    def one(check: Check) -> Outcome:
        say(check.label)
        return check.run(src)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="deep") as pool:
        outcomes = list(pool.map(one, checks))
    return DeepReport(
        checked=len(checks),
        problems=tuple(p for o in outcomes for p in o.problems),
        notes=tuple(n for o in outcomes for n in o.notes),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeepOptions:
    """Where bytes come from (never what they must be), as for resolve."""

    git_mirrors: tuple[tuple[str, str], ...] = ()
    registry_mirrors: tuple[tuple[str, str], ...] = ()
    url_mirrors: tuple[tuple[str, str], ...] = ()
    index_urls: tuple[tuple[str, str], ...] = ()
    insecure_registries: tuple[str, ...] = ()
    ca_file: Path | None = None
    allow_http: bool = False
    apt_archive: str = UBUNTU_SNAPSHOTS
    jobs: int = 24
    timeout: float = 120.0
