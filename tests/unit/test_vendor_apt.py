"""The apt part of a bundle, without apt: the jobs a lock asks for, the flat repository's
index, landing what a (fake) apt downloaded, resuming, and the manifest's hashes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures.emit_world import make_lock
from tests.unit.test_vendor import FakeSources, small_lock
from tritonlock import lockfile
from tritonlock.errors import ResolveError, UsageError
from tritonlock.model import Lock
from tritonlock.upstream import AptInstall
from tritonlock.vendor import aptland, aptrepo, aptrun, manifest
from tritonlock.vendor.aptrepo import AptJob, Deb
from tritonlock.vendor.manifest import Manifest
from tritonlock.vendor.use import apt_problems

SNAPSHOT = "20250415T000000Z"
KITWARE = "deb [signed-by=/k.gpg] https://apt.kitware.com/ubuntu/ $UBUNTU_CODENAME main"
MIRRORS = (("https://apt.kitware.com", "https://mirror.example/kitware"),)


def lock_with_snapshot() -> Lock:
    lock = make_lock("cpu")
    assert lock.apt is not None
    return replace(lock, apt=replace(lock.apt, snapshot=SNAPSHOT))


def installs(lock: Lock) -> list[AptInstall]:
    assert lock.apt is not None
    steps = dict.fromkeys(p.step for p in lock.apt.packages)
    return [
        AptInstall(
            step=s,
            image="base",
            manager="apt-get",
            packages=(),
            repositories=(KITWARE,) if s == "buildbase" else (),
        )
        for s in steps
    ]


def test_one_job_per_step_in_its_pinned_image_with_the_snapshot_and_the_steps_sources() -> None:
    lock = lock_with_snapshot()
    jobs = aptrepo.jobs(lock, installs(lock), archive="https://snap.example", mirrors=MIRRORS)
    assert [j.step for j in jobs] == ["buildbase", "final"]
    base = next(i for i in lock.image if i.role == "base")
    build = jobs[0]
    assert (build.image, build.digest, build.platform) == (base.ref, base.digest, base.platform)
    assert build.sources[0] == (
        f"deb [trusted=yes] https://snap.example/ubuntu/{SNAPSHOT}/ noble "
        "main universe restricted multiverse"
    )
    assert len(build.sources) == 4  # noble, -updates, -security and Kitware's, mirrored
    assert build.sources[3] == "deb [trusted=yes] https://mirror.example/kitware/ubuntu/ noble main"
    assert lock.apt is not None
    want = [f"{p.name}={p.version}" for p in lock.apt.packages if p.step == "buildbase"]
    assert list(build.packages) == want
    assert len(jobs[1].sources) == 3


def test_jobs_refuse_what_they_cannot_vendor_in_one_line() -> None:
    lock = lock_with_snapshot()
    with pytest.raises(ResolveError, match="step 'final', which the recipe"):
        aptrepo.jobs(lock, installs(lock)[:1], archive="https://snap.example")
    with pytest.raises(UsageError, match="only https"):
        aptrepo.jobs(lock, installs(lock), archive="http://snap.example")
    no_snapshot = make_lock("cpu")
    with pytest.raises(ResolveError, match="no snapshot"):
        aptrepo.jobs(no_snapshot, installs(no_snapshot), archive="https://snap.example")
    assert aptrepo.jobs(replace(lock, apt=None), [], archive="https://snap.example") == ()


def control(name: str, version: str, depends: str = "") -> str:
    lines = [f"Package: {name}", f"Version: {version}", "Architecture: amd64"]
    lines += [f"Depends: {depends}"] if depends else []
    return "\n".join([*lines, "Description: a test", " with a second line"])


def test_the_index_lists_each_package_once_with_its_file_and_hash() -> None:
    a = Deb(control=control("tool", "1:2.0-1", "libx (>= 1)"), sha256="sha256:" + "a" * 64, size=5)
    b = Deb(control=control("libx", "1.0") + "\nSHA256: stale", sha256="sha256:" + "b" * 64, size=7)
    text = aptrepo.index([a, b, a])
    assert text.count("Package: ") == 2
    assert "Filename: ./tool_2.0-1_amd64.deb\nSize: 5\nSHA256: " + "a" * 64 in text
    assert "stale" not in text and "Depends: libx (>= 1)" in text
    assert "Description: a test\n with a second line" in text
    assert aptrepo.listed(text) == {
        "libx_1.0_amd64.deb": ("sha256:" + "b" * 64, 7),
        "tool_2.0-1_amd64.deb": ("sha256:" + "a" * 64, 5),
    }
    other = replace(a, sha256="sha256:" + "c" * 64)
    with pytest.raises(ResolveError, match="two different packages"):
        aptrepo.index([a, other])
    with pytest.raises(ResolveError, match="unusable name"):
        Deb(control=control("x/../y", "1"), sha256=a.sha256, size=1).filename()


def test_the_build_reads_only_the_bundles_repository() -> None:
    assert aptrepo.sources_list() == "deb [trusted=yes] file:/tritonlock/vendor/apt ./\n"
    conf = aptrepo.apt_conf()
    assert 'Dir::Etc::SourceList "/tritonlock/vendor/apt/sources.list";' in conf
    assert "SourceParts" in conf
    job = AptJob(
        step="s",
        role="base",
        image="i",
        digest="d",
        platform="linux/amd64",
        sources=(),
        packages=("a=1", "b=1:2"),
    )
    text = aptrepo.script(job)
    assert "install --download-only --allow-downgrades a=1 b=1:2" in text
    assert "Dir::Etc::SourceParts=/tritonlock-apt/none" in text


class FakeApt:
    """Stands in for apt in the job's image: 'downloads' packages, counts its runs."""

    def __init__(self, packages: dict[str, list[tuple[str, str]]]) -> None:
        self.packages = packages
        self.runs = 0

    def __call__(self, job: AptJob, work: Path) -> str:
        self.runs += 1
        (work / "debs").mkdir(parents=True)
        printed = []
        for name, version in self.packages[job.step]:
            file = f"{name}_{version.replace(':', '%3a')}_amd64.deb"
            (work / "debs" / file).write_bytes(f"{name} {version}".encode())
            printed.append(control(name, version) + f"\n{aptrepo.FILE_FIELD}: {file}")
        return "\n\n".join(printed) + "\n"


def job(step: str) -> AptJob:
    return AptJob(
        step=step,
        role="base",
        image="i",
        digest="d",
        platform="linux/amd64",
        sources=(),
        packages=(),
    )


def land(out: Path, fake: FakeApt, journal: dict[str, str]) -> list[manifest.Entry]:
    entries, _, _ = aptland.land(
        out,
        [job("buildbase"), job("final")],
        fake,
        journal=journal,
        record=journal.__setitem__,
        scratch=out / ".scratch",
        progress=lambda _: None,
    )
    return entries


def test_land_hashes_every_package_into_the_manifest_and_resumes_without_apt(
    tmp_path: Path,
) -> None:
    fake = FakeApt({"buildbase": [("tool", "1:2.0"), ("libx", "1.0")], "final": [("libx", "1.0")]})
    journal: dict[str, str] = {}
    entries = land(tmp_path, fake, journal)
    assert fake.runs == 2
    paths = sorted(e.path for e in entries)
    assert paths == [
        "apt/Packages",
        "apt/apt.conf",
        "apt/libx_1.0_amd64.deb",
        "apt/sources.list",
        "apt/tool_2.0_amd64.deb",
    ]
    tool = next(e for e in entries if e.path == "apt/tool_2.0_amd64.deb")
    assert tool.sha256 == "sha256:" + hashlib.sha256(b"tool 1:2.0").hexdigest()
    assert tool.what == "tool=1:2.0 (amd64)" and tool.kind == "apt"
    found = Manifest(
        content_hash="sha256:" + "0" * 64, release="r", target="t", files=tuple(entries)
    )
    assert manifest.check(tmp_path, found) == []
    # resumed: the same entries, apt not run again
    assert land(tmp_path, fake, journal) == entries and fake.runs == 2
    # one changed byte: found by the check, and apt runs again on the next vendor
    (tmp_path / "apt/libx_1.0_amd64.deb").write_bytes(b"libx 1.1")
    (problem,) = manifest.check(tmp_path, found)
    assert "apt/libx_1.0_amd64.deb: sha256 is" in problem
    assert land(tmp_path, fake, journal) == entries and fake.runs == 4


def test_a_build_refuses_a_bundle_without_the_locks_apt_pins(tmp_path: Path) -> None:
    lock = lock_with_snapshot()
    assert lock.apt is not None
    empty = Manifest(content_hash="sha256:" + "0" * 64, release="r", target="t")
    (problem,) = apt_problems(lock, tmp_path, empty)
    assert "holds no apt packages" in problem and "--no-apt" in problem
    first, *rest = lock.apt.packages
    debs = [
        Deb(control=control(p.name, p.version), sha256="sha256:" + "a" * 64, size=1) for p in rest
    ]
    (tmp_path / "apt").mkdir()
    (tmp_path / aptrepo.PACKAGES).write_text(aptrepo.index(debs))
    entry = manifest.Entry(
        path=aptrepo.PACKAGES, sha256="sha256:" + "0" * 64, size=1, kind="apt", what="x"
    )
    held = replace(empty, files=(entry,))
    assert apt_problems(lock, tmp_path, held) == [
        f"{tmp_path / aptrepo.PACKAGES}: no {first.name}={first.version} (apt step {first.step}); "
        "vendor this lock again"
    ]
    assert json.loads(json.dumps(aptrepo.plan_hash([job("a")]))).startswith("sha256:")


def test_the_vendor_command_asks_the_recipe_and_honours_no_apt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse

    from tritonlock.commands import vendor as command
    from tritonlock.util import programs
    from tritonlock.vendor.live import VendorOptions

    lock = lock_with_snapshot()
    asked: list[tuple[tuple[str, str], ...]] = []

    def recipe(
        _lock: Lock, git_mirrors: tuple[tuple[str, str], ...], **_: float
    ) -> list[AptInstall]:
        asked.append(git_mirrors)
        return installs(lock)

    monkeypatch.setattr(aptrun, "recipe_installs", recipe)
    monkeypatch.setattr(programs, "require", lambda program, needed_for: program)
    options = VendorOptions(git_mirrors=(("https://github.com/", "git://m/"),), url_mirrors=MIRRORS)
    args = argparse.Namespace(no_apt=False, apt_archive="https://snap.example")
    jobs = command._apt_jobs(lock, options, args)
    assert jobs is not None and [j.step for j in jobs] == ["buildbase", "final"]
    assert asked == [options.git_mirrors]
    assert "https://mirror.example/kitware/" in jobs[0].sources[3]
    assert command._apt_jobs(lock, options, argparse.Namespace(no_apt=True)) is None
    assert command._apt_jobs(replace(lock, apt=None), options, args) == ()


class FakeWithApt(FakeSources):
    """The small world's sources, and a fake apt that records which image it ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.apt = FakeApt({"buildbase": [("tool", "1.0")], "final": [("libx", "2:1.0")]})
        self.images: list[Path | None] = []

    def apt_closure(self, job: AptJob, images: Path | None, work: Path) -> str:
        self.images.append(images)
        return self.apt(job, work)


def test_a_bundle_with_apt_is_complete_and_one_without_is_refused_by_build(
    tmp_path: Path,
) -> None:
    from tritonlock.commands._vendored import check_bundle
    from tritonlock.vendor.run import vendor

    pins = lock_with_snapshot().apt
    assert pins is not None
    lock = lockfile.seal(replace(small_lock(), apt=pins))
    data = lockfile.dumps(lock).encode()
    jobs = aptrepo.jobs(lock, installs(lock), archive="https://snap.example")
    src = FakeWithApt()
    result = vendor(lock, data, tmp_path / "b", src, apt=jobs)
    assert src.images == [tmp_path / "b" / "images"] * 2  # the bundle's own copy of the image
    assert result.manifest.size("apt") > 0 and not result.manifest.left_out
    assert manifest.check(tmp_path / "b", result.manifest) == []
    assert {e.what for e in result.manifest.files if e.path.endswith(".deb")} == {
        "tool=1.0 (amd64)",
        "libx=2:1.0 (amd64)",
    }
    # the fake closure lacks the lock's pins: build --vendor names the first missing one
    problems = check_bundle(str(tmp_path / "b"), lock)
    assert problems and all("vendor this lock again" in p for p in problems)
    vendor(lock, data, tmp_path / "c", FakeWithApt(), apt=None)
    (problem,) = check_bundle(str(tmp_path / "c"), lock)
    assert "holds no apt packages" in problem


def test_a_step_is_seeded_only_with_what_the_cache_holds_of_its_last_landing(
    tmp_path: Path,
) -> None:
    """The listing names apt's files; a name that is no plain file name, a hash that is no
    sha256 or an entry the cache lacks (or holds changed) is not seeded."""
    from tritonlock.util.store import Store

    store, step = Store(tmp_path / "cache"), job("buildbase")
    good, other = b"tool 1.0", b"other 3.0"
    for n, data in enumerate((good, other)):
        src = tmp_path / f"src{n}.deb"
        src.write_bytes(data)
        assert store.put_file("deb", "sha256:" + hashlib.sha256(data).hexdigest(), src)
    changed = store.path("deb", "sha256:" + hashlib.sha256(other).hexdigest())
    changed.unlink()
    changed.write_bytes(b"changed")  # a bad disk
    listing = {
        "tool_1.0_amd64.deb": "sha256:" + hashlib.sha256(good).hexdigest(),
        "other_1%3a3.0_all.deb": "sha256:" + hashlib.sha256(other).hexdigest(),
        "../escape.deb": "sha256:" + hashlib.sha256(good).hexdigest(),
        "lib_2.0_amd64.deb": "md5:1234",
        "absent_1_all.deb": "sha256:" + "0" * 64,
    }
    store.keep_note("aptjob", aptland._listing(step), listing)
    aptland._seed(store, step, tmp_path / "seed")
    seeded = {p.name: p.read_bytes() for p in (tmp_path / "seed").iterdir()}
    assert seeded == {"tool_1.0_amd64.deb": good}
    assert not (tmp_path / "escape.deb").exists()
    aptland._seed(store, job("final"), tmp_path / "other-step")  # no listing: nothing
    assert not (tmp_path / "other-step").exists()
