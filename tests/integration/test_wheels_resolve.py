"""resolve_wheels against a real pypiserver on 127.0.0.1, for targets that are not the host."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.faultproxy import Fault, fault_proxy
from tests.fixtures.pypi import PyPI, pip_env
from tritonlock import lockfile
from tritonlock.errors import ResolveError, SourceError, UsageError
from tritonlock.export.requirements import export_requirements
from tritonlock.model import Index, Inputs, Lock, WheelPin, environments
from tritonlock.resolve import uvcompile
from tritonlock.resolve.wheels import IndexSpec, InstallStep, resolve_wheels
from tritonlock.sources.pyindex import IndexClient
from tritonlock.sources.retry import RetryPolicy
from tritonlock.util import procs

pytestmark = pytest.mark.integration


def resolve(
    index: str | list[IndexSpec],
    cache: Path,
    *steps: tuple[str, ...],
    machine: str = "aarch64",
    python: str = "3.12",
    allow_sdist: bool = False,
    image: str = "base",
) -> tuple[dict[tuple[str, str], WheelPin], tuple[Index, ...]]:
    indexes = [IndexSpec(name="local", url=index)] if isinstance(index, str) else index
    pins, idx = resolve_wheels(
        [InstallStep(name=f"s{i}", image=image, requirements=r) for i, r in enumerate(steps)],
        python_version=python,
        machine=machine,
        indexes=indexes,
        allow_sdist=allow_sdist,
        cache_dir=cache,
        jobs=4,  # pypiserver (wsgiref) listens with a backlog of 5
    )
    return {(p.step, p.name): p for p in pins}, idx


def names(pins: dict[tuple[str, str], WheelPin]) -> set[str]:
    return {name for _, name in pins}


def test_aarch64_py312_closure_uses_target_markers_tags_and_requires_python(
    pypi: PyPI, tmp_path: Path
) -> None:
    pins, idx = resolve(
        pypi.url, tmp_path, ("targetdeps", "markupsafe==2.1.5", "py312only", "numpy<2")
    )
    # host is x86_64 / 3.11: the target's markers pull six and drop idna; py312only 2.0 needs 3.12
    assert names(pins) == {"targetdeps", "six", "attrs", "markupsafe", "py312only", "numpy"}
    assert pins["s0", "py312only"].version == "2.0"
    assert pins["s0", "numpy"].version == "1.26.4"
    assert pins["s0", "numpy"].requested == "numpy<2"
    ms = pins["s0", "markupsafe"]
    assert [f.name for f in ms.files] == [
        "MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    ]
    for pin in pins.values():
        for f in pin.files:
            assert f.sha256 == pypi.sha256(f.name)
            assert f.size == pypi.size(f.name)
        assert pin.index == "local" and not pin.sdist
    assert idx == (Index(name="local", url=pypi.url),)


def test_x86_64_gets_x86_64_files_and_its_own_markers(pypi: PyPI, tmp_path: Path) -> None:
    pins, _ = resolve(pypi.url, tmp_path, ("targetdeps", "markupsafe==2.1.5"), machine="x86_64")
    assert names(pins) == {"targetdeps", "attrs", "markupsafe"}
    assert [f.name for f in pins["s0", "markupsafe"].files] == [
        "MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    ]


def test_resolved_lock_passes_the_schema(pypi: PyPI, tmp_path: Path) -> None:
    pins, idx = resolve(pypi.url, tmp_path, ("attrs", "numpy<2"), ("six",))
    lock = lockfile.seal(
        Lock(inputs=Inputs(release="25.04", target="sbsa"), wheel=tuple(pins.values()), index=idx)
    )
    lockfile.validate_data(lock.to_dict())


def test_vllm_without_target_wheel_names_what_exists(pypi: PyPI, tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as err:
        resolve(pypi.url, tmp_path, ("vllm==0.8.1",))
    msg = str(err.value)
    assert "vllm-0.8.1-cp38-abi3-manylinux1_x86_64.whl" in msg and "vllm-0.8.1.tar.gz" in msg
    assert "aarch64" in msg and "\n" not in msg
    pins, _ = resolve(pypi.url, tmp_path, ("vllm==0.8.1",), machine="x86_64")
    assert pins["s0", "vllm"].files[0].name == "vllm-0.8.1-cp38-abi3-manylinux1_x86_64.whl"


def test_sdist_only_with_allow_sdist_and_marked(pypi: PyPI, tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match=r"onlysdist-1\.0\.tar\.gz"):
        resolve(pypi.url, tmp_path, ("onlysdist",))
    pins, _ = resolve(pypi.url, tmp_path, ("onlysdist",), allow_sdist=True)
    pin = pins["s0", "onlysdist"]
    assert pin.sdist and [f.name for f in pin.files] == ["onlysdist-1.0.tar.gz"]
    assert pin.files[0].sha256 == pypi.sha256("onlysdist-1.0.tar.gz")


def test_later_step_of_an_image_cannot_lift_numpy(pypi: PyPI, tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match=r"step 's1'.*numpy") as err:
        resolve(pypi.url, tmp_path, ("numpy<2",), ("needs-numpy2",), machine="x86_64")
    msg = str(err.value)
    assert "(numpy<2 holds: step 's0' asks for numpy<2 and the python backend" in msg
    # before uv's explanation, which an [[unresolved]] reason cuts at 480 characters
    assert msg.index("numpy<2 holds") < msg.index("No solution found")


def test_a_held_cap_is_said_only_where_it_is_part_of_the_failure(
    pypi: PyPI, tmp_path: Path
) -> None:
    with pytest.raises(ResolveError, match=r"step 's1'.*torch") as err:
        resolve(
            pypi.url, tmp_path, ("numpy<2",), ("torch==2.6.0", "torchvision==0.22.0"),
            machine="x86_64",
        )  # fmt: skip
    assert "holds" not in str(err.value)


def test_later_step_keeps_earlier_versions(pypi: PyPI, tmp_path: Path) -> None:
    pins, _ = resolve(pypi.url, tmp_path, ("tomlkit==0.12.5",), ("tomlkit",))
    assert pins["s0", "tomlkit"].version == pins["s1", "tomlkit"].version == "0.12.5"


def test_later_step_may_downgrade_as_pip_does(pypi: PyPI, tmp_path: Path) -> None:
    # the shape of tritonfrontend's pydantic==2.10.6 after vLLM's newer pydantic
    pins, _ = resolve(pypi.url, tmp_path, ("tomlkit",), ("tomlkit==0.12.5", "six"))
    assert pins["s0", "tomlkit"].version == "0.13.2"
    assert pins["s1", "tomlkit"].version == "0.12.5"
    lock = Lock(inputs=Inputs(release="-", target="-"), wheel=tuple(pins.values()))
    [env] = environments(lock.wheel)
    assert env.steps == ("s0", "s1")
    assert "tomlkit==0.12.5" in env.packages and "tomlkit==0.13.2" not in env.packages


def test_final_environment_must_be_consistent(pypi: PyPI, tmp_path: Path) -> None:
    # s1 downgrades tomlkit below what s0's package needs: pip would install it, then
    # `pip check` fails; resolve refuses and says why
    with pytest.raises(ResolveError) as err:
        resolve(pypi.url, tmp_path, ("likes-new-tomlkit",), ("tomlkit==0.12.5",))
    message = str(err.value)
    assert message.startswith("image 'base': the packages its install steps leave installed")
    assert "pip check would fail" in message and "likes-new-tomlkit" in message
    assert "\n" not in message
    # without the downgrade it resolves
    pins, _ = resolve(pypi.url, tmp_path, ("likes-new-tomlkit",))
    assert pins["s0", "tomlkit"].version == "0.13.2"


def test_torch_family_rule_at_resolve(pypi: PyPI, tmp_path: Path) -> None:
    with pytest.raises(
        ResolveError, match=r"torchvision 0\.20\.0 does not belong to torch 2\.7\.0"
    ):
        resolve(pypi.url, tmp_path, ("torch==2.7.0", "torchvision==0.20.0"))
    pins, _ = resolve(pypi.url, tmp_path, ("torch==2.7.0", "torchvision", "torchaudio"))
    assert pins["s0", "torchvision"].version == "0.22.0"


def test_extra_index_wins_like_a_jetson_index(
    pypi: PyPI, jetson_pypi: PyPI, tmp_path: Path
) -> None:
    indexes = [
        IndexSpec(name="pypi", url=pypi.url),
        IndexSpec(name="jetson", url=jetson_pypi.url, extra=True),
    ]
    pins, idx = resolve(indexes, tmp_path, ("torch==2.7.0", "six"))
    assert pins["s0", "torch"].index == "jetson"
    assert [f.name for f in pins["s0", "torch"].files] == [
        "torch-2.7.0-cp312-cp312-linux_aarch64.whl"
    ]
    assert pins["s0", "six"].index == "pypi"
    assert {i.name for i in idx} == {"pypi", "jetson"}


def test_credentials_are_used_but_never_recorded(pypi: PyPI, tmp_path: Path) -> None:
    url = pypi.url.replace("http://", "http://user:s3cret@")
    pins, idx = resolve(url, tmp_path, ("six",))
    assert idx == (Index(name="local", url=None),)
    assert "s3cret" not in repr(pins) + repr(idx)
    assert not any("s3cret" in p.read_text(errors="ignore") for p in tmp_path.rglob("*.json"))


def test_agrees_with_pip_compile_where_it_can_resolve(pypi: PyPI, tmp_path: Path) -> None:
    """pip-compile resolves for the host; for pure wheels the host's answer is the target's."""
    req = tmp_path / "req.in"
    req.write_text("attrs\nsix\ntomlkit\npackaging\n")
    out = tmp_path / "req.txt"
    subprocess.run(
        ["pip-compile", "-q", "--generate-hashes", "--no-header", "--index-url", pypi.url,
         "-o", str(out), str(req)],
        check=True, env=pip_env(), cwd=tmp_path,
    )  # fmt: skip
    text = out.read_text()
    pins, _ = resolve(pypi.url, tmp_path / "c", ("attrs", "six", "tomlkit", "packaging"))
    for pin in pins.values():
        assert f"{pin.name}=={pin.version}" in text
        for f in pin.files:
            assert f"--hash={f.sha256}" in text


def test_export_installs_with_require_hashes(pypi: PyPI, tmp_path: Path) -> None:
    pins, idx = resolve(
        pypi.url, tmp_path, ("attrs", "six", "idna"), python="3.11", machine="x86_64"
    )
    lock = lockfile.seal(
        Lock(inputs=Inputs(release="25.04", target="x86_64"), wheel=tuple(pins.values()), index=idx)
    )
    req = tmp_path / "requirements.txt"
    req.write_text(export_requirements(lock, "s0"))
    pip = ["python3", "-m", "pip", "install", "-q", "--require-hashes", "--no-deps",
           "--index-url", pypi.url, "--target", str(tmp_path / "t"), "-r", str(req)]  # fmt: skip
    subprocess.run(pip, check=True, env=pip_env())
    assert (tmp_path / "t" / "six.py").exists() and (tmp_path / "t" / "attrs").is_dir()
    req.write_text(req.read_text().replace(pins["s0", "six"].files[0].sha256[7:], "0" * 64))
    bad = subprocess.run(pip, env=pip_env(), capture_output=True, text=True)
    assert bad.returncode != 0 and "HASH" in bad.stderr.upper()


@pytest.mark.parametrize(
    ("reqs", "error", "words"),
    [
        (("no-such-package",), ResolveError, "'no-such-package' is not on index"),
        (("six==9.9",), ResolveError, "no version of six matches '==9.9'"),
        (("tomlkit==0.12.5", "tomlkit==0.13.2"), ResolveError, "cannot resolve"),
        (("six ==",), UsageError, "is not a valid requirement"),
    ],
)
def test_bad_requirements_are_one_line_errors(
    pypi: PyPI, tmp_path: Path, reqs: tuple[str, ...], error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as err:
        resolve(pypi.url, tmp_path, reqs)
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("404/simple/", ResolveError, "is not on index"),
        ("500/simple/", ResolveError, "answered HTTP 500 (gave up after 2 attempts)"),
        ("garbage/simple/", SourceError, "not a PEP 691/503 project page"),
        ("badhash/simple/", SourceError, "serves wrong bytes"),
    ],
)
def test_bad_index_is_a_one_line_error(
    bad_index: str,
    tmp_path: Path,
    path: str,
    error: type[Exception],
    words: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(IndexClient, "retry", RetryPolicy(attempts=2, base_delay=0.01))
    with pytest.raises(error) as err:
        resolve(bad_index + path, tmp_path, ("six",))
    assert words in str(err.value) and "\n" not in str(err.value)


FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


def test_transient_index_failures_are_retried(
    pypi: PyPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two 503s for the project page, then the page as a healthy index lists it."""
    monkeypatch.setattr(IndexClient, "retry", FAST)
    with fault_proxy(pypi.url) as proxy, httpx.Client() as http:
        proxy.add(Fault(path="/simple/six/", kind="status", status=503, times=2))
        client = IndexClient("local", f"{proxy.url}/simple/", cache_dir=tmp_path, http=http)
        files = client.project("six")
        assert proxy.hits("/simple/six/") == 3
    assert files is not None
    assert {f.filename for f in files} == {p.name for p in pypi.root.glob("six-*")}


def test_a_truncated_download_is_retried(
    pypi: PyPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index lists no size and its server refuses a HEAD request, so the file is
    downloaded once to learn it and check its hash; a download cut short is tried again."""
    monkeypatch.setattr(IndexClient, "retry", FAST)
    name = "six-1.16.0-py2.py3-none-any.whl"
    with fault_proxy(pypi.url) as proxy, httpx.Client() as http:
        proxy.add(Fault(path=name, kind="status", status=405, times=1))  # the HEAD
        proxy.add(Fault(path=name, kind="truncate", times=1))
        client = IndexClient("local", f"{proxy.url}/simple/", cache_dir=tmp_path, http=http)
        files = client.project("six")
        assert files is not None
        (listed,) = [f for f in files if f.filename == name]
        assert listed.size is None  # PEP 503 HTML: no size, so a download is needed
        sha, size = client.facts(listed)
        assert [s.method for s in proxy.seen if name in s.path] == ["HEAD", "GET", "GET"]
    assert ("sha256:" + sha, size) == (pypi.sha256(name), pypi.size(name))


def test_persistent_index_5xx_gives_up_in_one_line(
    pypi: PyPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(IndexClient, "retry", FAST)
    with fault_proxy(pypi.url) as proxy:
        proxy.add(Fault(path="/simple/six/", kind="status", status=503, times=-1))
        with pytest.raises(ResolveError) as err:
            resolve(f"{proxy.url}/simple/", tmp_path, ("six",))
        assert proxy.hits("/simple/six/") == 3
    text = str(err.value)
    assert "project 'six': answered HTTP 503 (gave up after 3 attempts)" in text, text
    assert "\n" not in text


def test_a_requirement_that_fails_its_check_ends_the_uv_already_running(
    pypi: PyPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv starts first and the requested projects are checked while it runs; a check that
    fails ends uv (here one that would never finish) and says why, in one line."""
    slow = tmp_path / "uv"
    slow.write_text("#!/bin/sh\nexec sleep 600\n")
    slow.chmod(0o755)
    started: list[procs.Started] = []

    def start(argv: list[str], **kw: Any) -> procs.Started:
        started.append(procs_start(argv, **kw))
        return started[-1]

    procs_start = procs.start
    monkeypatch.setattr(uvcompile, "uv_binary", lambda: str(slow))
    monkeypatch.setattr(procs, "start", start)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ResolveError, match="'no-such-package' is not on index") as err:
        resolve(pypi.url, tmp_path / "cache", ("six", "no-such-package"))
    assert "\n" not in str(err.value)
    assert [s.argv[0] for s in started] == [str(slow)]
    assert started[0].returncode == -9
    assert list(tmp_path.glob("tritonlock-uv-*")) == []
