"""'Rebuilt under the same tag' notes compare new pins with a previous lock's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tritonlock.errors import UsageError
from tritonlock.model import Digest, ImagePin
from tritonlock.resolve.images import ImageRequest, rebuilt_notes, resolve_images


def _pin(
    ref: str, digest: str, index: str | None = None, platform: str = "linux/amd64"
) -> ImagePin:
    return ImagePin(
        role="base",
        ref=ref,
        digest=Digest("sha256:" + digest * 64),
        platform=platform,
        index_digest=Digest("sha256:" + index * 64) if index else None,
    )


def test_same_digest_no_note() -> None:
    pins = [_pin("ubuntu:24.04", "a", "b")]
    assert rebuilt_notes(pins, pins) == ()


def test_moved_tag_is_reported_once_with_old_and_new() -> None:
    new = [_pin("ubuntu:24.04", "c", "d"), _pin("ubuntu:24.04", "c", "d")]
    (note,) = rebuilt_notes(new, [_pin("ubuntu:24.04", "a", "b")])
    assert "ubuntu:24.04 was rebuilt under the same tag" in note
    assert "sha256:" + "d" * 64 in note and "(was sha256:" + "b" * 64 in note


def test_other_platform_or_digest_ref_is_not_a_rebuild() -> None:
    d = "sha256:" + "e" * 64
    assert (
        rebuilt_notes(
            [_pin("ubuntu:24.04", "c")], [_pin("ubuntu:24.04", "a", platform="linux/arm64/v8")]
        )
        == ()
    )
    assert rebuilt_notes([_pin(f"ubuntu@{d}", "c")], [_pin(f"ubuntu@{d}", "a")]) == ()


def test_single_manifest_rebuild() -> None:
    (note,) = rebuilt_notes([_pin("x/y:1", "c")], [_pin("x/y:1", "a")])
    assert "now points at sha256:" + "c" * 64 in note


def test_bad_role_ref_or_platform_is_usage_error_before_any_network() -> None:
    with pytest.raises(UsageError, match="role"):
        resolve_images([ImageRequest(role="Base", ref="ubuntu:24.04")], platform="linux/amd64")
    with pytest.raises(UsageError, match="image ref"):
        resolve_images([ImageRequest(role="base", ref="Ubuntu")], platform="linux/amd64")
    with pytest.raises(UsageError, match="CA file"):
        resolve_images(
            [ImageRequest(role="base", ref="ubuntu")],
            platform="linux/amd64",
            ca_file=Path("/nonexistent/ca.pem"),
        )
    with pytest.raises(UsageError, match="platform"):
        resolve_images([ImageRequest(role="base", ref="ubuntu")], platform="amd64")
