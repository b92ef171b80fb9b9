"""Unit tests for the semantic diff and its renderers."""

from __future__ import annotations

import json
from dataclasses import replace

from tritonlock import lockfile
from tritonlock.diff import diff_locks, render_json, render_markdown, render_text
from tritonlock.model import (
    GitPin,
    ImagePin,
    Index,
    Inputs,
    Lock,
    Release,
    Submodule,
    WheelFile,
    WheelPin,
)

GH = "https://github.com/triton-inference-server"
C1, C2 = "1" * 40, "2" * 40
D1, D2 = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def _base() -> Lock:
    return lockfile.seal(
        Lock(
            inputs=Inputs(release="25.04", target="igpu", backends=("python",)),
            release=Release(facts=(("tensorrt", "10.9.0.34"), ("vllm", "0.8.1"))),
            git=(
                GitPin(
                    name="third_party",
                    url=f"{GH}/third_party",
                    ref="r25.04",
                    commit=C1,
                    submodules=(
                        Submodule(path="grpc", url="https://github.com/grpc/grpc", commit=C1),
                    ),
                ),
            ),
            index=(Index(name="pypi", url="https://pypi.org/simple"),),
            wheel=(
                WheelPin(
                    step="final",
                    image="base",
                    name="numpy",
                    version="1.26.4",
                    index="pypi",
                    files=(
                        WheelFile(
                            name="numpy-1.26.4-cp312-cp312-linux_aarch64.whl", sha256=D1, size=1
                        ),
                    ),
                ),
            ),
            image=(
                ImagePin(
                    role="base",
                    ref="nvcr.io/nvidia/tritonserver:25.04-py3-igpu-min",
                    digest=D1,
                    platform="linux/arm64/v8",
                ),
            ),
        )
    )


def test_identical_locks_have_no_changes() -> None:
    d = diff_locks(_base(), _base())
    assert d.identical
    assert "no differences" in render_text(d, "a", "b")


def test_moved_branch_shows_ref_short_commits_and_compare_link() -> None:
    a = _base()
    b = replace(a, git=(replace(a.git[0], commit=C2),))
    (change,) = [c for c in diff_locks(a, b).changes if c.kind == "git"]
    assert change.op == "changed"
    assert change.link == f"{GH}/third_party/compare/{C1}...{C2}"
    assert "the r25.04 ref moved" in change.notes
    text = render_text(diff_locks(a, b), "a", "b")
    assert "third_party: r25.04: 1111111 → 2222222" in text


def test_submodule_change_is_its_own_entry() -> None:
    a = _base()
    sub = replace(a.git[0].submodules[0], commit=C2)
    b = replace(a, git=(replace(a.git[0], submodules=(sub,)),))
    changes = diff_locks(a, b).changes
    assert [(c.kind, c.key) for c in changes] == [("submodule", "third_party:grpc")]
    assert changes[0].link == f"https://github.com/grpc/grpc/compare/{C1}...{C2}"


def test_image_rebuilt_under_same_tag_is_called_out() -> None:
    a = _base()
    b = replace(a, image=(replace(a.image[0], digest=D2),))
    (change,) = diff_locks(a, b).changes
    assert change.notes == ("rebuilt under the same tag",)
    assert "rebuilt under the same tag" in render_markdown(diff_locks(a, b), "a", "b")


def test_tensorrt_change_warns_about_plan_files() -> None:
    a = _base()
    b = replace(a, release=Release(facts=(("tensorrt", "10.10.0.31"), ("vllm", "0.8.1"))))
    md = render_markdown(diff_locks(a, b), "a", "b")
    assert "> **Warning:** TensorRT changed" in md


def test_wheel_added_and_removed() -> None:
    a = _base()
    b = replace(a, wheel=(replace(a.wheel[0], step="vllm"),))
    ops = {(c.key, c.op) for c in diff_locks(a, b).changes}
    assert ops == {("final/numpy", "removed"), ("vllm/numpy", "added")}


def test_json_form_is_stable_and_documented_shape() -> None:
    a = _base()
    b = replace(a, image=(replace(a.image[0], digest=D2),))
    out = render_json(diff_locks(a, b), "old.lock", "new.lock")
    assert set(out) == {"format", "version", "old", "new", "identical", "changes"}
    assert out["format"] == "tritonlock-diff" and out["version"] == 1
    (change,) = out["changes"]
    assert set(change) == {"kind", "key", "op", "old", "new", "notes", "link"}
    assert change["old"]["digest"] == D1 and change["new"]["digest"] == D2
    json.dumps(out)  # serialisable


def test_markdown_escapes_table_cells() -> None:
    a = _base()
    b = replace(a, release=Release(facts=(("tensorrt", "10.9.0.34"), ("vllm", "0.8.1|x"))))
    md = render_markdown(diff_locks(a, b), "a", "b")
    assert "0.8.1\\|x" in md


def test_list_values_show_only_what_was_added_and_removed() -> None:
    a = _base()
    b = replace(a, inputs=replace(a.inputs, backends=("python", "vllm")))
    (change,) = diff_locks(a, b).changes
    assert "backends: added vllm" in render_text(diff_locks(a, b), "a", "b")
    assert change.old == {"value": ["python"]} and change.new == {"value": ["python", "vllm"]}
