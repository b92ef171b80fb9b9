"""`tritonlock vendor`: the bundle's layout, its manifest (round trip, strict reading, the
offline check) and the resumption logic, against fake sources that count what they serve."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.emit_world import make_lock
from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.errors import ResolveError
from tritonlock.model import (
    Commit,
    Digest,
    GitPin,
    ImagePin,
    Lock,
    Sha256,
    Submodule,
    UrlPin,
    WheelFile,
    WheelPin,
)
from tritonlock.sources.registry import OCI_MANIFEST, Manifest
from tritonlock.vendor import layout, manifest
from tritonlock.vendor.aptrepo import AptJob
from tritonlock.vendor.check import check_folder
from tritonlock.vendor.layout import GitItem, ImageItem
from tritonlock.vendor.manifest import BadBundle, Entry
from tritonlock.vendor.run import vendor


def sha(data: bytes) -> Sha256:
    return Sha256("sha256:" + hashlib.sha256(data).hexdigest())


# -- a small world of bytes, and a lock pinning them -------------------------------------

WHEEL_BYTES = {"alpha-1.0-py3-none-any.whl": b"alpha wheel", "beta-2.0-py3-none-any.whl": b"beta"}
# The PEP 700 upload time each wheel's index lists (beta's lists none).
UPLOADED = {"alpha-1.0-py3-none-any.whl": "2025-02-20T18:02:11.123456Z"}
DOWNLOAD = b"a downloaded archive"
CONFIG = b'{"architecture":"amd64","os":"linux"}'
LAYERS = [b"layer one bytes", b"layer two bytes"]


def image_manifest() -> bytes:
    def desc(media: str, data: bytes) -> dict[str, object]:
        return {"mediaType": media, "digest": sha(data), "size": len(data)}

    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": desc("application/vnd.oci.image.config.v1+json", CONFIG),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", b) for b in LAYERS],
    }
    return json.dumps(body).encode()


def small_lock() -> Lock:
    base = make_lock("cpu")
    wheels = tuple(
        WheelPin(
            step="final",
            image="final",
            name=name.split("-")[0],
            version=name.split("-")[1],
            index="pypi",
            files=(WheelFile(name=name, sha256=sha(data), size=len(data)),),
        )
        for name, data in WHEEL_BYTES.items()
    )
    server = base.server_pin()
    git = (
        *(g for g in base.git if g.name != "server"),
        replace(
            server,
            submodules=(
                Submodule(path="sub", url="https://x.example/sub.git", commit=Commit("b" * 40)),
            ),
        ),
        GitPin(name="sub", url="https://x.example/sub", ref="main", commit=Commit("c" * 40)),
    )
    url = UrlPin(
        url="https://files.example/a/pkg-1.0.tar.gz", sha256=sha(DOWNLOAD), size=len(DOWNLOAD)
    )
    image = ImagePin(
        role="base",
        ref="registry.example/base:1",
        digest=Digest(sha(image_manifest())),
        platform="linux/amd64",
    )
    lock = replace(
        base, git=git, wheel=wheels, url=(url,), image=(image,), apt=None, environment=()
    )
    return lockfile.seal(lock)


@dataclass
class FakeSources:
    """Serves the world's bytes, counts every fetch, and fails where told."""

    calls: list[str] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)

    def _take(self, what: str) -> None:
        self.calls.append(what)
        if what in self.broken:
            raise ResolveError(f"{what}: unreachable")

    def git_bundle(self, item: GitItem, dest: Path, scratch: Path) -> tuple[str, ...]:
        self._take(f"git {item.url}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(f"bundle of {item.commits}".encode())
        return ()

    def save_wheel(self, index: str, project: str, filename: str, dest: Path, want: str) -> int:
        self._take(f"wheel {filename}")
        data = WHEEL_BYTES[filename]
        assert sha(data) == want
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        return len(data)

    def wheel_uploaded(self, index: str, project: str, filename: str) -> str | None:
        self._take(f"upload-time {filename}")
        return UPLOADED.get(filename)

    def save_download(self, pin: UrlPin, dest: Path) -> int:
        self._take(f"url {pin.url}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(DOWNLOAD)
        return len(DOWNLOAD)

    def image_manifest(self, item: ImageItem) -> Manifest:
        self._take(f"manifest {item.ref}")
        body = image_manifest()
        return Manifest(OCI_MANIFEST, sha(body), body)

    def save_blob(self, item: ImageItem, digest: str, dest: Path) -> int:
        self._take(f"blob {digest}")
        data = next(b for b in [CONFIG, *LAYERS] if sha(b) == digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        return len(data)

    def apt_closure(self, job: AptJob, images: Path | None, work: Path) -> str:
        raise AssertionError("this world pins no apt packages")


@pytest.fixture(autouse=True)
def _no_git_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake bundles are not git bundles: a bundle recorded in the journal is trusted by
    its hash and its refs, so the refs check is answered from the fake's text."""
    from tritonlock.vendor import gitbundle

    def holds(
        bundle: Path, commits: tuple[str, ...], refs: tuple[tuple[str, str], ...], *, timeout: float
    ) -> bool:
        return bundle.read_text() == f"bundle of {tuple(commits)}"

    monkeypatch.setattr(gitbundle, "holds", holds)


def do_vendor(lock: Lock, out: Path, src: FakeSources) -> manifest.Manifest:
    return vendor(lock, lockfile.dumps(lock).encode(), out, src, jobs=3).manifest


# -- layout -------------------------------------------------------------------------------


def test_one_bundle_per_repository_with_every_pinned_commit_however_spelled() -> None:
    items = layout.git_items(small_lock())
    sub = next(i for i in items if i.path == "git/x.example/sub.bundle")
    assert sorted(sub.commits) == ["b" * 40, "c" * 40]
    assert len({i.path for i in items}) == len(items)


def test_each_repository_carries_the_refs_its_top_level_pins_name_but_no_commit_id() -> None:
    lock = small_lock()
    lock = replace(
        lock,
        git=(
            *lock.git,
            GitPin(
                name="again", url="https://x.example/sub.git", ref="main", commit=Commit("d" * 40)
            ),
            GitPin(
                name="byid", url="https://x.example/byid", ref="e" * 40, commit=Commit("e" * 40)
            ),
        ),
    )
    items = {i.path: i for i in layout.git_items(lock)}
    assert items["git/x.example/sub.bundle"].refs == (("main", "c" * 40),)  # the first pin's
    assert items["git/x.example/byid.bundle"].refs == ()
    server = lock.server_pin()
    assert (server.ref, server.commit) in items[layout.bundle_path(server.url)].refs


PIN = "refs/tritonlock/pin/"
A, B = "a" * 40, "b" * 40


@pytest.mark.parametrize(
    ("got", "problem"),
    [
        ({PIN + A: A, PIN + B: B, "refs/heads/r1": A, "refs/tags/v2": B}, None),
        ({PIN + A: A, PIN + B: B, "refs/tags/r1": A}, None),  # a tag upstream: fine
        ({PIN + A: A, PIN + B: B}, None),  # refs upstream no longer had
        ({PIN + A: A}, f"lacks the pinned commit {B}"),
        ({PIN + A: A, PIN + B: B, PIN + "c" * 40: "c" * 40}, "which is no pinned commit"),
        ({PIN + A: A, PIN + B: B, "refs/heads/r1": B}, f"at {B}, the lock pins {A}"),
        ({PIN + A: A, PIN + B: B, "refs/heads/main": A}, "which the lock names no ref for"),
        ({PIN + A: A, PIN + B: B, "HEAD": A}, "which the lock names no ref for"),
        (
            {PIN + A: A, PIN + B: B, "refs/heads/r1": A, "refs/tags/r1": A},
            "holds refs/heads/r1 and refs/tags/r1 for the one ref r1",
        ),
    ],
)
def test_a_bundle_holds_its_pins_and_at_most_one_branch_or_tag_per_ref_of_the_lock(
    got: dict[str, str], problem: str | None
) -> None:
    from tritonlock.vendor.gitbundle import missing_refs, ref_problem

    refs = (("r1", A), ("v2", B))
    found = ref_problem(got, [A, B], refs)
    assert found == problem if problem is None else problem in (found or "")
    if problem is None:
        assert missing_refs(got, refs) == [r for r, _ in refs if not any(r in n for n in got)]


def test_download_paths_keep_the_file_name_and_never_escape() -> None:
    pin = UrlPin(url="https://h.example/d/boost_1_80_0.tar.gz", sha256=sha(b"x"))
    assert layout.download_path(pin) == f"downloads/{sha(b'x')[7:]}/boost_1_80_0.tar.gz"
    odd = UrlPin(url="https://h.example/d/..", sha256=sha(b"x"))
    assert layout.download_path(odd).endswith("/download")


def test_apt_pins_and_no_images_are_said_to_be_left_out() -> None:
    lock = make_lock("cpu")
    assert not any(line.startswith("apt: ") for line in layout.plan(lock).left_out)
    left = layout.plan(lock, images=False, apt=False).left_out
    assert any(line.startswith("apt: ") and "--no-apt" in line for line in left)
    assert any(line.startswith("images: ") for line in left)
    assert layout.plan(lock, images=False).images == ()


# -- manifest -----------------------------------------------------------------------------


def test_manifest_round_trips_and_writes_the_same_bytes(tmp_path: Path) -> None:
    m = do_vendor(small_lock(), tmp_path / "b", FakeSources())
    text = (tmp_path / "b" / "manifest.json").read_text()
    again = manifest.parse(json.loads(text), "m")
    assert again == replace(m, files=tuple(sorted(m.files, key=lambda e: e.path)))
    assert again.dumps() == text


def _wheel(d: dict[str, Any]) -> dict[str, Any]:
    """The first wheel's entry, moved to ``files[0]``."""
    files = d["files"]
    files.insert(0, files.pop(next(i for i, f in enumerate(files) if f["kind"] == "wheel")))
    entry: dict[str, Any] = files[0]
    return entry


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["lock"].update({"content-hash": "md5:x"}), "lock.content-hash"),
        (lambda d: d["files"][1].update(path="../etc/passwd"), "files[1].path"),
        (lambda d: d["files"][1].update(path="/abs/wheels/x"), "files[1].path"),
        (lambda d: d["files"][0].update(size=-1), "files[0].size"),
        (lambda d: d["files"][0].update(kind="other"), "files[0].kind"),
        (lambda d: d["files"].append(dict(d["files"][0])), "files["),
        (lambda d: d["images"][0].update(digest="sha256:z"), "images[0].digest"),
        (lambda d: _wheel(d).update({"upload-time": "yesterday"}), "files[0].upload-time"),
        (
            lambda d: d["files"][0].update({"upload-time": "2025-02-20T18:02:11Z"}),
            "files[0].upload-time",
        ),
    ],
)
def test_a_manifest_that_breaks_the_format_is_one_line_naming_the_field(
    tmp_path: Path, change: object, field: str
) -> None:
    do_vendor(small_lock(), tmp_path / "b", FakeSources())
    data = json.loads((tmp_path / "b" / "manifest.json").read_text())
    change(data)  # type: ignore[operator]
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(BadBundle) as err:
        manifest.read(tmp_path / "b")
    assert f": {field}" in str(err.value) and "\n" not in str(err.value)


def test_check_names_every_missing_changed_and_unlisted_file(tmp_path: Path) -> None:
    lock = small_lock()
    out = tmp_path / "b"
    do_vendor(lock, out, FakeSources())
    assert check_folder(out, content_hash=lock.content_hash).problems == ()
    wheel = out / "wheels" / "alpha-1.0-py3-none-any.whl"
    wheel.write_bytes(b"alpha whEel")  # one byte changed, same size
    (out / "downloads").joinpath(sha(DOWNLOAD)[7:], "pkg-1.0.tar.gz").unlink()
    (out / "wheels" / "stray.whl").write_bytes(b"x")
    problems = check_folder(out, content_hash=lock.content_hash).problems
    assert len(problems) == 3
    assert any(str(wheel) in p and "sha256 is" in p for p in problems)
    assert any("pkg-1.0.tar.gz: missing (url https://files.example/" in p for p in problems)
    assert any("stray.whl: not in the manifest" in p for p in problems)


def test_check_ties_the_bundle_to_the_lock(tmp_path: Path) -> None:
    lock = small_lock()
    out = tmp_path / "b"
    do_vendor(lock, out, FakeSources())
    other = make_lock("x86_64")
    (problem,) = check_folder(out, content_hash=other.content_hash).problems
    assert f"vendored from the lock {lock.content_hash}, not from {other.content_hash}" in problem
    copy = out / "triton.lock"
    copy.write_text(copy.read_text().replace('release = "25.04"', 'release = "25.05"'))
    problems = check_folder(out).problems
    assert any("triton.lock: sha256 is" in p for p in problems)
    assert any("triton.lock: its content hash is" in p for p in problems)


def test_no_manifest_is_an_unfinished_bundle(tmp_path: Path) -> None:
    (problem,) = check_folder(tmp_path).problems
    assert "no manifest" in problem and "run `tritonlock vendor" in problem


# -- resumption ---------------------------------------------------------------------------


def test_a_failed_run_writes_no_manifest_and_the_next_fetches_only_what_is_missing(
    tmp_path: Path,
) -> None:
    lock = small_lock()
    out = tmp_path / "b"
    layer = sha(LAYERS[1])
    first = FakeSources(broken={f"blob {layer}", "wheel beta-2.0-py3-none-any.whl"})
    said: list[str] = []
    with pytest.raises(ResolveError, match="and 1 more failures"):
        vendor(lock, lockfile.dumps(lock).encode(), out, first, jobs=3, progress=said.append)
    failed = [line for line in said if line.startswith("failed: ")]
    assert len(failed) == 2  # each failure is said, not only the first
    assert any("beta-2.0-py3-none-any.whl" in line for line in failed)
    assert any(layer in line for line in failed)
    assert not (out / "manifest.json").exists()
    assert not list(out.rglob("*.part"))
    second = FakeSources()
    m = do_vendor(lock, out, second)
    assert sorted(second.calls) == sorted([f"blob {layer}", "wheel beta-2.0-py3-none-any.whl"])
    third = FakeSources()
    assert do_vendor(lock, out, third) == m
    assert third.calls == []


def test_wheels_upload_times_are_in_the_manifest_and_a_resumed_run_reads_them_once(
    tmp_path: Path,
) -> None:
    lock, out = small_lock(), tmp_path / "b"
    first = FakeSources(broken={"wheel beta-2.0-py3-none-any.whl"})
    with pytest.raises(ResolveError, match="beta"):
        do_vendor(lock, out, first)
    assert sorted(c for c in first.calls if c.startswith("upload-time")) == [
        f"upload-time {n}" for n in sorted(WHEEL_BYTES)
    ]
    again = FakeSources()
    m = do_vendor(lock, out, again)
    assert not [c for c in again.calls if c.startswith("upload-time")]  # from the journal
    wheels = {e.path: e for e in m.files if e.kind == "wheel"}
    assert (
        wheels["wheels/alpha-1.0-py3-none-any.whl"].uploaded
        == UPLOADED["alpha-1.0-py3-none-any.whl"]
    )
    assert wheels["wheels/beta-2.0-py3-none-any.whl"].uploaded is None
    text = (out / "manifest.json").read_text()
    assert text.count('"upload-time": "2025-02-20T18:02:11.123456Z"') == 1
    assert manifest.parse(json.loads(text), "m").dumps() == text


def test_a_file_with_other_bytes_in_place_is_fetched_again(tmp_path: Path) -> None:
    lock = small_lock()
    out = tmp_path / "b"
    do_vendor(lock, out, FakeSources())
    (out / "wheels" / "beta-2.0-py3-none-any.whl").write_bytes(b"BETA")
    bundle = out / "git" / "x.example" / "sub.bundle"
    bundle.write_bytes(bundle.read_bytes() + b" ")  # not the bytes the journal recorded
    again = FakeSources()
    do_vendor(lock, out, again)
    assert sorted(again.calls) == [
        "git https://x.example/sub.git",
        "wheel beta-2.0-py3-none-any.whl",
    ]
    assert check_folder(out, content_hash=lock.content_hash).ok


def test_what_an_older_lock_left_is_pruned_and_only_the_bundles_folders(tmp_path: Path) -> None:
    lock = small_lock()
    out = tmp_path / "b"
    do_vendor(lock, out, FakeSources())
    fewer = lockfile.seal(replace(lock, url=()))
    do_vendor(fewer, out, FakeSources())
    assert not list((out / "downloads").iterdir())
    assert check_folder(out, content_hash=fewer.content_hash).ok


def test_layers_shared_by_two_images_are_fetched_once(tmp_path: Path) -> None:
    lock = small_lock()
    (image,) = lock.image
    two = lockfile.seal(
        replace(lock, image=(image, replace(image, role="gpu-base", ref="registry.example/gpu:1")))
    )
    src = FakeSources()
    m = do_vendor(two, tmp_path / "b", src)
    assert sorted(c for c in src.calls if c.startswith("blob")) == sorted(
        f"blob {sha(b)}" for b in [CONFIG, *LAYERS]
    )
    index = json.loads((tmp_path / "b" / "images" / "index.json").read_text())
    assert [d["annotations"]["org.opencontainers.image.ref.name"] for d in index["manifests"]] == [
        "base",
        "gpu-base",
    ]
    assert {d["digest"] for d in index["manifests"]} == {image.digest}
    assert len({e.path for e in m.files}) == len(m.files)


def test_a_foreign_folder_is_never_written_into(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    lock_path = tmp_path / "triton.lock"
    lockfile.write(small_lock(), lock_path)
    assert main(["vendor", str(lock_path), "-o", str(out)]) == 2
    assert "not empty and not a tritonlock bundle" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_entries_name_what_each_file_is(tmp_path: Path) -> None:
    m = do_vendor(small_lock(), tmp_path / "b", FakeSources())
    kinds = {e.kind for e in m.files}
    assert kinds == {"git", "wheel", "url", "image", "layout", "lock"}
    assert all(isinstance(e, Entry) and e.what for e in m.files)
    assert m.size() == sum(e.size for e in m.files) > 0


# -- the shared cache ---------------------------------------------------------------------


def test_a_second_bundle_takes_git_bundles_wheels_downloads_and_image_blobs_from_the_cache(
    tmp_path: Path,
) -> None:
    from tritonlock.util.store import Store

    lock, store = small_lock(), Store(tmp_path / "cache")
    first = FakeSources()
    vendor(lock, lockfile.dumps(lock).encode(), tmp_path / "one", first, store=store)
    assert any(c.startswith(("wheel ", "url ", "manifest ", "blob ")) for c in first.calls)
    again = FakeSources()
    result = vendor(lock, lockfile.dumps(lock).encode(), tmp_path / "two", again, store=store)
    assert all(c.startswith("upload-time ") for c in again.calls), again.calls
    times = {e.path: e.uploaded for e in result.manifest.files if e.kind == "wheel"}
    assert times == {f"wheels/{n}": UPLOADED.get(n) for n in WHEEL_BYTES}  # read again
    assert result.cached == sum(
        e.size for e in result.manifest.files if e.kind in ("git", "wheel", "url", "image")
    )
    assert check_folder(tmp_path / "two", content_hash=lock.content_hash).ok
