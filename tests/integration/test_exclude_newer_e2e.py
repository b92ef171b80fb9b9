"""End-to-end: the real ``tritonlock resolve``/``update``/``diff`` CLI with
``--exclude-newer``, against the triton-shaped world on 127.0.0.1 and a PEP 691 index with
PEP 700 upload times holding the world's wheels (uploaded long before its server commit)
and ``xpkg``: 1.0 before the server commit, 2.0 after it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.fixtures.pyjson import serve_json_index, serve_static, write_index
from tests.fixtures.pypi import build_wheel
from tests.fixtures.world import World, run_cli
from tritonlock import lockfile
from tritonlock.model import Lock
from tritonlock.resolve.cutoff import cutoff_at
from tritonlock.vendor import manifest

pytestmark = pytest.mark.integration

OLD = "2020-01-01T00:00:00Z"
NEW = "2024-06-01T00:00:00Z"  # after the world's commits (2023-11-14), before today


@dataclass(frozen=True)
class Dated:
    url: str
    requirements: Path


@pytest.fixture(scope="module", name="dated")
def dated_fixture(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dated]:
    root = tmp_path_factory.mktemp("dated-world-index")
    (root / "files").mkdir()
    for wheel in world.pypi_root.iterdir():
        shutil.copy(wheel, root / "files" / wheel.name)
    uploads = {name.name: OLD for name in (root / "files").iterdir()}
    uploads[build_wheel(root / "files", "xpkg", "1.0", "py3-none-any", []).name] = OLD
    uploads[build_wheel(root / "files", "xpkg", "2.0", "py3-none-any", []).name] = NEW
    write_index(root, uploads)
    reqs = root / "requirements.txt"
    reqs.write_text("xpkg\n")
    with serve_json_index(root) as url:
        yield Dated(url=url, requirements=reqs)


def sources(world: World, cache: Path) -> list[str]:
    """The world's options less its pypiserver index and its ``--exclude-newer now``."""
    args = world.cli_args(cache)
    flags = [i for i, a in enumerate(args) if a in ("--index-url", "--exclude-newer")]
    drop = {*flags, *(i + 1 for i in flags)}
    return [a for i, a in enumerate(args) if i not in drop]


def resolve(world: World, dated: Dated, out: Path, *extra: str) -> Lock:
    done = run_cli(
        "resolve", "25.04", "--target", "x86_64", "--backend", "python",
        *sources(world, out.parent / "cache"), "--index-url", dated.url,
        "-r", str(dated.requirements), "-o", str(out), *extra,
        cwd=out.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return lockfile.load(out)


def update(world: World, lock: Path, *extra: str, out: Path | None = None) -> Lock:
    """`update` with the world's mirrors only: the index and requirements are the lock's."""
    to = ["-o", str(out)] if out else []
    done = run_cli("update", str(lock), *sources(world, lock.parent / "cache"), *to, *extra,
                   cwd=lock.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return lockfile.load(out or lock)


def xpkg(lock: Lock) -> str:
    (pin,) = [w for w in lock.wheel if w.name == "xpkg"]
    assert pin.step == "user"
    return pin.version


def server_time(lock: Lock) -> int:
    (server,) = [p for p in lock.git if p.name == "server"]
    assert server.committed is not None
    return server.committed


def test_by_default_the_indexes_are_read_as_of_the_server_commit(
    world: World, dated: Dated, tmp_path: Path
) -> None:
    lock = resolve(world, dated, tmp_path / "triton.lock")
    assert lock.inputs.exclude_newer == cutoff_at(server_time(lock))
    assert lock.inputs.exclude_newer.startswith("2023-11-14T")
    assert xpkg(lock) == "1.0"
    assert 'exclude-newer = "2023-11-14T' in (tmp_path / "triton.lock").read_text()


def test_now_is_recorded_and_update_keeps_it_until_told_otherwise(
    world: World, dated: Dated, tmp_path: Path
) -> None:
    path = tmp_path / "triton.lock"
    lock = resolve(world, dated, path, "--exclude-newer", "now")
    assert (lock.inputs.exclude_newer, xpkg(lock)) == ("now", "2.0")
    text = path.read_text()

    # update keeps the lock's "now" (its default would read the index as of the server
    # commit, which has only xpkg 1.0)
    kept = update(world, path)
    assert (kept.inputs.exclude_newer, xpkg(kept)) == ("now", "2.0")
    assert path.read_text() == text

    dated_lock = update(world, path, "--exclude-newer", "2024-01-01", out=tmp_path / "b")
    assert (dated_lock.inputs.exclude_newer, xpkg(dated_lock)) == ("2024-01-02T00:00:00Z", "1.0")
    done = run_cli("diff", "--format", "json", str(path), str(tmp_path / "b"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    changes = {(c["kind"], c["key"]): c for c in json.loads(done.stdout)["changes"]}
    assert changes["inputs", "exclude-newer"]["old"] == {"value": "now"}
    assert changes["inputs", "exclude-newer"]["new"] == {"value": "2024-01-02T00:00:00Z"}
    assert changes["wheel", "user/xpkg"]["new"]["version"] == "1.0"
    text = run_cli("diff", str(path), str(tmp_path / "b"), cwd=tmp_path).stdout
    assert "~ exclude-newer: now → 2024-01-02T00:00:00Z" in text

    again = update(world, tmp_path / "b")  # the date is kept as well
    assert (again.inputs.exclude_newer, xpkg(again)) == ("2024-01-02T00:00:00Z", "1.0")


def test_a_lock_from_before_the_cutoff_is_dated_by_a_full_update(
    world: World, dated: Dated, tmp_path: Path
) -> None:
    path = tmp_path / "triton.lock"
    lock = resolve(world, dated, path, "--exclude-newer", "now")
    lockfile.write(replace(lock, inputs=replace(lock.inputs, exclude_newer=None)), path)
    assert "exclude-newer" not in path.read_text()
    updated = update(world, path)
    assert (updated.inputs.exclude_newer, xpkg(updated)) == (cutoff_at(server_time(lock)), "1.0")


def _vendor_args(world: World, cache: Path) -> list[str]:
    """The world's sources as `vendor` takes them (it has no index, cutoff or snapshot
    options: the lock names those)."""
    args = sources(world, cache)
    drop = {i for i, a in enumerate(args) if a == "--apt-snapshot"}
    return [a for i, a in enumerate(args) if i not in {*drop, *(i + 1 for i in drop)}]


def test_a_dated_cutoff_survives_the_trip_through_a_sites_static_index(
    world: World, dated: Dated, tmp_path: Path
) -> None:
    """Two locks outside, from the dated index: the server commit's cutoff (xpkg 1.0) and
    now (xpkg 2.0); each vendored, both pushed with `mirror push --index` into one folder,
    which lighttpd serves as README says; the site index then lists xpkg 1.0 and 2.0 with
    the upload times the source gave. `resolve` again, the dated index reached only through
    --url-mirror to the site: each lock comes back byte for byte (2.0 still cut)."""
    site, bundles = tmp_path / "site", {}
    for name, extra in (("dated", ()), ("now", ("--exclude-newer", "now"))):
        (tmp_path / name).mkdir()
        resolve(world, dated, tmp_path / name / "triton.lock", *extra)
        bundle = tmp_path / f"bundle-{name}"
        done = run_cli(
            "vendor", str(tmp_path / name / "triton.lock"), "-o", str(bundle),
            "--no-images", "--no-apt", *_vendor_args(world, tmp_path / "vendor-cache"),
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        bundles[name] = bundle
        push = run_cli("mirror", "push", str(bundle), "--index", str(site), "-q", cwd=tmp_path)
        assert push.returncode == 0, push.stderr
    assert xpkg(lockfile.load(tmp_path / "dated" / "triton.lock")) == "1.0"
    assert xpkg(lockfile.load(tmp_path / "now" / "triton.lock")) == "2.0"
    times = {
        e.path.rsplit("/", 1)[1]: e.uploaded
        for name in bundles
        for e in manifest.read(bundles[name]).files
        if e.kind == "wheel" and "xpkg" in e.path
    }
    assert times == {"xpkg-1.0-py3-none-any.whl": OLD, "xpkg-2.0-py3-none-any.whl": NEW}
    page = json.loads((site / "simple" / "xpkg" / "index.json").read_text())
    assert {f["filename"]: f["upload-time"] for f in page["files"]} == times

    with serve_static(site, tmp_path / "web") as web:
        mirror = ("--url-mirror", f"{dated.url}={web.url}/simple/")
        for name, extra in (("dated", ()), ("now", ("--exclude-newer", "now"))):
            (tmp_path / f"site-{name}").mkdir()
            resolve(world, dated, tmp_path / f"site-{name}" / "triton.lock", *mirror, *extra)
    for name in ("dated", "now"):
        again = (tmp_path / f"site-{name}" / "triton.lock").read_bytes()
        assert again == (tmp_path / name / "triton.lock").read_bytes(), name
    assert "GET /simple/xpkg/ HTTP/1.1" in web.requests()
