"""File sizes an index does not list: with the sha256 listed, one HEAD request per file
and no download; without it, each file is downloaded once to hash it, into the shared
store, from which `vendor` then takes it without asking the index anything."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures.emit_world import make_lock
from tests.fixtures.pyjson import serve_json_index, write_index
from tests.fixtures.pypi import build_wheel
from tritonlock import lockfile
from tritonlock.model import Index, WheelPin, environments
from tritonlock.resolve.wheels import IndexSpec, InstallStep, resolve_wheels
from tritonlock.util.store import Store
from tritonlock.vendor.live import LiveSources, VendorOptions
from tritonlock.vendor.run import vendor

pytestmark = pytest.mark.integration

FILES = [("xpkg", "1.0", ["zpkg"]), ("zpkg", "1.0", [])]
Calls = list[tuple[str, str, str]]


def _index(root: Path, without: frozenset[str]) -> dict[str, int]:
    """The files (name → size) of an index whose pages leave ``without`` out."""
    (root / "files").mkdir(parents=True)
    sizes = {}
    for name, version, deps in FILES:
        path = build_wheel(root / "files", name, version, "py3-none-any", deps, ">=3.8")
        sizes[path.name] = path.stat().st_size
    write_index(root, {}, without=without)
    return sizes


def _resolve(url: str, cache: Path) -> tuple[WheelPin, ...]:
    pins, _ = resolve_wheels(
        (InstallStep(name="first", image="base", requirements=("xpkg",)),),
        python_version="3.12",
        machine="x86_64",
        indexes=[IndexSpec(name="pypi", url=url)],
        cache_dir=cache / "wheels",
        jobs=4,
        store=Store(cache),
    )
    return pins


def _ours(calls: Calls, start: int = 0) -> list[tuple[str, str]]:
    """tritonlock's requests (not uv's) for files, from ``start`` on."""
    return [(m, p) for who, m, p in calls[start:] if who == "tritonlock" and "/files/" in p]


def test_a_listed_sha256_without_a_size_costs_a_head_request_not_a_download(
    tmp_path: Path,
) -> None:
    sizes = _index(tmp_path / "www", frozenset({"size"}))
    calls: Calls = []
    with serve_json_index(tmp_path / "www", calls=calls) as url:
        pins = _resolve(url, tmp_path / "cache")
    assert {f.name: f.size for p in pins for f in p.files} == sizes
    assert sorted(_ours(calls)) == sorted(("HEAD", f"/files/{n}") for n in sizes)
    assert not (tmp_path / "cache" / "files" / "wheel").exists()  # nothing was downloaded


def test_a_file_hashed_at_resolve_is_in_the_store_and_vendor_fetches_no_wheel(
    tmp_path: Path,
) -> None:
    sizes = _index(tmp_path / "www", frozenset({"size", "hashes"}))
    calls: Calls = []
    store = Store(tmp_path / "cache")
    with serve_json_index(tmp_path / "www", calls=calls) as url:
        pins = _resolve(url, tmp_path / "cache")
        assert sorted(_ours(calls)) == sorted(("GET", f"/files/{n}") for n in sizes)
        files = [f for p in pins for f in p.files]
        for f in files:
            kept = store.get("wheel", f.sha256)
            assert kept is not None and kept.stat().st_size == sizes[f.name] == f.size
        lock = lockfile.seal(
            replace(
                make_lock("cpu"),
                git=(),
                index=(Index(name="pypi", url=url),),
                wheel=pins,
                environment=environments(pins),
                image=(),
                url=(),
                apt=None,
            )
        )
        before = len(calls)
        with LiveSources(VendorOptions(allow_http=True), {"pypi": url}) as src:
            out = tmp_path / "bundle"
            done = vendor(lock, lockfile.dumps(lock).encode(), out, src, apt=None, store=store)
        # no file is fetched again; the index is asked only for each project's page (the
        # files' upload times, which the bundle's manifest records)
        later = calls[before:]
        assert later and all(path.startswith("/simple/") for _, _, path in later), later
    assert done.cached == sum(sizes.values())
    assert {p.name: p.stat().st_size for p in (out / "wheels").iterdir()} == sizes
