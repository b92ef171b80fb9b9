"""Unresolved reasons never carry a mirror's location: two mirrors give the same lock."""

from __future__ import annotations

from tritonlock.model import Inputs
from tritonlock.resolve.context import Ctx as _Ctx
from tritonlock.resolve.context import ResolveOptions


def _ctx(**opts: object) -> _Ctx:
    return _Ctx(
        inputs=Inputs(release="25.04", target="igpu"),
        opts=ResolveOptions(**opts),  # type: ignore[arg-type]
        say=lambda _m: None,
        notes=lambda _m: None,
    )


def test_mirror_locations_are_replaced_by_what_they_mirror() -> None:
    why = (
        "opentelemetry-proto: cannot list 'v1.0.0' of https://github.com/open-telemetry/"
        "opentelemetry-proto.git via mirror git://127.0.0.1:15877/open-telemetry"
    )
    reasons = []
    for port in (15877, 40001):
        ctx = _ctx(
            git_mirrors=(
                ("https://github.com/open-telemetry", f"git://127.0.0.1:{port}/open-telemetry"),
            )
        )
        ctx.unresolve("git", "opentelemetry-cpp", why.replace("15877", str(port)))
        (entry,) = ctx.unresolved
        assert "127.0.0.1" not in entry.why
        reasons.append(entry.why)
    assert reasons[0] == reasons[1]
    assert reasons[0].endswith("via mirror <mirror of https://github.com/open-telemetry>")


def test_registry_url_and_apt_mirrors_are_scrubbed_too() -> None:
    ctx = _ctx(
        registry_mirrors=(("nvcr.io", "127.0.0.1:5000/nvcr"),),
        url_mirrors=(("https://archives.boost.io/", "http://127.0.0.1:8080/boost/"),),
        apt_base="http://127.0.0.1:9000",
    )
    ctx.unresolve("image", "base", "127.0.0.1:5000/nvcr/tritonserver: 404")
    ctx.unresolve("url", "boost", "http://127.0.0.1:8080/boost/x.tar.gz: 500")
    ctx.unresolve("apt", "apt packages", "http://127.0.0.1:9000/ubuntu/x/InRelease: 404")
    assert all("127.0.0.1" not in u.why for u in ctx.unresolved)


def test_a_mirror_with_credentials_is_scrubbed_as_the_message_shows_it() -> None:
    mirror = "http://u:S3C%2FR@ET@127.0.0.1:9/git"
    ctx = _ctx(git_mirrors=(("https://github.com/org", mirror),))
    shown = "http://***@127.0.0.1:9/git"  # how every message spells it
    ctx.unresolve("git", "lib", f"lib: cannot list 'v1' via mirror {shown}/lib.git: 401")
    ctx.unresolve("git", "raw", f"raw: fetch from {mirror}/raw.git failed")
    whys = [u.why for u in ctx.unresolved]
    assert (
        whys[0]
        == "lib: cannot list 'v1' via mirror <mirror of https://github.com/org>/lib.git: 401"
    )
    assert all("S3C" not in w and "127.0.0.1" not in w and "***" not in w for w in whys), whys
