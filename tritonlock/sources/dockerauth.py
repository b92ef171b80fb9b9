"""Registry credentials the way docker finds them, plus one environment variable.

Order: ``TRITONLOCK_REGISTRY_AUTH_<HOST>`` (``user:secret``; the host upper-cased with every
non-alphanumeric character as ``_``, e.g. ``TRITONLOCK_REGISTRY_AUTH_NVCR_IO``), then
``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``: ``credHelpers``,
``auths``, ``credsStore``), then ``$REGISTRY_AUTH_FILE`` (the containers auth.json).
Secrets never appear in a repr, a message or a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tritonlock.errors import ResolveError
from tritonlock.sources.imageref import DOCKER_HUB, normalize_registry
from tritonlock.util import procs

HUB_SERVER = "https://index.docker.io/v1/"

# (helper name, server URL) → the helper's stdout; raises ResolveError when it fails.
HelperRunner = Callable[[str, str], str | None]


IDENTITY_TOKEN_USER = "<token>"  # docker's username for an OAuth2 refresh (identity) token


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    @property
    def identity_token(self) -> str | None:
        """The OAuth2 refresh token `docker login` stored (ACR, Harbor OIDC …), if this is one."""
        return self.password if self.username == IDENTITY_TOKEN_USER else None


def env_var_for(host: str) -> str:
    return "TRITONLOCK_REGISTRY_AUTH_" + re.sub(r"[^A-Za-z0-9]", "_", host).upper()


def server_url(host: str) -> str:
    """What docker passes to a credential helper for ``host``."""
    return HUB_SERVER if normalize_registry(host) == DOCKER_HUB else host


def _entry_host(key: str) -> str:
    """``https://index.docker.io/v1/`` → ``registry-1.docker.io``; ``host:5000`` stays."""
    key = re.sub(r"^[a-z]+://", "", key.strip())
    return normalize_registry(key.split("/", 1)[0])


def run_helper(helper: str, server: str) -> str | None:
    """``docker-credential-<helper> get``; None when it has nothing for ``server``."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", helper):
        raise ResolveError(f"credential helper name {helper!r} in docker config is not valid")
    try:
        done = procs.run([f"docker-credential-{helper}", "get"], input=server.encode(), timeout=30)
    except FileNotFoundError:
        raise ResolveError(
            f"docker-credential-{helper} (named in docker config for {server}) is not on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise ResolveError(f"docker-credential-{helper} get timed out for {server}") from None
    if done.returncode != 0:
        return None  # "credentials not found in native keychain"
    return done.stdout.decode("utf-8", "replace")


def _from_helper(helper: str, host: str, run: HelperRunner) -> Credentials | None:
    out = run(helper, server_url(host))
    if not out:
        return None
    try:
        data = json.loads(out)
        user, secret = str(data["Username"]), str(data["Secret"])
    except (ValueError, KeyError, TypeError):
        raise ResolveError(
            f"docker-credential-{helper} gave unreadable output for {host}"
        ) from None
    return Credentials(user, secret) if secret else None


def _from_auth_entry(entry: Mapping[str, Any], host: str) -> Credentials | None:
    if entry.get("identitytoken"):
        return Credentials(IDENTITY_TOKEN_USER, str(entry["identitytoken"]))
    if entry.get("username") and entry.get("password"):
        return Credentials(str(entry["username"]), str(entry["password"]))
    auth = entry.get("auth")
    if not auth:
        return None
    try:
        user, sep, secret = base64.b64decode(str(auth), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep = ""
    if not sep:
        raise ResolveError(
            f"the docker config's auth entry for {host} is not base64 of user:secret"
        )
    return Credentials(user, secret)


def from_config(data: Mapping[str, Any], host: str, run: HelperRunner) -> Credentials | None:
    """Credentials for ``host`` from one parsed docker config (or containers auth.json)."""
    host = normalize_registry(host)
    helpers = data.get("credHelpers") or {}
    for key, helper in helpers.items():
        if _entry_host(key) == host:
            return _from_helper(str(helper), host, run)
    for key, entry in (data.get("auths") or {}).items():
        if _entry_host(key) == host and isinstance(entry, Mapping):
            creds = _from_auth_entry(entry, host)
            if creds:
                return creds
    store = data.get("credsStore")
    return _from_helper(str(store), host, run) if store else None


def config_paths(env: Mapping[str, str]) -> list[Path]:
    home = Path(env.get("HOME") or Path.home())
    docker_dir = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else home / ".docker"
    paths = [docker_dir / "config.json"]
    if env.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(env["REGISTRY_AUTH_FILE"]))
    return paths


def _read_config(path: Path) -> Mapping[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise ResolveError(
            f"{path}: not a readable docker config (JSON); fix or remove it"
        ) from None
    return data if isinstance(data, Mapping) else None


def lookup(
    host: str, *, env: Mapping[str, str] | None = None, run: HelperRunner = run_helper
) -> Credentials | None:
    """Credentials for a registry host (``host[:port]``), or None to go anonymous."""
    env = os.environ if env is None else env
    value = env.get(env_var_for(normalize_registry(host)))
    if value:
        user, sep, secret = value.partition(":")
        if not sep:
            raise ResolveError(f"{env_var_for(normalize_registry(host))} must be user:secret")
        return Credentials(user, secret)
    for path in config_paths(env):
        data = _read_config(path)
        creds = from_config(data, host, run) if data else None
        if creds:
            return creds
    return None
