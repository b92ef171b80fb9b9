"""`verify --deep` for apt pins, judged against a fake source: versions gone, packages gone,
packages the recipe added, a stale recipe, an unreachable archive."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tritonlock.commands.verify import deep_options, register
from tritonlock.model import Apt, AptPin, Inputs, Lock
from tritonlock.resolve.aptplan import apt_base
from tritonlock.sources.apt import AptRequest
from tritonlock.sources.debian import PackageEntry
from tritonlock.sources.hosts import UBUNTU_SNAPSHOTS
from tritonlock.verify.apt import AptAnswer, offered_versions
from tritonlock.verify.deep import DeepReport, Unavailable, check_apt, plan, run_checks

SNAP = "20250415T000000Z"
CMAKE = "3.28.3-0kitware1ubuntu24.04.1"
PINS = (
    AptPin(step="buildbase", name="cmake", version=CMAKE),
    AptPin(step="buildbase", name="datacenter-gpu-manager", version="1:3.3.6"),
    AptPin(step="final", name="python3", version="3.12.3-0ubuntu2"),
)
INSTALLS: dict[tuple[str, str], str | None] = {
    ("buildbase", "cmake"): "3.28.3*",
    ("buildbase", "datacenter-gpu-manager"): "1:3.3.6",
    ("final", "python3"): None,
}
OFFERED: dict[tuple[str, str], tuple[str, ...]] = {
    ("buildbase", "cmake"): (CMAKE, "3.31.6-0kitware1ubuntu24.04.1"),
    ("buildbase", "datacenter-gpu-manager"): ("1:3.3.5", "1:3.3.6", "1:3.3.9"),
    ("final", "python3"): ("3.12.3-0ubuntu1", "3.12.3-0ubuntu2"),
}


@dataclass
class FakeApt:
    """Answers ``apt`` from an AptAnswer (or raises Unavailable); records each question."""

    answer: AptAnswer | None = None
    asked: list[Lock] = field(default_factory=list)

    def apt(self, lock: Lock) -> AptAnswer:
        self.asked.append(lock)
        if self.answer is None:
            raise Unavailable("apt repository http://127.0.0.1:9/ubuntu noble: connection refused")
        return self.answer


def make_lock(pins: tuple[AptPin, ...] = PINS, snapshot: str | None = SNAP) -> Lock:
    """Only apt pins: the other kinds have their own tests (tests/unit/test_deep.py)."""
    return Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        apt=Apt(snapshot=snapshot, packages=pins),
    )


def answer(
    changed: dict[tuple[str, str], tuple[str, ...]] | None = None,
    installs: dict[tuple[str, str], str | None] | None = None,
) -> AptAnswer:
    """The healthy answer, with ``changed`` offers and, if given, other recipe installs."""
    offered = OFFERED | (changed or {})
    return AptAnswer(installs=INSTALLS if installs is None else installs, offered=offered)


def deep(lock: Lock, src: FakeApt) -> DeepReport:
    return run_checks(plan(lock), src)  # type: ignore[arg-type]


def test_one_apt_check_for_all_pins_labelled_with_the_snapshot() -> None:
    checks = plan(make_lock())
    assert [c.label for c in checks if c.label.startswith("apt")] == [
        f"apt: 3 packages at snapshot {SNAP}"
    ]


def test_no_apt_pins_no_apt_check() -> None:
    lock = make_lock(pins=())
    assert not [c for c in plan(lock) if c.label.startswith("apt")]
    empty = Lock(inputs=Inputs(release="25.04", target="x86_64"))
    assert plan(empty) == []


def test_every_version_still_offered_is_ok() -> None:
    src = FakeApt(answer())
    report = deep(make_lock(), src)
    assert report.ok and report.checked == 1
    assert report.problems == () and report.notes == ()
    assert len(src.asked) == 1  # one recipe capture and one read of the archives


def test_a_version_gone_names_package_version_step_and_what_is_offered() -> None:
    src = FakeApt(answer({("buildbase", "cmake"): ("3.31.6-0kitware1ubuntu24.04.1", "3.28.6-1")}))
    report = deep(make_lock(), src)
    assert not report.ok
    assert report.problems == (
        f"apt.packages[0]: cmake {CMAKE} (step buildbase) is no longer offered by its "
        "repositories: they now offer 3.31.6-0kitware1ubuntu24.04.1, 3.28.6-1",
    )


def test_many_versions_are_cut_visibly() -> None:
    versions = tuple(f"1:3.3.{n}" for n in range(10, 20))
    src = FakeApt(answer({("buildbase", "datacenter-gpu-manager"): versions}))
    lock = make_lock()
    assert lock.apt is not None
    (problem,) = check_apt(lock, lock.apt, src).problems  # type: ignore[arg-type]
    assert problem.endswith("they now offer 1:3.3.19, 1:3.3.18, 1:3.3.17, 1:3.3.16, 1:3.3.15, …")


def test_a_package_gone_entirely() -> None:
    src = FakeApt(answer({("buildbase", "cmake"): ()}))
    (problem,) = deep(make_lock(), src).problems
    assert problem.startswith(f"apt.packages[0]: cmake {CMAKE} (step buildbase) is not offered ")
    assert "not offered at all" in problem


def test_a_package_the_recipe_now_installs_is_reported() -> None:
    installs = dict(INSTALLS) | {("final", "curl"): None}
    src = FakeApt(answer({("final", "curl"): ("8.5.0-2ubuntu10",)}, installs))
    report = deep(make_lock(), src)
    assert report.problems == (
        "apt: the recipe installs curl (step final), which the lock does not pin; "
        "the lock or the recipe is stale (run `tritonlock update`)",
    )


def test_a_pin_the_recipe_no_longer_installs_is_reported() -> None:
    installs = {k: v for k, v in INSTALLS.items() if k != ("final", "python3")}
    report = deep(make_lock(), FakeApt(answer(installs=installs)))
    assert report.problems == (
        "apt.packages[2]: python3 3.12.3-0ubuntu2 (step final) is no longer installed by the "
        "recipe; the lock or the recipe is stale (run `tritonlock update`)",
    )


def test_a_newer_matching_version_is_only_a_note() -> None:
    newer = (CMAKE, "3.28.3-0kitware1ubuntu24.04.2", "3.31.6-0kitware1ubuntu24.04.1")
    report = deep(make_lock(), FakeApt(answer({("buildbase", "cmake"): newer})))
    assert report.ok
    assert report.notes == (
        f"apt.packages[0]: cmake {CMAKE} (step buildbase): the recipe would now install "
        "3.28.3-0kitware1ubuntu24.04.2",
    )


def test_an_unreachable_archive_is_unavailable_not_a_missing_version() -> None:
    report = deep(make_lock(), FakeApt(None))
    assert report.problems == (
        "apt: cannot check the apt pins: apt repository http://127.0.0.1:9/ubuntu noble: "
        "connection refused",
    )
    assert not any("no longer offered" in p or "not offered" in p for p in report.problems)


def test_a_stale_recipe_is_reported_and_the_archives_not_judged() -> None:
    stale = AptAnswer(stale=("recipe of server aaaaaaaaaaaa/Dockerfile: sha256 differs",))
    report = deep(make_lock(), FakeApt(stale))
    assert report.problems == (
        "apt: not checked: recipe of server aaaaaaaaaaaa/Dockerfile: sha256 differs",
    )


def test_a_lock_without_snapshot_is_not_asked_about() -> None:
    src = FakeApt(answer())
    report = deep(make_lock(snapshot=None), src)
    assert src.asked == []
    assert report.problems[0].startswith("apt.snapshot: the lock has no apt snapshot")


def test_apt_problems_keep_lock_order_across_steps() -> None:
    src = FakeApt(answer({("buildbase", "cmake"): (), ("final", "python3"): ("3.12.3-0ubuntu1",)}))
    problems = deep(make_lock(), src).problems
    assert [p.split(":")[0] for p in problems] == ["apt.packages[0]", "apt.packages[2]"]


@pytest.mark.parametrize(
    ("target", "root"),
    [("x86_64", "https://m/ubuntu/" + SNAP), ("igpu", "https://m/ubuntu-ports/" + SNAP)],
)
def test_base_archive_is_the_pipelines(target: str, root: str) -> None:
    arch = {"x86_64": "amd64", "igpu": "arm64"}[target]
    base = apt_base("https://m", arch=arch, release="25.04", snapshot=SNAP)
    assert base.url == root
    assert base.suites == ("noble", "noble-updates", "noble-security")
    assert apt_base("https://m", arch="amd64", release="24.05", snapshot=SNAP).suites[0] == (
        "jammy"
    )


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(), "verify")
    return parser.parse_args(["verify", *argv])


def test_apt_archive_option_defaults_to_ubuntu_snapshots() -> None:
    assert deep_options(_args("--deep")).apt_archive == UBUNTU_SNAPSHOTS
    opts = deep_options(_args("--deep", "--apt-archive", "http://127.0.0.1:8080/"))
    assert opts.apt_archive == "http://127.0.0.1:8080"


@given(st.lists(st.booleans(), min_size=len(PINS), max_size=len(PINS)))
def test_exactly_the_pins_whose_version_is_gone_fail(gone: list[bool]) -> None:
    changed = {
        (p.step, p.name): tuple(v for v in OFFERED[(p.step, p.name)] if v != p.version)
        for p, g in zip(PINS, gone, strict=True)
        if g
    }
    report = deep(make_lock(), FakeApt(answer(changed)))
    failed = [int(p.split("]")[0].removeprefix("apt.packages[")) for p in report.problems]
    assert failed == [i for i, g in enumerate(gone) if g]
    assert report.ok == (not any(gone))


def test_offered_versions_are_per_step_deduplicated_and_oldest_first() -> None:
    def e(name: str, version: str) -> PackageEntry:
        return PackageEntry(name=name, version=version, architecture="amd64")

    requests = [
        AptRequest(step="buildbase", packages=(("cmake", "3.28.3*"),)),
        AptRequest(step="final", packages=(("cmake", None), ("curl", None))),
    ]
    candidates = [
        ([e("cmake", "3.28.3-1"), e("cmake", "3.28.10-1"), e("cmake", "3.28.3-1")], 4),
        ([e("cmake", "3.28.3-1"), e("wget", "1.21")], 3),
    ]
    assert offered_versions(requests, candidates) == {
        ("buildbase", "cmake"): ("3.28.3-1", "3.28.10-1"),
        ("final", "cmake"): ("3.28.3-1",),
        ("final", "curl"): (),
    }
