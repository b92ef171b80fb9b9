"""Invariants of the emitter: no injection, same bytes for the same lock, no secret values."""

from __future__ import annotations

import os
from pathlib import Path

import dockerfile
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.fixtures.emit_world import REPOS, TARGETS, Values, make_lock, recipe
from tests.strategies import commits, digests, field_strings, locks
from tritonlock import lockfile
from tritonlock.emit import SecretSpec, emit
from tritonlock.emit.sources import mirror_key
from tritonlock.errors import TritonLockError
from tritonlock.upstream.shell import segments
from tritonlock.util.redact import credential_free

STAGES = ("tritonlock-", "--mount", "--network")


def structure(text: str) -> list[tuple[str, tuple[str, ...], int]]:
    """(instruction, flags without lock values, number of shell commands or exec words)."""
    out = []
    for c in dockerfile.parse_string(text):
        flags = tuple(
            f if f.startswith(STAGES) or "=tritonlock-" in f else f.split("=")[0] for f in c.flags
        )
        size = len(c.value) if c.json or c.cmd != "RUN" else len(segments(c.value[0]))
        out.append((c.cmd, flags, size))
    return out


def _s(path: str) -> st.SearchStrategy[str]:
    return field_strings(path)


@st.composite
def values(draw: st.DrawFn, snapshot: bool) -> Values:
    grpc = draw(_s("git.url"))
    abseil = draw(_s("git.url"))
    fixed = {mirror_key(f"https://github.com/triton-inference-server/{r}") for r in REPOS}
    assume(len({mirror_key(grpc), mirror_key(abseil)} | fixed) == len(fixed) + 2)
    ref, grpc_ref = draw(_s("git.ref")), draw(_s("git.ref"))
    versions = (draw(_s("wheel.version")), draw(_s("wheel.version")))
    return Values(
        commits=tuple(draw(st.lists(commits, min_size=8, max_size=8, unique=True))),
        refs=(ref,) * 6 + (grpc_ref,),
        grpc_url=grpc,
        abseil_url=abseil,
        submodule_path=draw(_s("git.submodules.path")),
        committed=draw(st.integers(0, 253402300799)),
        image_digest=draw(digests),
        frontend_digest=draw(digests),
        index_url=draw(_s("index.url")),
        versions=versions,
        file_hashes=(draw(digests),),
        url_hashes=tuple(draw(st.lists(digests, min_size=5, max_size=5, unique=True))),
        apt_version=draw(_s("apt.packages.version")),
        snapshot=draw(_s("apt.snapshot")) if snapshot else None,
        triton_version=draw(_s("release.*")),
    )


def _base(target: str, snap: bool, index_url: str) -> list[tuple[str, tuple[str, ...], int]]:
    values = Values(
        snapshot="20250101T000000Z" if snap else None,
        frontend_digest="sha256:" + "0" * 64,
        index_url=index_url,
    )
    return structure(emit(make_lock(target, values), recipe(target))["Dockerfile"].decode())


BASE = {
    (t, snap): _base(t, snap, "https://pypi.org/simple") for t in TARGETS for snap in (False, True)
}
# An index URL that is not credential-free is never written: the pip-conf secret is required.
HIDDEN = {
    (t, snap): _base(t, snap, "https://pypi.org/simple?token=x")
    for t in TARGETS
    for snap in (False, True)
}


def expected(target: str, snap: bool, index_url: str) -> list[tuple[str, tuple[str, ...], int]]:
    return (BASE if credential_free(index_url) else HIDDEN)[(target, snap)]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), target=st.sampled_from(TARGETS), snap=st.booleans())
def test_structure_is_the_same_whatever_the_values(
    data: st.DataObject, target: str, snap: bool
) -> None:
    lock = make_lock(target, data.draw(values(snap)))
    lockfile.validate_data(lock.to_dict())  # the schema accepts it
    out = emit(lock, recipe(target))
    assert structure(out["Dockerfile"].decode()) == expected(target, snap, lock.index[0].url or "")
    script = out["build.sh"].decode().splitlines()
    assert len(script) == 6 and script[-1].split(" exec ")[1].startswith("docker buildx build ")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(lock=locks(sealed=True))
def test_any_valid_lock_emits_or_refuses_in_one_line(lock: object) -> None:
    try:
        out = emit(lock, recipe("x86_64"))  # type: ignore[arg-type]
    except TritonLockError as err:
        assert "\n" not in str(err)
    else:
        assert out == emit(lock, recipe("x86_64"))  # type: ignore[arg-type]


@pytest.mark.parametrize("target", TARGETS)
def test_same_lock_gives_the_same_bytes(target: str) -> None:
    lock = make_lock(target)
    again = lockfile.loads(lockfile.dumps(lock))
    assert emit(lock, recipe(target)) == emit(again, recipe(target))


def test_a_changed_value_changes_the_output() -> None:
    a = emit(make_lock("x86_64"), recipe("x86_64"))
    b = emit(make_lock("x86_64", Values(apt_version="2.0-1")), recipe("x86_64"))
    assert a["Dockerfile"] != b["Dockerfile"]


def test_no_secret_value_reaches_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    value = "s3cr3t-T0KEN-value-9f8e7d"
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = https://user:{value}@pypi.example/simple\n")
    monkeypatch.setenv("TL_GIT_CONFIG", value)
    secrets = [
        SecretSpec(id="pip-conf", src=str(conf)),
        SecretSpec(id="git-config", env="TL_GIT_CONFIG"),
        SecretSpec(id="proxy-env", src=str(tmp_path / "proxy.env")),
    ]
    out = emit(make_lock(), recipe("x86_64"), secrets=secrets)
    for name, blob in out.items():
        assert value.encode() not in blob, name
    script = out["build.sh"].decode()
    assert f"--secret 'id=pip-conf,src={conf}'" in script or f"id=pip-conf,src={conf}" in script
    assert "id=git-config,env=TL_GIT_CONFIG" in script
    assert os.environ["TL_GIT_CONFIG"] == value


@pytest.mark.parametrize(
    "text",
    ["id=nope,src=/x", "id=pip-conf", "id=pip-conf,src=/a,env=B", "src=/a", "id=pip-conf,env=A-B"],
)
def test_bad_secret_specs_are_usage_errors(text: str) -> None:
    with pytest.raises(TritonLockError) as err:
        SecretSpec.parse(text)
    assert err.value.exit_code == 2


_hostile = st.text(
    st.sampled_from(";&|()'\"$`\\ <>*?~#{}=,")
    | st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ref=_hostile, apt=_hostile, index=_hostile, version=_hostile)
def test_quoting_holds_even_for_values_the_schema_would_refuse(
    ref: str, apt: str, index: str, version: str
) -> None:
    """Defence in depth: shell-bound values are quoted, so even hostile ones add no command."""
    v = Values(
        refs=(ref,) * 7,
        apt_version=apt,
        index_url=index,
        triton_version=version,
        frontend_digest="sha256:" + "0" * 64,
    )
    out = emit(make_lock("x86_64", v), recipe("x86_64"))
    assert structure(out["Dockerfile"].decode()) == expected("x86_64", False, index)
