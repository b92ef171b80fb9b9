"""`update --only`: what is taken from the new resolve, what stays, and what the lock
remembers for the next `update` (organization, indexes, the user's requirements)."""

from __future__ import annotations

import pytest

from tritonlock.errors import ResolveError, UsageError
from tritonlock.model import (
    Commit,
    GitPin,
    Index,
    Inputs,
    Lock,
    Sha256,
    Unresolved,
    WheelFile,
    WheelPin,
)
from tritonlock.resolve.context import ResolveOptions
from tritonlock.resolve.merge import held, merge_only, parse_only
from tritonlock.resolve.update import (
    GivenAgain,
    indexes_of,
    organization_of,
    remember_sources,
    requirements_of,
)
from tritonlock.resolve.wheels import IndexSpec

ORG = "https://git.example/mirror/triton-inference-server"


def wheel(name: str, version: str, step: str = "final", requested: str | None = None) -> WheelPin:
    f = WheelFile(
        name=f"{name}-{version}-py3-none-any.whl", sha256=Sha256("sha256:" + "a" * 64), size=1
    )
    return WheelPin(
        step=step,
        image="base",
        name=name,
        version=version,
        index="pypi",
        files=(f,),
        requested=requested,
    )


def git(name: str, commit: str) -> GitPin:
    return GitPin(name=name, url=f"{ORG}/{name}.git", ref="r25.04", commit=Commit(commit * 40))


def lock(wheels: tuple[WheelPin, ...] = (), pins: tuple[GitPin, ...] = (), **kw: object) -> Lock:
    return Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        git=pins,
        wheel=wheels,
        index=(Index(name="pypi", url="https://pypi.org/simple"),),
        **kw,  # type: ignore[arg-type]
    )


def test_git_server_cannot_be_updated_alone() -> None:
    with pytest.raises(UsageError, match="server commit decides"):
        parse_only("git:server")
    assert parse_only("git:core") == ("git", "core")


def test_named_wheel_moves_new_dependency_added_dropped_one_removed_others_kept() -> None:
    old = lock((wheel("numpy", "1.26.4"), wheel("six", "1.16.0"), wheel("old-dep", "1.0")))
    new = lock(
        (
            wheel("numpy", "1.26.5"),
            wheel("six", "1.17.0"),  # drifted in the new resolve; not named: kept at 1.16.0
            wheel("new-dep", "2.0"),
        )
    )
    merged = merge_only(old, new, [("wheel", "numpy")])
    versions = {(w.name, w.version) for w in merged.wheel}
    assert versions == {("numpy", "1.26.5"), ("six", "1.16.0"), ("new-dep", "2.0")}


def test_wheels_are_matched_per_install_step() -> None:
    old = lock((wheel("six", "1.16.0", "buildbase"), wheel("six", "1.15.0", "final")))
    new = lock((wheel("six", "1.16.0", "buildbase"), wheel("six", "1.17.0", "final")))
    merged = merge_only(old, new, [("wheel", "six")])
    assert {(w.step, w.version) for w in merged.wheel} == {
        ("buildbase", "1.16.0"),
        ("final", "1.17.0"),
    }


def test_held_wheels_are_every_wheel_not_named() -> None:
    old = lock((wheel("numpy", "1.26.4"), wheel("six", "1.16.0", "buildbase")))
    assert [w.name for w in held(old, [("wheel", "numpy"), ("git", "core")])] == ["six"]


def test_a_named_entry_the_new_resolve_lacks_is_an_error_with_its_reason() -> None:
    old = lock((wheel("numpy", "1.26.4"),))
    why = "step 'final': numpy==9 has no file for cp312"
    new = lock(unresolved=(Unresolved(kind="wheel", what="python requirements", why=why),))
    with pytest.raises(ResolveError, match="numpy==9 has no file"):
        merge_only(old, new, [("wheel", "numpy")])


def test_a_name_in_neither_lock_is_a_usage_error() -> None:
    old = lock(pins=(git("core", "a"),))
    with pytest.raises(UsageError, match="no such entry"):
        merge_only(old, old, [("git", "nonesuch")])


def test_git_takes_only_the_named_repo() -> None:
    old = lock(pins=(git("server", "a"), git("core", "b"), git("common", "c")))
    new = lock(pins=(git("server", "d"), git("core", "e"), git("common", "f")))
    merged = merge_only(old, new, [("git", "core")])
    assert {p.name: p.commit[0] for p in merged.git} == {"server": "a", "core": "e", "common": "c"}


def test_the_organization_is_the_folder_of_the_server_url() -> None:
    assert organization_of(lock(pins=(git("server", "a"),))) == ORG
    assert organization_of(lock(pins=(git("core", "a"),))) is None


def test_indexes_primary_first_and_refused_without_url() -> None:
    both = Lock(
        inputs=Inputs(release="25.04", target="igpu"),
        index=(
            Index(name="jetson", url="https://pypi.jetson/simple"),
            Index(name="pypi", url="http://127.0.0.1:9/simple"),
        ),
    )
    specs = indexes_of(both)
    assert specs is not None
    assert [(s.name, s.url, s.extra) for s in specs] == [
        ("pypi", "http://127.0.0.1:9/simple", False),
        ("jetson", "https://pypi.jetson/simple", True),
    ]
    secret = Lock(inputs=both.inputs, index=(Index(name="pypi", url=None),))
    with pytest.raises(UsageError, match="records no URL"):
        indexes_of(secret)
    assert indexes_of(Lock(inputs=both.inputs)) is None


def test_only_extra_indexes_keep_pypi_as_primary() -> None:
    only_extra = Lock(
        inputs=Inputs(release="25.04", target="igpu"),
        index=(Index(name="jetson", url="https://pypi.jetson/simple"),),
    )
    specs = indexes_of(only_extra)
    assert specs is not None
    assert [s.name for s in specs] == ["pypi", "jetson"]


def test_the_users_own_requirements_are_remembered_as_asked() -> None:
    old = lock(
        (
            wheel("requests", "2.32.3", "user", requested="requests<3"),
            wheel("idna", "3.10", "user"),  # a dependency, not asked for
            wheel("numpy", "1.26.4", "final", requested="numpy<2"),  # upstream's
        )
    )
    assert requirements_of(old) == ("requests<3",)


def test_update_takes_from_the_lock_only_the_sources_not_given_again() -> None:
    old = lock(
        (wheel("requests", "2.32.3", "user", requested="requests<3"),), (git("server", "a"),)
    )
    asked = ResolveOptions(
        organization="https://git.example/other",
        indexes=(IndexSpec(name="pypi", url="https://idx.example/simple"),),
        requirements=("six",),
    )
    kept = remember_sources(asked, old, GivenAgain())
    assert (kept.organization, kept.requirements, kept.previous) == (ORG, ("requests<3",), old)
    assert [i.url for i in kept.indexes] == ["https://pypi.org/simple"]
    every = GivenAgain(organization=True, indexes=True, requirements=True)
    given = remember_sources(asked, old, every)
    assert (given.organization, given.indexes, given.requirements) == (
        asked.organization,
        asked.indexes,
        asked.requirements,
    )


def test_a_name_missing_from_a_partial_lock_points_to_a_full_update() -> None:
    why = "vllm==0.8.1 has no file for cp312 aarch64"
    pending = Unresolved(kind="wheel", what="python requirements of step final-vllm", why=why)
    old = lock((wheel("numpy", "1.26.4"),), unresolved=(pending,))
    with pytest.raises(UsageError) as err:
        merge_only(old, old, [("wheel", "vllm")])
    text = str(err.value)
    assert "no such entry" in text and "'python requirements of step final-vllm'" in text
    assert "without --only" in text and "\n" not in text
