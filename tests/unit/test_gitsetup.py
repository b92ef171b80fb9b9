"""What `tritonlock git-setup` writes: .gitattributes lines and the drivers' git config."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tritonlock.diff.gitsetup import check_pattern, config, with_attributes

LINE = "triton.lock diff=tritonlock merge=tritonlock"


def test_a_line_is_added_once_and_other_lines_are_kept() -> None:
    before = "*.sh text eol=lf\n"
    after = with_attributes(before, ("triton.lock",))
    assert after == f"*.sh text eol=lf\n{LINE}\n"
    assert with_attributes(after, ("triton.lock",)) == after


def test_a_line_for_the_pattern_naming_other_drivers_is_replaced() -> None:
    before = "triton.lock merge=union\nlocks/*.lock -diff\n"
    after = with_attributes(before, ("triton.lock", "locks/*.lock"))
    assert after == f"{LINE}\nlocks/*.lock diff=tritonlock merge=tritonlock\n"


def test_a_line_with_other_attributes_is_kept_beside_ours() -> None:
    after = with_attributes("triton.lock text eol=lf\n", ("triton.lock",))
    assert after == f"triton.lock text eol=lf\n{LINE}\n"


@given(st.lists(st.sampled_from(["triton.lock", "locks/*.lock", "*.lock"]), max_size=4))
def test_writing_twice_changes_nothing(patterns: list[str]) -> None:
    once = with_attributes("*.png binary\n", tuple(patterns))
    assert with_attributes(once, tuple(patterns)) == once


def test_a_pattern_with_a_space_or_comment_start_is_refused() -> None:
    assert check_pattern("locks/*.lock") is None
    for bad in ("my lock", "#triton.lock", "!triton.lock", '"a"', ""):
        assert check_pattern(bad) is not None


def test_the_config_runs_the_given_command() -> None:
    assert dict(config("/opt/v/bin/tritonlock")) == {
        "diff.tritonlock.textconv": "/opt/v/bin/tritonlock diff --textconv",
        "merge.tritonlock.name": "tritonlock: entry-by-entry merge of triton.lock",
        "merge.tritonlock.driver": "/opt/v/bin/tritonlock merge-driver %O %A %B %P",
    }
