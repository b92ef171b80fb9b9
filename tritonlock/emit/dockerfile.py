"""Upstream's generated Dockerfiles, rewritten so that every floating input is its pin.

:func:`translate` parses one file with BuildKit's parser and returns its lines with
``FROM`` pinned by digest, pip/apt/wget/curl/git commands rewritten (see
:mod:`tritonlock.emit.rewrite`), build-context copies taken from the pinned sources
or the compile stage, and credential-carrying ``ARG`` s removed. Every other
instruction is kept as upstream wrote it.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import dockerfile

from ..model import Lock
from ..upstream import shell
from ..upstream.shell import loop_words
from ..util.imageref import normalize_ref
from ..util.redact import credential_free
from . import vendored
from .errors import EmitError
from .rewrite import REQ_DIR, Rewriter, StageState
from .secrets import KNOWN, SECRETS_DIR, Use, mounts, prologue
from .sources import SERVER_DIR

COMPILE_STAGE = "tritonlock-compile"
SOURCES_STAGE = "tritonlock-sources"
INSTALL = ("build/install", "/tmp/tritonbuild/install")
_SECRET_ARG = re.compile(r"TOKEN|PASSW|SECRET|PROXY|CREDENTIAL|_URL$|_KEY$", re.IGNORECASE)
_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_FLOATING = re.compile(r"\b(pip3?|apt-get|wget|curl|git\s+clone)\b")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the target builder understands (buildah 1.28 has neither flag)."""

    add_checksum: bool = True
    run_network: bool = True
    vendored: bool = False  # every input from the bundle of `tritonlock vendor`


BUILDX = Dialect()
DIALECTS = {"buildx": BUILDX, "buildah": Dialect(add_checksum=False, run_network=False)}


@dataclass(slots=True)
class Translated:
    """One recipe file after rewriting: its global ARGs, its instructions, its stage names."""

    globals: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    pip_steps: set[str] = field(default_factory=set)


def parse(name: str, text: str) -> tuple[dockerfile.Command, ...]:
    try:
        cmds: tuple[dockerfile.Command, ...] = dockerfile.parse_string(text)
        return cmds
    except dockerfile.GoParseError as err:
        raise EmitError(f"recipe {name}: not a Dockerfile BuildKit can parse: {err}") from None


class Translator:
    """Rewrites one recipe file; ``step`` names its pip/apt step in the lock."""

    def __init__(
        self,
        lock: Lock,
        name: str,
        step: str,
        *,
        allow_git: bool,
        dialect: Dialect = BUILDX,
        pip_steps: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.lock = lock
        self.pip_steps = pip_steps or {}
        self.dialect = dialect
        self.name = name
        self.step = step
        self.allow_git = allow_git
        self.args: dict[str, str] = {}
        self.stage_args: dict[str, str] = {}
        self.out = Translated()
        self.state = self._new_state()
        self.done: set[str] = set()

    def _new_state(self) -> StageState:
        return StageState(
            step=self.step,
            allow_git=self.allow_git,
            add_checksum=self.dialect.add_checksum,
            vendored=self.dialect.vendored,
        )

    def where(self, c: dockerfile.Command) -> str:
        return f"recipe {self.name} line {c.start_line}"

    def run(self, text: str, *, last_as: str | None = None) -> Translated:
        cmds = parse(self.name, text)
        froms = [i for i, c in enumerate(cmds) if c.cmd == "FROM"]
        if not froms:
            raise EmitError(f"recipe {self.name}: no FROM instruction")
        for i, c in enumerate(cmds):
            if i < froms[0]:
                self._global(c)
            elif c.cmd == "FROM":
                self.out.body.append(self._from(c, last_as if i == froms[-1] else None))
            else:
                self.out.body += self._instruction(c)
        return self.out

    def _global(self, c: dockerfile.Command) -> None:
        if c.cmd != "ARG":
            raise EmitError(f"{self.where(c)}: only ARG may come before the first FROM")
        for item in c.value:
            key, _, default = item.partition("=")
            if _SECRET_ARG.search(key):
                continue
            self.args[key] = default.strip('"')
            self.out.globals.append(f"ARG {item}")

    def _from(self, c: dockerfile.Command, alias: str | None) -> str:
        words = list(c.value)
        ref = _VAR.sub(lambda m: self.args.get(m.group(1), m.group(0)), words[0])
        name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
        image = self.image(ref, self.where(c))
        stage = alias or name
        if stage is not None:
            self.out.stages.append(stage)
        self.state = self._new_state()
        self.done = set()
        self.stage_args = {}
        return f"FROM {image} AS {stage}" if stage else f"FROM {image}"

    def image(self, ref: str, where: str) -> str:
        if ref in self.out.stages or ref == "scratch":
            return ref
        if "$" in ref:
            raise EmitError(f"{where}: image {ref!r} depends on a build argument without default")
        for im in self.lock.image:
            if normalize_ref(im.ref) == normalize_ref(ref):
                return f"{im.name()}@{im.digest}"
        raise EmitError(
            f"{where}: image {ref} is not pinned by the lock (no [[image]]); re-resolve"
        )

    def _instruction(self, c: dockerfile.Command) -> list[str]:
        if c.heredocs:
            raise EmitError(f"{self.where(c)}: heredocs are not supported by tritonlock build")
        if c.cmd == "RUN":
            return self._run(c)
        if c.cmd in ("COPY", "ADD"):
            return self._copy(c)
        if c.cmd == "ARG":
            kept = [v for v in c.value if not _SECRET_ARG.search(v.partition("=")[0])]
            for item in kept:
                key, eq, default = item.partition("=")
                value = default.strip('"') if eq else self.args.get(key)
                if value is not None:
                    self.stage_args[key] = value
            return [f"ARG {' '.join(kept)}"] if kept else []
        if c.cmd == "ONBUILD":
            raise EmitError(f"{self.where(c)}: ONBUILD is not supported by tritonlock build")
        return [c.original]

    # RUN ------------------------------------------------------------------------------
    def _run(self, c: dockerfile.Command) -> list[str]:
        flags = [f for f in c.flags if not _foreign_secret(f)]
        if c.json:
            if _FLOATING.search(" ".join(c.value)):
                raise EmitError(f"{self.where(c)}: exec-form RUN with a floating input")
            return [c.original] if flags == list(c.flags) else [_exec("RUN", flags, c.value)]
        self.state.uses = set()
        self.state.pip_candidates = self.pip_steps.get(f"{self.name}:{c.start_line}", ())
        self.state.claimed, self.state.run_steps = [], []
        rw = Rewriter(self.lock, self.state, self.where(c))
        parts = shell.segments(c.value[0])
        branch = shell.static_if(parts, self.stage_args)
        changed = branch is not None
        parts = branch if branch is not None else parts
        loops: list[int | None] = []
        for k in range(0, len(parts), 2):
            cmd = shell.command(parts[k])
            self.state.runs = _runs(loops)
            _loop(loops, parts[k], cmd)
            if cmd is None or not cmd.words:
                if _FLOATING.search(parts[k]):
                    raise EmitError(f"{self.where(c)}: cannot parse {parts[k].strip()!r}")
                continue
            new = rw.rewrite(cmd)
            if new is not None:
                parts[k], changed = new, True
        self._all_installed(c)
        out = self._preamble()
        if not changed and flags == list(c.flags):
            return [*out, c.original]
        found, pro = run_io(self.lock, self.state.uses, self.state.run_steps, self.dialect)
        head = " ".join([*flags, *found])
        body = "".join(parts).strip()
        return [*out, f"RUN {head} {pro}; {body}" if pro else f"RUN {head} {body}".rstrip()]

    def _all_installed(self, c: dockerfile.Command) -> None:
        """Every step the lock pins for this RUN is installed by one of its commands."""
        pinned = {w.step for w in self.lock.wheel}
        st = self.state
        left = [s for s in st.pip_candidates if s in pinned and s not in st.claimed]
        if left:
            raise EmitError(
                f"{self.where(c)}: no command of this RUN installs the lock's pip step "
                f"{left[0]!r}; re-resolve the lock from this recipe"
            )

    def _preamble(self) -> list[str]:
        """What the current RUN needs first: snapshot, downloads, requirements, mirrors."""
        st, out = self.state, []
        apt = self.lock.apt
        if st.needs_apt and apt and apt.snapshot and "apt" not in self.done:
            self.done.add("apt")
            out.append(snapshot_run(apt.snapshot))
        out += st.before
        for step in st.run_steps if st.needs_reqs else ():
            if f"reqs:{step}" not in self.done:
                self.done.add(f"reqs:{step}")
                self.out.pip_steps.add(step)
                dest = f"{REQ_DIR}/{step}.txt"
                out.append(f"COPY {json.dumps([f'requirements/{step}.txt', dest])}")
        if st.needs_git and "git" not in self.done:
            self.done.add("git")
            out.append(f"COPY --from={SOURCES_STAGE} /tritonlock/git /tritonlock/git")
        if st.before_pip:
            found, pro = run_io(self.lock, {Use.PIP}, st.run_steps, self.dialect)
            out += [f"RUN {' '.join(found)} {pro}; {c}" for c in st.before_pip]
        st.before, st.before_pip = [], []
        return out

    # COPY / ADD -----------------------------------------------------------------------
    def _copy(self, c: dockerfile.Command) -> list[str]:
        flags = list(c.flags)
        src = [f for f in flags if f.startswith("--from=")]
        if src:
            ref = src[0].split("=", 1)[1]
            flags[flags.index(src[0])] = "--from=" + self.image(ref, self.where(c))
            return [_exec(c.cmd, flags, c.value)]
        *srcs, dest = c.value
        if c.cmd == "ADD" and any("://" in s or s.startswith("git@") for s in srcs):
            raise EmitError(f"{self.where(c)}: ADD from a URL or git is not supported; use a pin")
        if not self.allow_git:
            if srcs == ["."] and dest.rstrip("/") in (".", "/workspace", ""):
                return []  # the compile stage puts the pinned server tree at /workspace
            raise EmitError(f"{self.where(c)}: copies {srcs} from the build context; unsupported")
        if c.cmd == "ADD":
            raise EmitError(f"{self.where(c)}: ADD from the build context is not supported")
        return [_exec("COPY", [*flags, f"--from={st}"], [path, dest]) for st, path in _map(srcs)]


def _loop(loops: list[int | None], segment: str, cmd: shell.Command | None) -> None:
    """Follow the ``for`` loops of a RUN: a header pushes how many words it iterates over
    (None when they are known only when it runs), ``done`` pops."""
    words = cmd.words if cmd is not None else tuple(segment.split())
    if words[:1] == ("for",):
        items = loop_words(words) if cmd is not None else None
        loops.append(None if items is None else len(items))
    elif words[:1] == ("done",) and loops:
        loops.pop()


def _runs(loops: list[int | None]) -> int | None:
    """How often a command inside ``loops`` runs (None: unknown)."""
    runs = 1
    for words in loops:
        if words is None:
            return None
        runs *= words
    return runs


def _map(srcs: list[str]) -> list[tuple[str, str]]:
    out = []
    for s in srcs:
        clean = "" if s in (".", "./") else s.removeprefix("./").lstrip("/")
        if clean == INSTALL[0] or clean.startswith(INSTALL[0] + "/"):
            out.append((COMPILE_STAGE, INSTALL[1] + clean[len(INSTALL[0]) :]))
        else:
            out.append((SOURCES_STAGE, f"{SERVER_DIR}/{clean}".rstrip("/") or SERVER_DIR))
    return out


def _exec(cmd: str, flags: list[str], value: tuple[str, ...] | list[str]) -> str:
    head = " ".join([cmd, *flags])
    return f"{head} {json.dumps(list(value))}"


def _foreign_secret(flag: str) -> bool:
    """Upstream's own secret mounts (e.g. ``id=req``): dropped, the lock replaces them."""
    if not flag.startswith("--mount=") or "type=secret" not in flag:
        return False
    ids = [p.split("=", 1)[1] for p in flag[len("--mount=") :].split(",") if p.startswith("id=")]
    return not ids or ids[0] not in KNOWN


def snapshot_run(snapshot: str) -> str:
    """A RUN pointing the Ubuntu archive at the lock's dated snapshot (schema-checked)."""
    ts = shlex.quote(snapshot)
    sed = (
        "s#https?://(archive|security)[.]ubuntu[.]com/ubuntu/?#http://snapshot.ubuntu.com/ubuntu/"
        + snapshot
        + "/#g; s#https?://ports[.]ubuntu[.]com/ubuntu-ports/?#http://snapshot.ubuntu.com/"
        + "ubuntu-ports/"
        + snapshot
        + "/#g"
    )
    return (
        "RUN for f in /etc/apt/sources.list /etc/apt/sources.list.d/ubuntu.sources; do "
        f'if [ -f "$f" ]; then sed -i -E {shlex.quote(sed)} "$f"; fi; done && '
        f"echo {ts} > /etc/apt/tritonlock-snapshot"
    )


def run_io(
    lock: Lock, uses: set[Use], steps: Sequence[str], dialect: Dialect = BUILDX
) -> tuple[tuple[str, ...], str]:
    """The ``--mount`` flags and the prologue of a RUN of these kinds: the optional secrets
    and the steps' indexes, or for a vendored build the bundle's folders
    (:mod:`tritonlock.emit.vendored`)."""
    if dialect.vendored:
        return vendored.mounts(uses), vendored.prologue(uses)
    env = index_env(lock, *steps) if Use.PIP in uses else ""
    return mounts(uses), "; ".join(p for p in (prologue(uses), env) if p)


def index_env(lock: Lock, *steps: str) -> str:
    """Shell choosing the steps' indexes: the pip-conf secret if given, else the lock's URLs.
    Only a credential-free URL is ever written (a lock written by hand or by an older
    tritonlock may hold ``?token=…``); any other index needs the pip-conf secret."""
    names = sorted({w.index for w in lock.wheel if w.step in steps})
    step = ", ".join(steps)
    used = [ix for ix in lock.index if ix.name in names]
    urls = [ix.url for ix in used if ix.url and credential_free(ix.url)]
    hidden = [ix.name for ix in used if not (ix.url and credential_free(ix.url))]
    conf = f"{SECRETS_DIR}/pip-conf"
    out = []
    if urls:
        env = f"export PIP_INDEX_URL={shlex.quote(urls[0])}"
        if urls[1:]:
            env += f" PIP_EXTRA_INDEX_URL={shlex.quote(' '.join(urls[1:]))}"
        out.append(f"if [ ! -f {conf} ]; then {env}; fi")
    if hidden:
        msg = f"tritonlock: step {step} needs the pip-conf secret (index {hidden[0]})"
        out.append(f"if [ ! -f {conf} ]; then echo {shlex.quote(msg)} >&2; exit 1; fi")
    return "; ".join(out)
