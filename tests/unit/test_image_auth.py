"""Registry auth: challenge parsing and credential lookup (env, config.json, helpers)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tritonlock.errors import ResolveError
from tritonlock.sources import dockerauth
from tritonlock.sources.dockerauth import Credentials, env_var_for, from_config, lookup
from tritonlock.sources.registry import Challenge, parse_challenge


def test_parse_bearer_challenge() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/ubuntu:pull"'
    )
    assert parse_challenge(header) == Challenge(
        "bearer",
        {
            "realm": "https://auth.docker.io/token",
            "service": "registry.docker.io",
            "scope": "repository:library/ubuntu:pull",
        },
    )


def test_parse_basic_and_unquoted_challenges() -> None:
    assert parse_challenge('Basic realm="Registry Realm"') == Challenge(
        "basic", {"realm": "Registry Realm"}
    )
    assert parse_challenge("Bearer realm=https://x/token, service=x") == Challenge(
        "bearer", {"realm": "https://x/token", "service": "x"}
    )
    assert parse_challenge("") is None
    assert parse_challenge(None) is None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _no_helper(helper: str, server: str) -> str | None:
    raise AssertionError(f"no helper expected, got {helper} for {server}")


def test_credentials_repr_hides_secret() -> None:
    assert "hunter2" not in repr(Credentials("me", "hunter2"))


def test_from_config_auths_by_host_and_hub_aliases() -> None:
    config = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": _b64("hub:hubpw")},
            "nvcr.io": {"auth": _b64("$oauthtoken:nvapi-xyz")},
            "http://127.0.0.1:5000/v2/": {"username": "u", "password": "p"},
        }
    }
    assert from_config(config, "registry-1.docker.io", _no_helper) == Credentials("hub", "hubpw")
    assert from_config(config, "docker.io", _no_helper) == Credentials("hub", "hubpw")
    assert from_config(config, "nvcr.io", _no_helper) == Credentials("$oauthtoken", "nvapi-xyz")
    assert from_config(config, "127.0.0.1:5000", _no_helper) == Credentials("u", "p")
    assert from_config(config, "ghcr.io", _no_helper) is None


def test_from_config_helpers_win_and_store_is_the_fallback() -> None:
    calls: list[tuple[str, str]] = []

    def helper(name: str, server: str) -> str | None:
        calls.append((name, server))
        return json.dumps({"ServerURL": server, "Username": name, "Secret": "s-" + name})

    config = {
        "credHelpers": {"nvcr.io": "nv"},
        "credsStore": "desktop",
        "auths": {"nvcr.io": {"auth": _b64("ignored:x")}},
    }
    assert from_config(config, "nvcr.io", helper) == Credentials("nv", "s-nv")
    assert from_config(config, "docker.io", helper) == Credentials("desktop", "s-desktop")
    assert calls == [("nv", "nvcr.io"), ("desktop", "https://index.docker.io/v1/")]


def test_from_config_bad_auth_is_one_line_without_secret() -> None:
    with pytest.raises(ResolveError) as info:
        from_config(
            {"auths": {"nvcr.io": {"auth": _b64("no-colon-secret")}}}, "nvcr.io", _no_helper
        )
    assert "no-colon-secret" not in str(info.value)


def test_env_var_name() -> None:
    assert env_var_for("nvcr.io") == "TRITONLOCK_REGISTRY_AUTH_NVCR_IO"
    assert env_var_for("127.0.0.1:5000") == "TRITONLOCK_REGISTRY_AUTH_127_0_0_1_5000"


def test_lookup_order_env_then_docker_config_then_auth_file(tmp_path: Path) -> None:
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "config.json").write_text(
        json.dumps({"auths": {"nvcr.io": {"auth": _b64("cfg:cfgpw")}}})
    )
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {"ghcr.io": {"auth": _b64("gh:ghpw")}}}))
    env = {"DOCKER_CONFIG": str(docker_dir), "REGISTRY_AUTH_FILE": str(auth_file)}
    assert lookup("nvcr.io", env=env) == Credentials("cfg", "cfgpw")
    assert lookup("ghcr.io", env=env) == Credentials("gh", "ghpw")
    assert lookup("quay.io", env=env) is None
    env["TRITONLOCK_REGISTRY_AUTH_NVCR_IO"] = "envuser:env:pw"
    assert lookup("nvcr.io", env=env) == Credentials("envuser", "env:pw")


def test_lookup_reads_home_docker_config(isolated_env: Path) -> None:
    (isolated_env / ".docker").mkdir()
    (isolated_env / ".docker" / "config.json").write_text(
        json.dumps({"auths": {"127.0.0.1:5000": {"auth": _b64("h:hpw")}}})
    )
    assert lookup("127.0.0.1:5000") == Credentials("h", "hpw")


def test_lookup_runs_a_real_credential_helper(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker-credential-fake"
    script.write_text(
        "#!/bin/sh\nread server\n"
        'if [ "$1" = get ] && [ "$server" = nvcr.io ]; then\n'
        '  echo \'{"ServerURL":"nvcr.io","Username":"$oauthtoken","Secret":"nvapi-1"}\'\n'
        "else echo 'credentials not found in native keychain'; exit 1; fi\n"
    )
    script.chmod(0o755)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credsStore": "fake"}))
    env = {"DOCKER_CONFIG": str(tmp_path), "PATH": f"{bindir}:{os.environ['PATH']}"}
    os.environ["PATH"] = env["PATH"]
    assert lookup("nvcr.io", env=env) == Credentials("$oauthtoken", "nvapi-1")
    assert lookup("ghcr.io", env=env) is None


def test_missing_helper_and_broken_config_are_resolve_errors(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "not-installed-xyz"}))
    with pytest.raises(ResolveError, match="docker-credential-not-installed-xyz"):
        lookup("nvcr.io", env={"DOCKER_CONFIG": str(tmp_path)})
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ResolveError, match="not a readable docker config"):
        lookup("nvcr.io", env={"DOCKER_CONFIG": str(tmp_path)})
    with pytest.raises(ResolveError, match="helper name"):
        dockerauth.run_helper("../evil", "nvcr.io")


def test_identity_tokens_from_config_and_helpers_are_recognised() -> None:
    """`docker login` stores an OAuth2 refresh token as ``identitytoken``; helpers hand it
    out with the username ``<token>``. Plain passwords are never taken for one."""
    data = {"auths": {"acr.example": {"auth": "", "identitytoken": "rt-1"}}}
    creds = from_config(data, "acr.example", lambda _h, _s: None)
    assert creds is not None and creds.identity_token == "rt-1"
    helper = json.dumps({"Username": "<token>", "Secret": "rt-2"})
    creds = from_config({"credsStore": "x"}, "acr.example", lambda _h, _s: helper)
    assert creds is not None and creds.identity_token == "rt-2"
    assert Credentials("robot", "pw").identity_token is None
    assert "rt-1" not in repr(Credentials("<token>", "rt-1"))
