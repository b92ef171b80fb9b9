"""gitclient.listing: one ``git log --raw`` of a shallow commit read as the commit, its
time and its tree, the way ``git ls-tree -r`` lists it."""

from __future__ import annotations

import pytest

from tritonlock.sources.gitclient import GitFailed, listing

C = "a" * 40
Z = "0" * 40


def raw(mode: str, oid: str, path: str) -> str:
    return f":000000 {mode} {Z} {oid} A\0{path}\0"


def test_files_gitlinks_and_symlinks_as_ls_tree_gives_them() -> None:
    out = f"{C} 1700000000\0\n" + "".join(
        [
            raw("100644", "b" * 40, "CMakeLists.txt"),
            raw("100755", "c" * 40, "tools/run me.sh"),
            raw("120000", "d" * 40, "link"),
            raw("160000", "e" * 40, "third_party/dep"),
        ]
    )
    commit, committed, rows = listing(out)
    assert (commit, committed) == (C, 1700000000)
    assert rows == [
        ("100644", "blob", "b" * 40, "CMakeLists.txt"),
        ("100755", "blob", "c" * 40, "tools/run me.sh"),
        ("120000", "blob", "d" * 40, "link"),
        ("160000", "commit", "e" * 40, "third_party/dep"),
    ]


def test_an_empty_tree_has_no_entries() -> None:
    assert listing(f"{C} 5\0") == (C, 5, [])


@pytest.mark.parametrize(
    "out",
    [
        "",
        f"{C[:12]} 5\0",
        f"{C} when\0",
        f"{C} 5\0\n:000000 100644 {Z} {'b' * 40} M\0a\0",  # not an addition: not a root listing
        f"{C} 5\0\n:000000 100644 {Z} {'b' * 40} A\0a",  # cut short
        f"{C} 5\0\n:000000 100644 {'b' * 40} A\0a\0",  # a field missing
    ],
)
def test_anything_else_is_refused(out: str) -> None:
    with pytest.raises(GitFailed, match="unexpected git log"):
        listing(out)
