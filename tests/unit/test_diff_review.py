"""The diff as a reviewer reads it: a summary first, upgrade/downgrade, risk flags with their
consequence, wheel files named, long reasons folded, kinds in collapsible sections."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tritonlock import lockfile
from tritonlock.diff import diff_locks, render_json, render_markdown, render_text, summarize
from tritonlock.model import (
    Apt,
    AptPin,
    Commit,
    Digest,
    GitPin,
    ImagePin,
    Index,
    Inputs,
    Lock,
    Release,
    Sha256,
    Unresolved,
    WheelFile,
    WheelPin,
)

LOCKS = Path(__file__).resolve().parents[2] / "locks"
D1, D2 = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def wheel(name: str, version: str, step: str = "final", tag: str = "x86_64") -> WheelPin:
    return WheelPin(
        step=step,
        image="final",
        name=name,
        version=version,
        index="pypi",
        files=(
            WheelFile(
                name=f"{name}-{version}-cp312-cp312-manylinux_2_17_{tag}.whl",
                sha256=Sha256(D1),
                size=1,
            ),
        ),
    )


def lock(*wheels: WheelPin, **facts: str) -> Lock:
    return lockfile.seal(
        Lock(
            inputs=Inputs(release="25.04", target="x86_64"),
            release=Release(facts=tuple(sorted(facts.items()))),
            index=(Index(name="pypi", url="https://pypi.org/simple/"),),
            wheel=wheels,
        )
    )


def test_a_downgrade_is_a_risk_and_counted_in_the_summary() -> None:
    d = diff_locks(lock(wheel("numpy", "1.26.4")), lock(wheel("numpy", "1.26.3")))
    (change,) = d.changes
    assert change.direction == "downgrade"
    assert [r.what for r in change.risks] == ["numpy downgraded"]
    assert summarize(d).text == "1 wheel changed, 1 downgrade"
    text = render_text(d, "a", "b")
    assert "~ final/numpy: 1.26.4 → 1.26.3 (downgrade)" in text
    assert "RISK: numpy downgraded 1.26.4 → 1.26.3: a downgrade can bring back" in text
    back = diff_locks(lock(wheel("numpy", "1.26.3")), lock(wheel("numpy", "1.26.4")))
    assert back.changes[0].direction == "upgrade" and back.changes[0].risks == ()


def test_numpy_2_names_the_python_backend() -> None:
    d = diff_locks(lock(wheel("numpy", "1.26.4")), lock(wheel("numpy", "2.1.0")))
    (risk,) = d.changes[0].risks
    assert risk.what == "numpy changed"
    assert "numpy 2" in risk.consequence and "python backend" in risk.consequence
    assert summarize(d).text == "1 wheel changed, numpy changed"
    # a minor numpy upgrade is no risk
    assert (
        diff_locks(lock(wheel("numpy", "1.26.3")), lock(wheel("numpy", "1.26.4"))).changes[0].risks
        == ()
    )


@pytest.mark.parametrize(
    ("fact", "old", "new", "flag", "consequence"),
    [
        (
            "tensorrt",
            "10.9.0.34",
            "10.10.0.31",
            "TensorRT",
            "engines (.plan files) must be rebuilt",
        ),
        ("onnxruntime", "1.21.0", "1.22.0", "ONNX Runtime", "re-export or re-validation"),
        ("openvino", "2025.0.0", "2025.1.0", "OpenVINO", "re-export or re-validation"),
        ("cuda", "12.9.0.043", "13.0.0.044", "CUDA", "host driver"),
        ("python", "3.12", "3.13", "Python", "EXECUTION_ENV_PATH"),
    ],
)
def test_framework_and_platform_changes_are_risks(
    fact: str, old: str, new: str, flag: str, consequence: str
) -> None:
    d = diff_locks(lock(**{fact: old}), lock(**{fact: new}))
    (change,) = d.changes
    assert change.direction == "upgrade"
    (risk,) = change.risks
    assert (risk.label, risk.old, risk.new) == (flag, old, new)
    assert consequence in risk.consequence
    assert f"> **Warning:** {flag} changed {old} → {new}: " in render_markdown(d, "a", "b")
    assert summarize(d).text.endswith(f"{flag} changed")


@pytest.mark.parametrize(
    ("fact", "old", "new"), [("cuda", "12.8.1.012", "12.9.0.043"), ("python", "3.12", "3.12.1")]
)
def test_a_minor_cuda_or_a_patch_python_is_no_risk(fact: str, old: str, new: str) -> None:
    (change,) = diff_locks(lock(**{fact: old}), lock(**{fact: new})).changes
    assert change.risks == () and change.direction == "upgrade"


def test_a_new_libtorch_image_is_a_risk() -> None:
    image = ImagePin(
        role="pytorch",
        ref="nvcr.io/nvidia/pytorch:25.04-py3",
        digest=Digest(D1),
        platform="linux/amd64",
    )
    a = replace(lock(), image=(image,))
    b = replace(lock(), image=(replace(image, digest=Digest(D2)),))
    (change,) = diff_locks(a, b).changes
    (risk,) = change.risks
    assert risk.label == "libtorch" and "TorchScript" in risk.consequence
    assert summarize(diff_locks(a, b)).text == (
        "1 image rebuilt under the same tag, libtorch changed"
    )


def test_apt_versions_go_by_dpkg_order() -> None:
    def apt(version: str) -> Lock:
        return replace(
            lock(), apt=Apt(packages=(AptPin(step="final", name="libb64-0d", version=version),))
        )

    assert diff_locks(apt("1.2.1-2"), apt("1.2.1-10")).changes[0].direction == "upgrade"
    (change,) = diff_locks(apt("1:1.0-1"), apt("2.0-1")).changes
    assert change.direction == "downgrade"  # the epoch wins
    assert [r.what for r in change.risks] == ["libb64-0d downgraded"]


def test_wheel_files_that_appeared_and_went_are_named_with_their_platform_tags() -> None:
    d = diff_locks(lock(wheel("numpy", "1.26.4")), lock(wheel("numpy", "1.26.4", tag="aarch64")))
    text = render_text(d, "a", "b")
    assert "~ final/numpy: 1.26.4 (same version), files: 1 added, 1 removed" in text
    assert "      + numpy-1.26.4-cp312-cp312-manylinux_2_17_aarch64.whl" in text
    assert "      - numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.whl" in text
    md = render_markdown(d, "a", "b")
    assert "<br>`+ numpy-1.26.4-cp312-cp312-manylinux_2_17_aarch64.whl`" in md


def test_a_file_replaced_under_its_name_is_called_out() -> None:
    a = wheel("numpy", "1.26.4")
    b = replace(a, files=(replace(a.files[0], sha256=Sha256(D2)),))
    (change,) = diff_locks(lock(a), lock(b)).changes
    assert "a file's bytes changed under the same name" in " ".join(change.notes)
    text = render_text(diff_locks(lock(a), lock(b)), "a", "b")
    assert "files: 0 added, 0 removed, 1 replaced" in text
    assert "~ numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.whl (sha256 sha256:aaaaaaaaaaaa →" in (
        text
    )


def test_long_reasons_are_folded() -> None:
    why = "connection failed (ConnectError) " * 8
    a = replace(lock(), unresolved=(Unresolved(kind="image", what="base images", why=why),))
    b = replace(a, unresolved=(Unresolved(kind="image", what="base images", why=why + "again"),))
    md = render_markdown(diff_locks(a, b), "a", "b")
    row = next(line for line in md.splitlines() if "`image:base images`" in line)
    assert "<details><summary>reason changed</summary><b>was:</b> " in row
    assert row.endswith("again</details> |  |")
    text = render_text(diff_locks(a, b), "a", "b")
    assert "  ~ image:base images: reason changed\n      was: connection failed" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    added = render_markdown(diff_locks(lock(), a), "a", "b")
    assert "<details><summary>connection failed (ConnectError)" in added


def test_every_added_or_changed_git_pin_shows_its_url() -> None:
    pin = GitPin(
        name="core", url="https://github.com/o/core", ref="r25.04", commit=Commit("1" * 40)
    )
    a, b = (
        replace(lock(), git=(pin,)),
        replace(lock(), git=(replace(pin, commit=Commit("2" * 40)),)),
    )
    for old, new in ((lock(), a), (a, b)):
        md = render_markdown(diff_locks(old, new), "a", "b")
        assert "from https://github.com/o/core" in md
    assert summarize(diff_locks(a, b)).text == "1 repo moved"


def test_markdown_is_a_summary_then_one_collapsed_section_per_kind() -> None:
    a = lock(wheel("numpy", "1.26.4"), tensorrt="10.9.0.34")
    b = lock(wheel("numpy", "1.26.3"), tensorrt="10.10.0.31")
    md = render_markdown(diff_locks(a, b), "a", "b")
    lines = md.splitlines()
    assert lines[0] == (
        "### triton.lock: 1 release fact changed, 1 wheel changed, 1 downgrade, TensorRT changed"
    )
    assert md.count("<details><summary><b>") == 2 == md.count("</details>")
    assert "<details><summary><b>Wheels</b>: 1 changed ⚠</summary>" in md
    # nothing but the summary, hashes and risk flags outside the collapsed sections
    outside = re.sub(r"<details><summary><b>.*?\n</details>", "", md, flags=re.S)
    assert [ln for ln in outside.splitlines() if ln][2:] == [
        "> **Warning:** TensorRT changed 10.9.0.34 → 10.10.0.31: serialized TensorRT engines "
        "(.plan files) must be rebuilt (`release:tensorrt`)",
        "> **Warning:** numpy downgraded 1.26.4 → 1.26.3: a downgrade can bring back bugs and "
        "vulnerabilities fixed in the newer version; make sure it is intended "
        "(`wheel:final/numpy`)",
    ]


def test_json_adds_a_summary_and_per_change_risk_and_direction() -> None:
    d = diff_locks(lock(wheel("numpy", "1.26.4")), lock(wheel("numpy", "2.0.0")))
    out = render_json(d, "a", "b")
    assert out["summary"] == {
        "text": "1 wheel changed, numpy changed",
        "counts": [{"kind": "wheel", "what": "changed", "count": 1}],
        "upgrades": 1,
        "downgrades": 0,
        "risks": [
            {
                "flag": "numpy",
                "text": d.changes[0].risks[0].text,
                "entries": ["wheel:final/numpy"],
            }
        ],
    }
    (change,) = out["changes"]
    assert change["direction"] == "upgrade"
    assert change["risk"] == [
        {
            "flag": "numpy",
            "old": "1.26.4",
            "new": "2.0.0",
            "consequence": d.changes[0].risks[0].consequence,
        }
    ]
    json.dumps(out)


def test_the_committed_x86_64_and_igpu_locks_read_short() -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "tritonlock", "diff", "--format", "markdown"),
            str(LOCKS / "25.04-x86_64-python-vllm.lock"),
            str(LOCKS / "25.04-igpu-python-vllm.lock"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    md = done.stdout
    assert md.splitlines()[0] == (
        "### triton.lock: target x86_64 → igpu, 5 recipe entries changed, 5 wheels changed, "
        "2 unresolved inputs changed, 1 unresolved input added, 1 unresolved input removed"
    )
    outside = re.sub(r"<details><summary><b>.*?\n</details>", "", md, flags=re.S)
    assert len([ln for ln in outside.splitlines() if ln]) == 2  # the summary and the hashes
    assert "`+ numpy-1.26.4-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl`" in md
    assert "`- numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`" in md
    assert md.count("<details><summary>reason changed</summary>") == 2  # the long reasons
