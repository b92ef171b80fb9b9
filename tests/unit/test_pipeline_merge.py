"""Merging the git stage's two partial resolutions (with and without CMake fetches)."""

from __future__ import annotations

from tritonlock.model import Commit, GitPin
from tritonlock.resolve.git import GitResolution
from tritonlock.resolve.pipeline import _merge

ORG = "https://github.com/triton-inference-server"


def pin(name: str, commit: str) -> GitPin:
    return GitPin(name=name, url=f"{ORG}/{name}.git", ref="r25.04", commit=Commit(commit * 40))


def test_merge_adds_only_repos_the_whole_resolution_lacks_in_canonical_order() -> None:
    whole = GitResolution(
        pins=(pin("common", "a"), pin("vllm_backend", "b")),
        url_requests=(("https://example.org/x.tgz", "common:CMakeLists.txt:3"),),
    )
    alone = GitResolution(pins=(pin("core", "c"), pin("common", "d")))

    merged = _merge(whole, alone)

    assert [(p.name, p.commit[0]) for p in merged.pins] == [
        ("common", "a"),
        ("core", "c"),
        ("vllm_backend", "b"),
    ]
    assert merged.url_requests == whole.url_requests


def test_merge_of_a_resolution_with_itself_is_itself() -> None:
    whole = GitResolution(pins=(pin("common", "a"),))
    assert _merge(whole, whole) is whole
