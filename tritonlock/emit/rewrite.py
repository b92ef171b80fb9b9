"""Rewriting the floating commands of one RUN: pip, apt, wget/curl and git clone.

Each rewriter takes a parsed :class:`~tritonlock.upstream.shell.Command` and returns its
pinned replacement (quoted shell) or None when the command holds no floating input.
A floating input the lock does not pin raises :class:`EmitError` naming it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from shlex import join
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..model import Lock, UrlPin
from ..upstream.shell import Command
from .downloads import fetch_lines, local_path
from .errors import EmitError
from .secrets import Use
from .sources import GIT_ROOT, mirror_key, mirror_url

REQ_DIR = "/tritonlock/requirements"

_PIP = re.compile(r"^pip(3(\.[0-9]+)?)?$")
_PYTHON = re.compile(r"^python(3(\.[0-9]+)?)?$")
_LOCAL = re.compile(r"^([A-Za-z0-9_./*+-]+|\{\})$")
_XARGS_VALUE = frozenset({"-I", "-n", "-P", "-L", "-d", "-s", "-a", "-E"})
_PIP_KEEP = frozenset(
    [
        "--break-system-packages",
        "--no-cache-dir",
        "--user",
        "--upgrade",
        "-U",
        "--force-reinstall",
        "--ignore-installed",
        "-I",
        "--no-warn-script-location",
        "-q",
        "--quiet",
        "-v",
        "--verbose",
        "--no-compile",
        "--disable-pip-version-check",
    ]
)
_PIP_KEEP_VALUE = frozenset({"--target", "-t", "--prefix", "--root", "--root-user-action"})
_PIP_DROP = frozenset({"--no-deps", "--pre", "--no-build-isolation", "--no-index"})
_PIP_DROP_VALUE = frozenset(
    [
        "--index-url",
        "-i",
        "--extra-index-url",
        "--find-links",
        "-f",
        "--trusted-host",
        "--constraint",
        "-c",
        "--upgrade-strategy",
    ]
)
_APT_VALUE = frozenset({"-o", "--option", "-t", "--target-release", "-c", "--config-file"})
_GIT_CLONE_VALUE = frozenset(
    [
        "-b",
        "--branch",
        "--depth",
        "-o",
        "--origin",
        "-c",
        "--config",
        "--reference",
        "--separate-git-dir",
        "-j",
        "--jobs",
        "--filter",
        "--shallow-since",
        "--template",
        "-u",
        "--upload-pack",
    ]
)


@dataclass(slots=True)
class StageState:
    """What the current stage already has, and what the current RUN needs before it."""

    step: str
    allow_git: bool
    add_checksum: bool = True
    vendored: bool = False  # every input from the bundle (tritonlock.emit.vendored)
    needs_reqs: bool = False
    needs_git: bool = False
    needs_apt: bool = False
    added: set[str] = field(default_factory=set)
    before: list[str] = field(default_factory=list)
    before_pip: list[str] = field(default_factory=list)
    uses: set[Use] = field(default_factory=set)
    pip_steps: set[str] = field(default_factory=set)
    # the lock's step names for the pip installs of the current RUN (from the planner),
    # those its commands took so far, and those of them with wheels (installed)
    pip_candidates: tuple[str, ...] = ()
    claimed: list[str] = field(default_factory=list)
    run_steps: list[str] = field(default_factory=list)
    # how often the current command runs: 1, or per word of the `for` loops around it
    # (None: a loop over words tritonlock cannot know)
    runs: int | None = 1


class Rewriter:
    """Rewrites commands of one recipe file (one pip/apt step) against a lock."""

    def __init__(self, lock: Lock, state: StageState, where: str) -> None:
        self.lock = lock
        self.state = state
        self.where = where

    def rewrite(self, cmd: Command) -> str | None:
        if cmd.name == "xargs":
            return self.xargs(cmd)
        name = cmd.name
        if _PIP.match(name) or (_PYTHON.match(name) and cmd.words[1:3] == ("-m", "pip")):
            return self.pip(cmd)
        if name in ("apt-get", "apt") and "install" in cmd.words[1:2]:
            return self.apt(cmd)
        if name in ("apt-get", "apt") and self.state.vendored:
            self.state.uses.add(Use.APT)  # update, upgrade …: the bundle's repository only
            return cmd.render(join(cmd.words))
        if name in ("wget", "curl"):
            return self.download(cmd)
        if name == "git" and cmd.words[1:2] == ("clone",):
            return self.git_clone(cmd)
        if name in ("yum", "dnf", "microdnf", "conda", "mamba"):
            raise EmitError(
                f"{self.where}: `{name}` installs are not supported by tritonlock build"
            )
        return None

    def fail(self, what: str) -> EmitError:
        return EmitError(f"{self.where}: {what}")

    def xargs(self, cmd: Command) -> str | None:
        """``xargs … pip install {}``: the inner command is rewritten, the hashed set goes first."""
        i = 1
        while i < len(cmd.words) and cmd.words[i].startswith("-"):
            i += 2 if cmd.words[i] in _XARGS_VALUE else 1
        inner = Command(cmd.words[i:])
        if not inner.words:
            return None
        new = self.rewrite(inner)
        if new is None:
            return None
        if " && " in new:
            raise self.fail("xargs with a command tritonlock must split is not supported")
        return cmd.render(f"{join(cmd.words[:i])} {new.strip()}")

    # pip ------------------------------------------------------------------------------
    def pip(self, cmd: Command) -> str | None:
        head = 1 if _PIP.match(cmd.name) else 3
        if cmd.words[head : head + 1] != ("install",):
            return None
        keep, names, locals_, req_files = self._pip_args(cmd.words[head + 1 :])
        prefix = join(cmd.words[:head])
        hashed = [
            self._hashed(prefix, keep, names, locals_, req_files)
            for _ in range(self._runs(locals_))
        ]
        parts = [h for h in dict.fromkeys(hashed) if h]
        if "{}" in locals_:  # xargs: each wheel's hashed set is installed before the RUN
            self.state.before_pip += parts
            parts = []
        if locals_:
            parts.append(
                f"{prefix} install {join([*keep, '--no-deps', '--no-index'])} {' '.join(locals_)}"
            )
        return cmd.render(" && ".join(parts) if parts else "true")

    def _runs(self, locals_: list[str]) -> int:
        """How many of the RUN's steps this install takes: one per run, and a loop runs it
        once per word; then it must install the wheels xargs gives it (``{}``)."""
        runs = self.state.runs
        if runs is None:
            raise self.fail("pip install in a `for` loop over words known only when it runs")
        if runs > 1 and "{}" not in locals_:
            raise self.fail("pip install in a `for` loop is supported only as `xargs … {}`")
        return runs

    def _hashed(
        self, prefix: str, keep: list[str], names: list[str], locals_: list[str], req_files: int
    ) -> str | None:
        """The hashed install of the step this install takes, None if it has no wheels."""
        step = self._pip_step(names)
        self.state.claimed.append(step)
        pinned = self._pinned(step)
        for n in names:
            if n not in pinned:
                raise self.fail(
                    f"pip install of {n!r} is not pinned by the lock (no wheel {n!r} in step "
                    f"{step!r}); re-resolve the lock"
                )
        if (names or req_files) and not pinned:
            raise self.fail(f"pip install: the lock has no wheels for step {step!r}")
        if not pinned or not (names or req_files or locals_):
            return None
        self.state.needs_reqs = True
        self.state.pip_steps.add(step)
        if step not in self.state.run_steps:
            self.state.run_steps.append(step)
        self.state.uses.add(Use.PIP)
        return (
            f"{prefix} install {join([*keep, '--require-hashes', '--no-deps', '-r'])} "
            f"{shlex.quote(f'{REQ_DIR}/{step}.txt')}"
        )

    def _pinned(self, step: str) -> set[str]:
        return {w.name for w in self.lock.wheel if w.step == step}

    def _pip_step(self, names: list[str]) -> str:
        """The lock's step of this install: the planner's step for this instruction (the
        one whose wheels hold every named requirement, else the first with wheels), or the
        stage's step when the lock names its steps by stage."""
        st = self.state
        free = [s for s in st.pip_candidates if s not in st.claimed] or list(st.pip_candidates)
        if not free:
            return st.step
        with_wheels = [s for s in free if self._pinned(s)]
        if not with_wheels and self._pinned(st.step):
            return st.step  # a lock naming its steps by stage (written by hand)
        fits = [s for s in with_wheels if names and set(names) <= self._pinned(s)]
        return (fits or with_wheels or free)[0]

    def _pip_args(self, args: tuple[str, ...]) -> tuple[list[str], list[str], list[str], int]:
        keep: list[str] = []
        names: list[str] = []
        locals_: list[str] = []
        req_files = 0
        it = iter(args)
        for a in it:
            opt = a.split("=", 1)[0]
            if a in _PIP_KEEP:
                keep.append(a)
            elif opt in _PIP_KEEP_VALUE:
                keep += [a] if "=" in a else [a, next(it, "")]
            elif a in _PIP_DROP:
                continue
            elif opt in _PIP_DROP_VALUE:
                if "=" not in a:
                    next(it, "")
            elif a in ("-r", "--requirement") or opt == "--requirement":
                path = a.split("=", 1)[1] if "=" in a else next(it, "")
                self._literal(path, "pip requirements file")
                req_files += 1
            elif a.startswith("-"):
                raise self.fail(f"pip install option {a!r} is not supported by tritonlock build")
            else:
                self._literal(a, "pip requirement")
                if a.endswith(".whl") or "/" in a or ".whl[" in a or a.startswith("{}"):
                    locals_.append(self._local_wheel(a))
                else:
                    names.append(self._req_name(a))
        return keep, names, locals_, req_files

    def _literal(self, text: str, what: str) -> None:
        if "$" in text or "`" in text:
            raise self.fail(f"{what} {text!r} is held in a variable; tritonlock cannot pin it")

    def _local_wheel(self, text: str) -> str:
        path = text.split("[", 1)[0]
        if not _LOCAL.match(path):
            raise self.fail(f"local wheel path {text!r} has characters tritonlock does not pass on")
        return path

    def _req_name(self, text: str) -> str:
        try:
            return canonicalize_name(Requirement(text).name)
        except InvalidRequirement:
            raise self.fail(f"pip requirement {text!r} cannot be parsed") from None

    # apt ------------------------------------------------------------------------------
    def apt(self, cmd: Command) -> str:
        opts: list[str] = []
        pkgs: list[str] = []
        it = iter(cmd.words[2:])
        for a in it:
            if a in _APT_VALUE:
                opts += [a, next(it, "")]
            elif a.startswith("-"):
                opts.append(a)
            elif a.startswith(("./", "/")) and a.endswith(".deb"):
                pkgs.append(a)
            else:
                self._literal(a, "apt package")
                pkgs.append(self._apt_pin(re.split(r"[=:]", a, maxsplit=1)[0]))
        self.state.uses.add(Use.APT if self.state.vendored else Use.NETWORK)
        self.state.needs_apt = True
        if "--allow-downgrades" not in opts:
            opts.append("--allow-downgrades")
        return cmd.render(join([*cmd.words[:2], *opts, *pkgs]))

    def _apt_pin(self, name: str) -> str:
        apt = self.lock.apt
        for p in apt.packages if apt else ():
            if p.step == self.state.step and p.name == name:
                return f"{p.name}={p.version}"
        if apt is not None and apt.snapshot is not None:
            return name
        raise self.fail(
            f"apt package {name!r} is not pinned by the lock (no version in step "
            f"{self.state.step!r} and no apt snapshot); re-resolve the lock"
        )

    # wget / curl ----------------------------------------------------------------------
    def download(self, cmd: Command) -> str | None:
        urls = [w for w in cmd.words[1:] if w.startswith(("http://", "https://", "ftp://"))]
        if not urls:
            for w in cmd.words[1:]:
                if not w.startswith("-"):
                    self._literal(w, f"{cmd.name} argument")
            return None
        if len(urls) > 1:
            raise self.fail(f"{cmd.name} with several URLs is not supported; split it")
        pin = self._url_pin(urls[0])
        src = self._add(pin)
        dest = _download_dest(cmd, urls[0])
        if dest is None or dest == "-":
            return cmd.render(f"cat {shlex.quote(src)}")
        self._literal(dest, f"{cmd.name} output")
        return cmd.render(f"cp {shlex.quote(src)} {shlex.quote(dest)}")

    def _url_pin(self, url: str) -> UrlPin:
        for u in self.lock.url:
            if u.url == url:
                return u
        raise self.fail(f"download {url} is not pinned by the lock (no [[url]]); re-resolve")

    def _add(self, pin: UrlPin) -> str:
        dest = local_path(pin)
        if dest not in self.state.added:
            self.state.added.add(dest)
            script = "fetch-script" not in self.state.added
            self.state.added.add("fetch-script")
            self.state.before += fetch_lines(
                pin,
                add_checksum=self.state.add_checksum,
                with_script=script,
                vendored=self.state.vendored,
            )
        return dest

    # git clone ------------------------------------------------------------------------
    def git_clone(self, cmd: Command) -> str:
        words = list(cmd.words)
        i = 2
        while i < len(words):
            a = words[i]
            if a in _GIT_CLONE_VALUE:
                i += 2
                continue
            if a.startswith("-"):
                i += 1
                continue
            break
        if i >= len(words):
            return cmd.render(join(words))
        url = words[i]
        self._literal(url, "git clone URL")
        known = {mirror_key(g.url) for g in self.lock.git}
        known |= {mirror_key(s.url) for g in self.lock.git for s in g.submodules}
        if mirror_key(url) not in known:
            raise self.fail(f"git clone of {url} is not pinned by the lock; re-resolve")
        if not self.state.allow_git:
            raise self.fail(
                f"git clone of {url} in this file is not supported (it is built before "
                f"the mirrors under {GIT_ROOT} exist)"
            )
        self.state.needs_git = True
        words[i] = mirror_url(url)
        return cmd.render(join(words))


def _download_dest(cmd: Command, url: str) -> str | None:
    """Where wget/curl would write ``url``: a path, ``-`` or None for stdout."""
    base = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "index.html"
    words = cmd.words[1:]
    out, remote = ("O", None) if cmd.name == "wget" else ("o", "O")
    long_out = "--output-document" if cmd.name == "wget" else "--output"
    for k, w in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else None
        if w == long_out or (w.startswith("-") and not w.startswith("--") and w.endswith(out)):
            return nxt
        if w.startswith(long_out + "="):
            return w.split("=", 1)[1]
        if w.startswith("-") and not w.startswith("--") and out in w:
            return w[w.index(out) + 1 :]  # -O- / -qOfile / -ofile
        if remote and (w == "--remote-name" or (w[:1] == "-" and w[1:2] != "-" and remote in w)):
            return base
        if cmd.name == "wget" and w in ("-P", "--directory-prefix") and nxt is not None:
            return f"{nxt.rstrip('/')}/{base}"
    return base if cmd.name == "wget" else None
