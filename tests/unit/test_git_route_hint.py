"""An unreachable github.com says which option routes it elsewhere."""

from __future__ import annotations

from tritonlock.resolve.git import route_hint

TRITON = "https://github.com/triton-inference-server/core.git"
OTHER = "https://github.com/grpc/grpc.git"


def test_an_unreachable_triton_repo_names_both_options() -> None:
    hint = route_hint(TRITON, TRITON, "host not found")
    assert "--git-mirror https://github.com/=MIRROR" in hint
    assert "--github-organization" in hint


def test_a_third_party_github_repo_names_the_git_mirror_only() -> None:
    hint = route_hint(OTHER, OTHER, "unreachable")
    assert "--git-mirror https://github.com/=MIRROR" in hint
    assert "--github-organization" not in hint
    assert route_hint(OTHER, OTHER, "timed out after 60s")


def test_no_hint_through_a_mirror_for_other_hosts_or_other_failures() -> None:
    assert route_hint(OTHER, "git://127.0.0.1/grpc.git", "unreachable") == ""
    assert (
        route_hint("https://gitlab.example/x.git", "https://gitlab.example/x.git", "unreachable")
        == ""
    )
    assert route_hint(OTHER, OTHER, "commit not available") == ""
