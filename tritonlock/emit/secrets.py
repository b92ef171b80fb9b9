"""Build-time secrets: a small fixed vocabulary, mounted only with ``RUN --mount=type=secret``.

A :class:`SecretSpec` names a secret and where the *builder* reads it from (a file
or an environment variable of the process that runs ``build.sh``). Its value never
passes through tritonlock, so it can never reach the Dockerfile, a layer or history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..errors import UsageError

SECRETS_DIR = "/run/secrets"


class Use(StrEnum):
    """Where a secret is mounted: which kind of emitted RUN needs it."""

    GIT = "git"
    PIP = "pip"
    NETWORK = "network"
    APT = "apt"  # an apt command of a vendored build (it reads the bundle's flat repository)


# id -> (what it is, the RUNs that mount it)
KNOWN: dict[str, tuple[str, frozenset[Use]]] = {
    "git-config": (
        "a gitconfig for the sources stage (mirror insteadOf rules, credential helper)",
        frozenset({Use.GIT}),
    ),
    "pip-conf": (
        "a pip.conf (private or mirror index URLs with tokens, e.g. NVIDIA or a vLLM index)",
        frozenset({Use.PIP}),
    ),
    "proxy-env": (
        "a shell file exporting http_proxy/https_proxy/no_proxy",
        frozenset({Use.GIT, Use.PIP, Use.NETWORK}),
    ),
}

_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretSpec:
    """A secret by id, and where the builder takes it from: ``src`` (a file) or ``env``."""

    id: str
    src: str | None = None
    env: str | None = None

    def __post_init__(self) -> None:
        if self.id not in KNOWN:
            raise UsageError(
                f"secret {self.id!r}: unknown id; use one of {', '.join(sorted(KNOWN))}"
            )
        if (self.src is None) == (self.env is None):
            raise UsageError(f"secret {self.id!r}: give exactly one of src=FILE or env=NAME")
        if self.env is not None and not _ENV.match(self.env):
            raise UsageError(f"secret {self.id!r}: env must be an environment variable name")
        if self.src is not None and ("," in self.src or "\n" in self.src or not self.src):
            raise UsageError(f"secret {self.id!r}: src must be a file path without commas")

    def flag(self) -> str:
        """The value of ``--secret`` for buildx and buildah."""
        where = f"src={self.src}" if self.src is not None else f"env={self.env}"
        return f"id={self.id},{where}"

    @classmethod
    def parse(cls, text: str) -> SecretSpec:
        """``id=ID,src=FILE`` or ``id=ID,env=NAME`` (the docker ``--secret`` syntax)."""
        fields: dict[str, str] = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if not sep or key not in ("id", "src", "env") or key in fields:
                raise UsageError(f"--secret {text!r}: expected id=ID,src=FILE or id=ID,env=NAME")
            fields[key] = value
        if "id" not in fields:
            raise UsageError(f"--secret {text!r}: id=ID is missing")
        return cls(id=fields["id"], src=fields.get("src"), env=fields.get("env"))


def _ids(uses: Use | Iterable[Use]) -> list[str]:
    wanted = {uses} if isinstance(uses, Use) else set(uses)
    return [sid for sid, (_, where) in sorted(KNOWN.items()) if where & wanted]


def mounts(uses: Use | Iterable[Use]) -> tuple[str, ...]:
    """``--mount`` flags for every known secret a RUN of these kinds may use (all optional)."""
    return tuple(f"--mount=type=secret,id={sid},required=false" for sid in _ids(uses))


def prologue(uses: Use | Iterable[Use]) -> str:
    """Shell that wires the optional secrets of a RUN in, without printing them."""
    parts = []
    ids = set(_ids(uses))
    if "proxy-env" in ids:
        parts.append(f"if [ -f {SECRETS_DIR}/proxy-env ]; then . {SECRETS_DIR}/proxy-env; fi")
    if "git-config" in ids:
        parts.append(
            f"if [ -f {SECRETS_DIR}/git-config ]; then "
            f"export GIT_CONFIG_GLOBAL={SECRETS_DIR}/git-config; fi"
        )
    if "pip-conf" in ids:
        parts.append(
            f"if [ -f {SECRETS_DIR}/pip-conf ]; then "
            f"export PIP_CONFIG_FILE={SECRETS_DIR}/pip-conf; fi"
        )
    return "; ".join(parts)
