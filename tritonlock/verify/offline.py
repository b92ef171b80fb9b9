"""Offline verification of a lock: schema, content hash, order, consistency, rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import lockfile
from ..lockfile import schema
from ..model import Lock
from ..resolve import rules


@dataclass(frozen=True, slots=True)
class Report:
    """The result of verifying one lock: ok when ``problems`` is empty."""

    path: str
    content_hash: str
    problems: list[str] = field(default_factory=list)
    lock: Lock | None = None
    notes: list[str] = field(default_factory=list)  # worth a reviewer's eye, not problems

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def partial(self) -> bool:
        """The only problems are unresolved entries: everything pinned verifies."""
        return bool(self.problems) and all(p.startswith("unresolved[") for p in self.problems)


def verify(path: str | Path) -> Report:
    """Check a lock file offline. Raises LockReadError when it cannot be read at all."""
    raw = lockfile.read_raw(path)
    actual = lockfile.content_hash(raw.data)
    structure = schema.problems(raw.data)
    found = structure + lockfile.check_hash(raw, actual)
    if structure:
        # Without a valid structure, order and rules say nothing more useful.
        return Report(raw.path, actual, _shown(found))
    lock = Lock.from_dict(raw.data)  # valid: checked just above
    found += _order(lock)
    found += rules.check(lock)
    return Report(raw.path, actual, _shown(found), lock, rules.step_notes(lock))


def _shown(problems: list[str]) -> list[str]:
    """Problems as every command shows them: a lock may quote a secret (a tokened URL),
    which is never printed back (:func:`tritonlock.util.redact.redact`; imported only when there
    is a problem, as `verify` of a good lock needs no redaction)."""
    if not problems:
        return problems
    from ..util.redact import redact

    return [redact(p) for p in problems]


def verified(paths: Sequence[str | Path]) -> tuple[list[Lock], list[str]]:
    """Each lock verified offline: the locks when every one passed (else none), and every
    problem of every lock as ``path: problem``."""
    locks: list[Lock] = []
    problems: list[str] = []
    ok = True
    for path in paths:
        report = verify(path)
        problems += [f"{report.path}: {problem}" for problem in report.problems]
        ok = ok and report.ok and report.lock is not None
        if report.lock is not None:
            locks.append(report.lock)
    return (locks if ok else []), problems


def _order(lock: Lock) -> list[str]:
    canon = lock.canonical()
    out = []
    for key in ("recipe", "git", "index", "wheel", "environment", "image", "url", "unresolved"):
        if getattr(lock, key) != getattr(canon, key):
            out.append(f"{key}: entries are not in canonical order; the lock was edited by hand")
    if lock.apt and canon.apt and lock.apt.packages != canon.apt.packages:
        out.append("apt.packages: entries are not in canonical order; the lock was edited by hand")
    return out
