"""A warm resolve with a fixed --exclude-newer: an install step whose inputs are unchanged
is taken from the step cache, with no request to the index; a changed step is compiled
again, and only what depends on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.pyjson import serve_json_index, write_index
from tests.fixtures.pypi import build_wheel
from tritonlock.model import Index, WheelPin
from tritonlock.resolve.wheels import IndexSpec, InstallStep, resolve_wheels

pytestmark = pytest.mark.integration

CUT = "2025-02-01T00:00:00Z"
FILES = [
    ("xpkg", "1.0", ["zpkg"]),
    ("zpkg", "1.0", []),
    ("ypkg", "1.0", []),
    ("wpkg", "1.0", ["zpkg"]),
]


@pytest.fixture(scope="module", name="index")
def index_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    root = tmp_path_factory.mktemp("warm-index")
    (root / "files").mkdir()
    uploads = {}
    for name, version, deps in FILES:
        path = build_wheel(root / "files", name, version, "py3-none-any", deps, ">=3.8")
        uploads[path.name] = "2025-01-10T08:00:00Z"
    write_index(root, uploads)
    seen: list[str] = []
    with serve_json_index(root, seen) as url:
        yield url, seen


STEPS = (
    InstallStep(name="first", image="base", requirements=("xpkg",)),
    InstallStep(name="second", image="base", requirements=("ypkg",)),
    InstallStep(name="other", image="buildbase", requirements=("wpkg",)),
)


Result = tuple[tuple[WheelPin, ...], tuple[Index, ...], list[str]]


def resolve(url: str, cache: Path, steps: tuple[InstallStep, ...], cutoff: str | None) -> Result:
    """The pins, the indexes, and the steps said to be kept."""
    progress: list[str] = []
    pins, indexes = resolve_wheels(
        steps,
        python_version="3.12",
        machine="x86_64",
        indexes=[IndexSpec(name="dated", url=url)],
        cache_dir=cache,
        jobs=4,
        exclude_newer=cutoff,
        progress=progress.append,
    )
    return pins, indexes, [p for p in progress if "pins kept" in p]


def test_a_warm_resolve_asks_the_index_nothing(
    index: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = index
    cold = resolve(url, tmp_path, STEPS, CUT)
    assert seen, "the cold resolve reads the index"
    seen.clear()
    warm = resolve(url, tmp_path, STEPS, CUT)
    assert seen == []
    assert warm[:2] == cold[:2]
    assert len(warm[2]) == 3
    assert {p.step for p in warm[0]} == {"first", "second", "other"}


def test_a_changed_step_and_the_steps_after_it_are_compiled_again(
    index: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = index
    resolve(url, tmp_path, STEPS, CUT)
    changed = (InstallStep(name="first", image="base", requirements=("xpkg", "wpkg")), *STEPS[1:])
    seen.clear()
    _, _, kept = resolve(url, tmp_path, changed, CUT)
    assert seen  # the changed step asked the index
    # the step of the other image is kept; the second step builds on the changed first one
    assert kept == ["step other: inputs unchanged since the last resolve, pins kept"]


def test_without_a_fixed_cutoff_nothing_is_kept(
    index: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = index
    resolve(url, tmp_path, STEPS, None)
    seen.clear()
    _, _, kept = resolve(url, tmp_path, STEPS, None)
    assert seen
    assert kept == []
