"""``uv pip compile`` for a target: started at once, as a child of its own, so the caller
works on while it runs (reads the index, or loads the rest of the resolver), then waits for
its pins or ends it. Light on purpose: it imports no HTTP client and no lock model, so a
resolve can start uv in the first milliseconds of a process."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ResolveError
from ..util import interrupt, procs
from ..util.programs import uv_binary
from ..util.redact import redact, url_without_credentials

if TYPE_CHECKING:
    from .pytarget import Target

_PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")
UV_TIMEOUT = 1800


@dataclass(frozen=True, slots=True)
class Pinned:
    name: str
    version: str
    source: str | None  # the index URL uv took it from (credentials removed)
    hashes: frozenset[str]  # bare hex, as uv saw them


@dataclass(frozen=True, slots=True, kw_only=True)
class UvIndexes:
    """What uv is told about the indexes: the index URL and the extra ones (credentials in
    them travel in uv's environment only), the cutoff, and how many downloads at once."""

    url: str
    extras: tuple[str, ...] = ()
    exclude_newer: str | None = None
    jobs: int = 1

    @property
    def urls(self) -> tuple[str, ...]:
        return (self.url, *self.extras)


class UvCompile:
    """``uv pip compile`` for the target, started at once (credentials travel in the
    environment only); :meth:`result` waits for its pins. ``preferred`` pins are kept where
    the requirements allow (uv reads them from the output file, as it keeps an existing
    lock's pins). ``held`` caps (cap, reason) are constraints too; a failure that names the
    capped package says why the cap holds."""

    def __init__(
        self,
        what: str,
        requirements: Sequence[str],
        constraints: Sequence[str],
        target: Target,
        indexes: UvIndexes,
        allow_sdist: bool,
        cache_dir: Path,
        *,
        preferred: Sequence[str] = (),
        held: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.what, self.target, self.indexes, self.held = what, target, indexes, held
        self.tmp = Path(tempfile.mkdtemp(prefix="tritonlock-uv-"))
        interrupt.temporary(self.tmp)
        reqs, cons = self.tmp / "requirements.in", self.tmp / "constraints.txt"
        self.out = self.tmp / "requirements.txt"
        reqs.write_text("".join(f"{r}\n" for r in requirements))
        cons.write_text("".join(f"{c}\n" for c in constraints))
        self.out.write_text("".join(f"{p}\n" for p in preferred))
        cmd = [
            uv_binary(), "pip", "compile", "--no-config", "--no-python-downloads", "--quiet",
            "--python-version", target.python, "--python-platform", target.uv_platform,
            "--emit-index-annotation", "--no-annotate", "--no-header", "--generate-hashes",
            "--cache-dir", str(cache_dir / "uv"), "--constraints", str(cons), str(reqs),
            "--output-file", str(self.out),
        ]  # fmt: skip
        if not allow_sdist:
            cmd[3:3] = ["--only-binary", ":all:"]
        if indexes.exclude_newer is not None:
            cmd[3:3] = ["--exclude-newer", indexes.exclude_newer]
        try:
            self.started = procs.start(cmd, env=uv_env(indexes), cwd=self.tmp)
        except FileNotFoundError:
            interrupt.remove(self.tmp)
            raise ResolveError(f"cannot run uv ({cmd[0]}); reinstall tritonlock") from None

    def cancel(self) -> None:
        try:
            self.started.cancel()
        finally:
            interrupt.remove(self.tmp)

    def result(self) -> list[Pinned]:
        try:
            done = self.started.wait(UV_TIMEOUT)
            text = self.out.read_text("utf-8", "replace") if done.returncode == 0 else ""
        except subprocess.TimeoutExpired:
            raise ResolveError(
                f"{_named(self.what)}: uv did not finish in {UV_TIMEOUT} s"
            ) from None
        finally:
            interrupt.remove(self.tmp)
        if done.returncode != 0:
            why = condense(done.stderr.decode("utf-8", "replace"), self.indexes.urls)
            more = "".join(f" ({c} holds: {r})" for c, r in self.held if _names(why, c))
            # said before uv's words, which an [[unresolved]] reason may cut
            raise ResolveError(
                f"{_named(self.what)}: cannot resolve for {self.target.describe()}{more}: {why}"
            )
        return parse_uv_output(text)


def _names(text: str, requirement: str) -> bool:
    """Whether ``text`` mentions the package ``requirement`` is about."""
    from packaging.requirements import Requirement  # only when uv failed

    name = re.escape(Requirement(requirement).name)
    return re.search(rf"(?<![\w.-]){name}(?![\w-])", text, re.IGNORECASE) is not None


def _named(what: str) -> str:
    return what if " " in what else f"step {what!r}"


def uv_env(indexes: UvIndexes) -> dict[str, str]:
    """uv's environment: this one without ``UV_*``, and the indexes (credentials in their
    URLs travel only here, never in argv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_CONCURRENT_DOWNLOADS"] = str(indexes.jobs)
    env["UV_SYSTEM_CERTS"] = env["UV_NATIVE_TLS"] = "1"  # the system CA store, as httpx here
    env["UV_INDEX_URL"] = indexes.url
    if indexes.extras:
        env["UV_EXTRA_INDEX_URL"] = " ".join(indexes.extras)
    return env


def condense(stderr: str, urls: Sequence[str] = ()) -> str:
    """uv's multi-line error as one line without credentials (nor the tokens of the index
    URLs it was given)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith("warning:")] or lines or ["uv failed"]
    text = " ".join(keep)
    text = re.sub(r"^error:\s*", "", text)
    return redact(text, urls=urls)[:600]


def parse_uv_output(text: str) -> list[Pinned]:
    """Pins, their hashes and their ``# from`` index out of ``uv pip compile`` output."""
    out: list[Pinned] = []
    name = version = source = None
    hashes: set[str] = set()

    def flush() -> None:
        if name and version:
            out.append(Pinned(name, version, source, frozenset(hashes)))

    for raw in text.splitlines():
        line = raw.strip()
        if m := _PIN_RE.match(line):
            flush()
            name, version, source, hashes = m.group(1), m.group(2), None, set()
        elif line.startswith("--hash=sha256:"):
            hashes.add(line.split(":", 1)[1].rstrip(" \\").lower())
        elif line.startswith("# from "):
            source = url_without_credentials(line[len("# from ") :].strip())
    flush()
    return out
