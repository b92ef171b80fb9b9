"""Release facts from build.py's version map (ast only) and the compatibility table."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fixtures.fake_build import COMPAT_MD
from tritonlock.errors import ResolveError
from tritonlock.model import RELEASE_FIELDS
from tritonlock.upstream import read_release_facts
from tritonlock.upstream.versionmap import FACT, kind_problem, normalize_fact, parse_version_map

DICT_MAP = """
import distro  # never imported by the reader
raise SystemExit("build.py must not run")
DEFAULT_TRITON_VERSION_MAP = {
    "release_version": "2.57.0",
    "triton_container_version": "25.04",
    "upstream_container_version": "25.04",
    "ort_version": "1.21.0",
    "ort_openvino_version": "2025.0.0",
    "standalone_openvino_version": "2025.0.0",
    "dcgm_version": "3.3.6",
    "vllm_version": "0.8.1",
    "rhel_py_version": "3.12.3",
}
"""

TUPLE_MAP = """
TRITON_VERSION_MAP = {
    "2.44.0": ("24.03", "24.03", "1.17.2", "2023.3.0", "2023.3.0", "3.2.6", "0.4.0"),
    "2.45.0": ("24.04", "24.04", "1.17.3", "2023.3.0", "2023.3.0", "3.2.6", "0.4.0.post1"),
}
"""


def test_dict_map_gives_every_build_py_fact() -> None:
    release = read_release_facts(DICT_MAP, "2.57.0\n", None, upstream_release="25.04")
    assert release.to_dict() == {
        "triton-version": "2.57.0",
        "container-version": "25.04",
        "upstream-container-version": "25.04",
        "onnxruntime": "1.21.0",
        "openvino": "2025.0.0",
        "dcgm": "3.3.6",
        "vllm": "0.8.1",
    }


def test_triton_version_file_must_agree_with_the_map() -> None:
    with pytest.raises(ResolveError, match=r"map says 2\.57\.0 but TRITON_VERSION says 2\.58\.0"):
        read_release_facts(DICT_MAP, "2.58.0\n", None, upstream_release="25.04")
    no_release = DICT_MAP.replace('"release_version": "2.57.0",', "")
    facts = read_release_facts(no_release, "2.57.0\n", None, upstream_release="25.04")
    assert facts.get("triton-version") == "2.57.0"


def test_tuple_map_picks_the_entry_of_the_asked_container() -> None:
    release = read_release_facts(TUPLE_MAP, None, None, upstream_release="24.04")
    assert release.get("triton-version") == "2.45.0"
    assert release.get("vllm") == "0.4.0.post1"
    assert release.get("dcgm") == "3.2.6"


def test_tuple_map_with_rhel_python_reads_all_fields() -> None:
    row = '"24.11", "24.11", "1.19.2", "2024.4.0", "2024.4.0", "3.3.6", "0.5.5", "3.12.3"'
    text = f'TRITON_VERSION_MAP = {{"2.52.0": ({row})}}'
    vmap = parse_version_map(text, upstream_release="24.11")
    assert vmap["rhel_py_version"] == "3.12.3"
    assert vmap["vllm_version"] == "0.5.5"


def test_compat_table_adds_python_cuda_tensorrt() -> None:
    compat = COMPAT_MD.replace("@REL@", "25.04")
    release = read_release_facts(DICT_MAP, None, compat, upstream_release="25.04")
    assert release.get("python") == "3.12.3"
    assert release.get("cuda") == "12.9.0.036"  # the vllm image, built on the release's base
    assert release.get("tensorrt") == "10.9.0.34"
    assert release.get("vllm") == "0.8.1"  # build.py's map wins over the NGC image's build


def test_compat_table_fills_vllm_when_the_map_has_none() -> None:
    text = DICT_MAP.replace('"vllm_version": "0.8.1",', "").replace("25.04", "24.08")
    compat = COMPAT_MD.replace("@REL@", "25.04")
    release = read_release_facts(text, None, compat, upstream_release="24.08")
    assert release.get("vllm") == "0.5.0.post1"
    assert release.get("python") == "3.10.12"


def test_every_fact_fits_the_schema() -> None:
    compat = COMPAT_MD.replace("@REL@", "25.04")
    facts = read_release_facts(DICT_MAP, None, compat, upstream_release="25.04").to_dict()
    assert set(facts) <= set(RELEASE_FIELDS)
    assert all(FACT.match(v) for v in facts.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1\n", "no DEFAULT_TRITON_VERSION_MAP"),
        ("DEFAULT_TRITON_VERSION_MAP = make_map()\n", "not a literal"),
        ("def broken(:\n", "not valid Python"),
        (TUPLE_MAP, "no single entry for container 25.04"),
        (DICT_MAP.replace('"25.04"', '"24.12"'), "container 24.12, not 25.04"),
        (DICT_MAP.replace('"0.8.1"', '"0.8.1 beta"'), "vllm='0.8.1 beta'"),
    ],
)
def test_unreadable_maps_are_one_line_resolve_errors(text: str, message: str) -> None:
    with pytest.raises(ResolveError) as err:
        read_release_facts(text, None, None, upstream_release="25.04")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("cell", "fact"),
    [
        ("Python 3.12.3", "3.12.3"),
        ("2.7.0a0%2B7c8ec84dab.nv25.3", "2.7.0a0+7c8ec84dab.nv25.3"),
        ("0.5.0 post1", "0.5.0.post1"),
        ("N/A", None),
        ("", None),
    ],
)
def test_normalize_fact(cell: str, fact: str | None) -> None:
    assert normalize_fact(cell) == fact


@given(st.text(max_size=80))
def test_normalized_facts_always_fit_the_pattern(cell: str) -> None:
    value = normalize_fact(cell)
    assert value is None or re.match(FACT.pattern, value)


# From 26.05 the map's upstream_container_version deliberately lags the container version:
# build.py takes its branches from the one (r26.05) and its NGC image tags from the other.
LAGGING_MAP = """
DEFAULT_TRITON_VERSION_MAP = {
    "release_version": "2.69.0",
    "triton_container_version": "26.05",
    "upstream_container_version": "26.04",
    "ort_version": "1.24.4",
    "dcgm_version": "4.5.3-1",
}
"""


def test_a_lagging_upstream_container_version_is_recorded_not_refused() -> None:
    release = read_release_facts(LAGGING_MAP, "2.69.0\n", None, upstream_release="26.05")
    assert release.get("container-version") == "26.05"
    assert release.get("upstream-container-version") == "26.04"


def test_the_container_version_must_still_be_the_release_asked_for() -> None:
    with pytest.raises(ResolveError, match=r"container 26\.05, not 26\.06"):
        read_release_facts(LAGGING_MAP, None, None, upstream_release="26.06")
    with pytest.raises(ResolveError, match=r"container 26\.05, not 26\.04"):
        read_release_facts(LAGGING_MAP, None, None, upstream_release="26.04")


def test_an_upstream_container_version_that_names_no_images_is_refused() -> None:
    text = LAGGING_MAP.replace('"26.04"', '"latest"')
    with pytest.raises(ResolveError) as err:
        read_release_facts(text, None, None, upstream_release="26.05")
    line = text.splitlines().index('    "upstream_container_version": "latest",') + 1
    assert str(err.value).startswith(f"build.py:{line}: upstream_container_version 'latest'")


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_every_fact_says_where_it_was_read() -> None:
    release = read_release_facts(DICT_MAP, "2.57.0\n", None, upstream_release="25.04")
    sources = {s.fact: s.source for s in release.sources}
    assert set(sources) == set(release.to_dict())
    assert sources["vllm"] == f"build.py:{_line(DICT_MAP, 'vllm_version')}"
    assert sources["dcgm"] == f"build.py:{_line(DICT_MAP, 'dcgm_version')}"
    no_release = DICT_MAP.replace('"release_version": "2.57.0",', "")
    facts = read_release_facts(no_release, "2.57.0\n", None, upstream_release="25.04")
    assert facts.source("triton-version") is not None
    assert facts.source("triton-version").source == "TRITON_VERSION:1"  # type: ignore[union-attr]


def test_the_tuple_map_points_at_the_chosen_row() -> None:
    release = read_release_facts(TUPLE_MAP, None, None, upstream_release="24.04")
    row = _line(TUPLE_MAP, '"2.45.0"')
    assert {s.source for s in release.sources} == {f"build.py:{row}"}


# Our own miniature of the compatibility matrix: a TensorRT-LLM row whose TensorRT version
# lost its leading digit and whose CUDA differs from the vLLM row's, and a vLLM row naming
# an NGC build rather than a PyPI release.
COMPAT = """
# Release Compatibility Matrix

## Container Name: trtllm-python-py3

| Triton release version | NGC Tag | Python version | TensorRT version | CUDA version |
| --- | --- | --- | --- | --- |
| 26.03 | x/trtllm:26.03 | Python 3.12.3 | 0.14.1.48 | 13.1.0.036 |
| 26.02 | x/trtllm:26.02 | Python 3.12.3 | 10.13.3.9 | 13.0.2.006 |

## Container Name: vllm-python-py3

| Triton release version | NGC Tag | Python version | vLLM version | CUDA version |
| --- | --- | --- | --- | --- |
| 26.03 | x/vllm:26.03 | Python 3.12.3 | 0.17.1+fb2e3ab6.nv26.3.46332470.cu132 | 13.2.0.046 |
| 26.02 | x/vllm:26.02 | Python 3.12.3 | 0.15.1 | 13.0.2.006 |
"""

MAP_2603 = """
DEFAULT_TRITON_VERSION_MAP = {
    "release_version": "2.67.0",
    "triton_container_version": "26.03",
    "upstream_container_version": "26.03",
    "vllm_version": "0.16.0",
}
"""


def test_a_fact_that_is_no_version_of_its_kind_is_kept_and_flagged() -> None:
    release = read_release_facts(MAP_2603, None, COMPAT, upstream_release="26.03")
    trt = release.source("tensorrt")
    assert release.get("tensorrt") == "0.14.1.48"  # verbatim: upstream's word, flagged
    assert trt is not None and trt.note is not None
    assert trt.source == f"docs/introduction/compatibility.md:{_line(COMPAT, '0.14.1.48')}"
    assert trt.note.startswith("not a tensorrt version")
    # cuda and tensorrt come from different rows, whose CUDA versions differ
    assert "CUDA is 13.1.0.036, not cuda=13.2.0.046" in trt.note
    assert release.source("python").note is None  # type: ignore[union-attr]


def test_the_map_wins_over_the_table_and_the_table_value_is_noted() -> None:
    release = read_release_facts(MAP_2603, None, COMPAT, upstream_release="26.03")
    vllm = release.source("vllm")
    assert release.get("vllm") == "0.16.0"
    assert vllm is not None and vllm.source == f"build.py:{_line(MAP_2603, 'vllm_version')}"
    assert vllm.note == (
        f"docs/introduction/compatibility.md:{_line(COMPAT, '0.17.1+')} says "
        "0.17.1+fb2e3ab6.nv26.3.46332470.cu132"
    )


def test_an_ngc_build_string_is_no_pypi_version() -> None:
    no_vllm = MAP_2603.replace('    "vllm_version": "0.16.0",\n', "")
    release = read_release_facts(no_vllm, None, COMPAT, upstream_release="26.03")
    vllm = release.source("vllm")
    assert release.get("vllm") == "0.17.1+fb2e3ab6.nv26.3.46332470.cu132"
    assert vllm is not None and vllm.note is not None
    assert "an NGC build string, not a vLLM release on PyPI (public part 0.17.1)" in vllm.note


def test_consistent_facts_carry_no_note() -> None:
    text = MAP_2603.replace("26.03", "26.02").replace("0.16.0", "0.15.1")
    release = read_release_facts(text, None, COMPAT, upstream_release="26.02")
    assert release.get("tensorrt") == "10.13.3.9"
    assert [s.note for s in release.sources] == [None] * len(release.sources)


@pytest.mark.parametrize(
    ("fact", "value", "ok"),
    [
        ("tensorrt", "10.14.1.48", True),
        ("tensorrt", "0.14.1.48", False),
        ("cuda", "13.2.0.046", True),
        ("cuda", "Thirteen", False),
        ("vllm", "0.8.1", True),
        ("vllm", "0.5.0.post1", True),
        ("vllm", "0.19.0+6bc3197f.nv26.04.48761268", False),
        ("container-version", "26.05", True),
        ("container-version", "26.05dev", True),
        ("container-version", "2605", False),
        ("dcgm", "4.5.3-1", True),
        ("openvino", "2026.1.0", True),
        ("openvino", "1.2.3", False),
        ("python", "3.12.3", True),
    ],
)
def test_kinds(fact: str, value: str, ok: bool) -> None:
    assert (kind_problem(fact, value) is None) == ok
