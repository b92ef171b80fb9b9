"""Pure parts of the wheel resolver: uv's output, file choice, inputs, requirement files."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tritonlock.errors import UsageError
from tritonlock.resolve.pytarget import Matcher, Target
from tritonlock.resolve.uvcompile import parse_uv_output
from tritonlock.resolve.wheelpins import _requested, by_version, choose
from tritonlock.resolve.wheels import IndexSpec, InstallStep, _check_inputs, read_requirements_file
from tritonlock.sources.pyindex import IndexFile

UV_OUT = """\
numpy==1.26.4 \\
    --hash=sha256:03a8c78d01d9781b28a6989f6fa1bb2c4f2d51201cf99d3dd875df6fbd96b23b \\
    --hash=sha256:9FAD7DCB1AAC3C7F0584A5A8133E3A43EEB2FE127F47E3632D43D677C66C102B
    # from https://user:****@pypi.example/simple
six==1.17.0
    # from https://pypi.example/simple
"""


def test_parse_uv_output() -> None:
    numpy, six = parse_uv_output(UV_OUT)
    assert (numpy.name, numpy.version, numpy.source) == (
        "numpy",
        "1.26.4",
        "https://pypi.example/simple",
    )
    assert "9fad7dcb1aac3c7f0584a5a8133e3a43eeb2fe127f47e3632d43d677c66c102b" in numpy.hashes
    assert (six.name, six.version, six.hashes) == ("six", "1.17.0", frozenset())


def _f(name: str) -> IndexFile:
    return IndexFile(filename=name, url=f"https://x/{name}", sha256="0" * 64)


FILES = [
    _f("vllm-0.8.1-cp38-abi3-manylinux1_x86_64.whl"),
    _f("vllm-0.8.1.tar.gz"),
    _f("vllm-0.8.2-cp38-abi3-manylinux_2_28_aarch64.whl"),
]


def test_choose_keeps_only_target_files_and_sdist_only_when_allowed() -> None:
    grouped = {str(v): fs for v, fs in by_version(FILES).items()}
    aarch64 = Matcher(Target("3.12", "aarch64"))
    assert choose(grouped["0.8.1"], aarch64, allow_sdist=False) is None
    chosen = choose(grouped["0.8.1"], aarch64, allow_sdist=True)
    assert chosen is not None and [f.filename for f in chosen[0]] == ["vllm-0.8.1.tar.gz"]
    assert chosen[1] is True
    x86 = choose(grouped["0.8.1"], Matcher(Target("3.12", "x86_64")), allow_sdist=True)
    assert x86 is not None and x86[1] is False and len(x86[0]) == 1


def test_requested_merges_specifiers_without_markers() -> None:
    reqs = [
        Requirement("numpy<2"),
        Requirement('NumPy>=1.20; python_version>"3"'),
        Requirement("a[x]"),
    ]
    assert _requested(reqs) == {"numpy": "numpy<2,>=1.20", "a": "a[x]"}


@pytest.mark.parametrize(
    ("steps", "indexes", "words"),
    [
        (
            [InstallStep(name="Final", image="base", requirements=())],
            [IndexSpec(name="p", url="https://x/")],
            "not like",
        ),
        ([], [], "exactly one --index-url"),
        (
            [],
            [
                IndexSpec(name="p", url="https://x/"),
                IndexSpec(name="p", url="https://y/", extra=True),
            ],
            "not unique",
        ),
        ([], [IndexSpec(name="p", url="ftp://x/")], "not an http(s) URL"),
    ],
)
def test_bad_inputs(steps: list[InstallStep], indexes: list[IndexSpec], words: str) -> None:
    with pytest.raises(UsageError, match=words.replace("(", r"\(").replace(")", r"\)")):
        _check_inputs(steps, indexes)


def test_read_requirements_file(tmp_path: Path) -> None:
    (tmp_path / "more.txt").write_text("idna==3.7  # pinned\n")
    (tmp_path / "req.txt").write_text(
        "# comment\nsix==1.16.0 \\\n    --hash=sha256:abc\n-r more.txt\n\n"
        "numpy<2 ; python_version >= '3.9'\n"
    )
    assert read_requirements_file(tmp_path / "req.txt") == (
        "six==1.16.0",
        "idna==3.7",
        "numpy<2 ; python_version >= '3.9'",
    )
    (tmp_path / "bad.txt").write_text("--index-url https://u:p@x/simple\n")
    with pytest.raises(UsageError, match="--index-url") as err:
        read_requirements_file(tmp_path / "bad.txt")
    assert "u:p" not in str(err.value)
