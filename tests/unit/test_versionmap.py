"""Release facts from build.py's version map (ast only) and the compatibility table."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fixtures.fake_server import COMPAT_MD
from tritonlock.errors import ResolveError
from tritonlock.model import RELEASE_FIELDS
from tritonlock.upstream import read_release_facts
from tritonlock.upstream.versionmap import FACT, normalize_fact, parse_version_map

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
