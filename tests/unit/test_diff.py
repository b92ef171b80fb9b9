"""Unit tests for the semantic diff and its renderers."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from tritonlock import lockfile
from tritonlock.diff import diff_locks, render_json, render_markdown, render_text
from tritonlock.model import (
    Commit,
    Digest,
    GitPin,
    ImagePin,
    Index,
    Inputs,
    Lock,
    Release,
    Sha256,
    Submodule,
    WheelFile,
    WheelPin,
)

GH = "https://github.com/triton-inference-server"
C1, C2 = Commit("1" * 40), Commit("2" * 40)
D1, D2 = Digest("sha256:" + "a" * 64), Digest("sha256:" + "b" * 64)


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
                            name="numpy-1.26.4-cp312-cp312-linux_aarch64.whl",
                            sha256=Sha256(D1),
                            size=1,
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
    assert "third_party: r25.04: 111111111111 → 222222222222" in text


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


def test_framework_version_change_is_a_risk_note() -> None:
    a = replace(_base(), release=Release(facts=(("onnxruntime", "1.21.0"), ("openvino", "2025.0"))))
    b = replace(a, release=Release(facts=(("onnxruntime", "1.22.0"), ("openvino", "2025.0"))))
    (change,) = diff_locks(a, b).changes
    (risk,) = change.risks
    assert (risk.label, risk.old, risk.new) == ("ONNX Runtime", "1.21.0", "1.22.0")
    assert "models may need re-export or re-validation" in risk.consequence
    md = render_markdown(diff_locks(a, b), "a", "b")
    assert "> **Warning:** ONNX Runtime changed 1.21.0 → 1.22.0: ONNX models may need" in md


def test_pytorch_image_change_is_a_risk_note() -> None:
    torch = ImagePin(
        role="pytorch",
        ref="nvcr.io/nvidia/pytorch:25.04-py3",
        digest=D1,
        platform="linux/arm64/v8",
    )
    a = replace(_base(), image=(torch,))
    b = replace(a, image=(replace(torch, ref="nvcr.io/nvidia/pytorch:25.05-py3", digest=D2),))
    (change,) = diff_locks(a, b).changes
    (risk,) = change.risks
    assert risk.label == "libtorch"
    assert risk.consequence == (
        "the pytorch backend's libtorch comes from this image: "
        "TorchScript models may need re-export or re-validation"
    )
    base = replace(a, image=(replace(a.image[0], role="base"),))
    moved = replace(base, image=(replace(base.image[0], digest=D2),))
    assert not any(c.risks for c in diff_locks(base, moved).changes)


def test_wheel_added_and_removed() -> None:
    a = _base()
    b = replace(a, wheel=(replace(a.wheel[0], step="vllm"),))
    ops = {(c.key, c.op) for c in diff_locks(a, b).changes}
    assert ops == {("final/numpy", "removed"), ("vllm/numpy", "added")}


def test_json_form_is_stable_and_documented_shape() -> None:
    a = _base()
    b = replace(a, image=(replace(a.image[0], digest=D2),))
    out = render_json(diff_locks(a, b), "old.lock", "new.lock")
    # fields are only ever added within a version of the format (README)
    first = {"format", "version", "old", "new", "identical", "hash-warnings", "changes"}
    assert set(out) == first | {"summary"}
    assert out["hash-warnings"] == []
    assert out["format"] == "tritonlock-diff" and out["version"] == 1
    (change,) = out["changes"]
    assert set(change) == {"kind", "key", "op", "old", "new", "notes", "link"} | {
        "direction",
        "risk",
    }
    assert change["direction"] is None and change["risk"] == []
    assert out["summary"]["text"] == "1 image rebuilt under the same tag"
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


def test_commits_equal_in_short_form_are_shown_in_full() -> None:
    a = _base()
    near = Commit(C1[:-1] + "2")  # differs only in the last hex digit
    b = replace(a, git=(replace(a.git[0], commit=near),))
    text = render_text(diff_locks(a, b), "a", "b")
    assert f"third_party: r25.04: {C1} → {near}" in text


def test_a_claimed_hash_that_is_wrong_is_said_loudly(tmp_path: Path) -> None:
    # the server commit's last digit changed, content-hash left as it was
    good = tmp_path / "good.lock"
    lockfile.write(_base(), good)
    text = good.read_text()
    tampered = tmp_path / "tampered.lock"
    tampered.write_text(text.replace(C1, C1[:-1] + "2", 1))
    done = subprocess.run(
        [sys.executable, "-m", "tritonlock", "diff", str(good), str(tampered)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    actual = lockfile.file_hash(tampered)
    assert done.stdout.startswith(f"WARNING: {tampered} claims content-hash ")
    assert f"but its content hashes to {actual}" in done.stdout
    assert f"{C1} → {C1[:-1]}2" in done.stdout  # the 12-hex forms are equal: shown in full
    assert done.stderr.count("\n") == 1 and "do not trust it" in done.stderr
    for fmt in ("markdown", "json"):
        out = subprocess.run(
            [sys.executable, "-m", "tritonlock", "diff", str(good), str(tampered), "--format", fmt],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 1 and actual in out.stdout
    same = subprocess.run(
        [sys.executable, "-m", "tritonlock", "diff", str(good), str(good)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert same.returncode == 0 and "WARNING" not in same.stdout


def test_the_paths_copied_out_of_an_image_are_compared() -> None:
    torch = ImagePin(
        role="pytorch",
        ref="nvcr.io/nvidia/pytorch:25.04-py3",
        digest=D1,
        platform="linux/arm64/v8",
        copies=("/usr/local/lib/python3.12/dist-packages/torch/lib/libtorch.so",),
    )
    a = replace(_base(), image=(torch,))
    b = replace(a, image=(replace(torch, copies=(*torch.copies, "/opt/hpcx/ompi/lib")),))
    (change,) = diff_locks(a, b).changes
    assert change.notes == ("the files upstream's CMake copies out of it changed",)
    assert change.new is not None and change.new["copies"][-1] == "/opt/hpcx/ompi/lib"
