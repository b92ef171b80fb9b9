"""resolve_wheels with ``exclude_newer`` against a real PEP 691 index with PEP 700 upload
times on 127.0.0.1: uv and tritonlock's own file choice both see the index as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.pyjson import serve_json_index, write_index
from tests.fixtures.pypi import build_wheel, serve_pypi
from tritonlock.errors import ResolveError
from tritonlock.model import WheelPin
from tritonlock.resolve.wheels import IndexSpec, InstallStep, resolve_wheels

pytestmark = pytest.mark.integration

CUT = "2025-02-01T00:00:00Z"
X86 = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"
# (name, version, tag, requires-dist, upload time); None: the index gives none
FILES: list[tuple[str, str, str, list[str], str | None]] = [
    ("xpkg", "1.0", "py3-none-any", ["zpkg"], "2025-01-10T08:00:00Z"),
    ("xpkg", "1.0", X86, ["zpkg"], "2025-03-01T00:00:00Z"),  # a wheel added later
    ("xpkg", "2.0", "py3-none-any", ["zpkg>=2"], "2025-02-15T00:00:00.5Z"),
    ("zpkg", "1.0", "py3-none-any", [], "2024-06-01T00:00:00Z"),
    ("zpkg", "2.0", "py3-none-any", [], "2025-02-14T00:00:00Z"),
    ("edge", "1.0", "py3-none-any", [], "2025-01-31T23:59:59.999Z"),
    ("edge", "1.0", X86, [], CUT),  # uploaded at the cutoff itself: not before it
    ("undated", "1.0", "py3-none-any", [], None),
]


@pytest.fixture(scope="module", name="dated_index")
def dated_index_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("dated-index")
    (root / "files").mkdir()
    uploads = {}
    for name, version, tag, deps, uploaded in FILES:
        path = build_wheel(root / "files", name, version, tag, deps, ">=3.8")
        uploads[path.name] = uploaded
    write_index(root, uploads)
    with serve_json_index(root) as url:
        yield url


def resolve(url: str, cache: Path, *requirements: str, cutoff: str | None) -> dict[str, WheelPin]:
    pins, _ = resolve_wheels(
        [InstallStep(name="user", image="base", requirements=requirements)],
        python_version="3.12",
        machine="x86_64",
        indexes=[IndexSpec(name="dated", url=url)],
        cache_dir=cache,
        jobs=4,
        exclude_newer=cutoff,
    )
    return {p.name: p for p in pins}


def files(pin: WheelPin) -> list[str]:
    return [f.name.split("-", 2)[2] for f in pin.files]


def test_the_cutoff_pins_what_the_index_had_then(dated_index: str, tmp_path: Path) -> None:
    pins = resolve(dated_index, tmp_path, "xpkg", "edge", cutoff=CUT)
    assert {n: p.version for n, p in pins.items()} == {"xpkg": "1.0", "zpkg": "1.0", "edge": "1.0"}
    # the files uploaded later are not in the lock (uv did not see them either: their
    # hashes would not match uv's and the resolve would fail)
    assert files(pins["xpkg"]) == ["py3-none-any.whl"]
    assert files(pins["edge"]) == ["py3-none-any.whl"]


def test_without_a_cutoff_the_index_as_it_is_today(dated_index: str, tmp_path: Path) -> None:
    pins = resolve(dated_index, tmp_path, "xpkg", "edge", cutoff=None)
    assert {n: p.version for n, p in pins.items()} == {"xpkg": "2.0", "zpkg": "2.0", "edge": "1.0"}
    assert sorted(files(pins["edge"])) == sorted([f"{X86}.whl", "py3-none-any.whl"])


def test_a_version_after_the_cutoff_is_asked_for_in_words(dated_index: str, tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as info:
        resolve(dated_index, tmp_path, "xpkg==2.0", cutoff=CUT)
    assert str(info.value).startswith(
        "step 'user': no version of xpkg matches '==2.0' on index 'dated' ("
    )
    assert str(info.value).endswith(f"; it has 1.0 uploaded before {CUT} (--exclude-newer)")


def test_an_index_without_upload_times_needs_now(dated_index: str, tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as info:
        resolve(dated_index, tmp_path, "undated", cutoff=CUT)
    assert "project 'undated', lists no upload times" in str(info.value)
    assert "pass --exclude-newer now" in str(info.value)
    assert resolve(dated_index, tmp_path, "undated", cutoff=None)["undated"].version == "1.0"


def test_an_html_index_dates_nothing(tmp_path: Path) -> None:
    """pypiserver serves PEP 503 HTML only, which has no upload times: uv would find no
    version of anything there, so the resolve says what to do instead."""
    root = tmp_path / "html"
    root.mkdir()
    build_wheel(root, "zpkg", "1.0", "py3-none-any", [])
    with serve_pypi(root) as url:
        with pytest.raises(ResolveError, match=r"lists no upload times .* --exclude-newer now"):
            resolve(url, tmp_path / "cache", "zpkg", cutoff=CUT)
        assert resolve(url, tmp_path / "cache", "zpkg", cutoff=None)["zpkg"].version == "1.0"
