"""Each rule with a lock that breaks it (positive) and one that keeps it (negative)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tritonlock.model import (
    Commit,
    GitPin,
    Index,
    Inputs,
    Lock,
    Release,
    ReleaseSource,
    Sha256,
    Unresolved,
    WheelFile,
    WheelPin,
    environments,
)
from tritonlock.resolve import rules

DIGEST = Sha256("sha256:" + "5" * 64)


def wheel(
    name: str,
    version: str,
    *,
    step: str = "final",
    image: str = "final",
    files: tuple[WheelFile, ...] = (),
    requested: str | None = None,
    sdist: bool = False,
) -> WheelPin:
    default = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    return WheelPin(
        step=step,
        image=image,
        name=name,
        version=version,
        index="pypi",
        files=files or (WheelFile(name=default, sha256=DIGEST, size=1),),
        requested=requested,
        sdist=sdist,
    )


def lock(*wheels: WheelPin, **kw: object) -> Lock:
    fields: dict[str, object] = {"index": (Index(name="pypi"),), **kw}
    return Lock(inputs=Inputs(release="25.04", target="x86_64"), wheel=wheels, **fields)  # type: ignore[arg-type]


def git(name: str) -> GitPin:
    return GitPin(name=name, url=f"http://127.0.0.1/{name}", ref="r25.04", commit=Commit("a" * 40))


def test_torch_family_mismatch() -> None:
    bad = lock(
        wheel("torch", "2.6.0"), wheel("torchvision", "0.20.1"), wheel("torchaudio", "2.6.0")
    )
    [problem] = rules.torch_family(bad)
    assert problem.startswith("wheel[1].version: torchvision 0.20.1 does not belong to torch 2.6.0")
    assert "expected torchvision 0.21.*" in problem
    [problem] = rules.torch_family(lock(wheel("torch", "2.6.0"), wheel("torchaudio", "2.5.1")))
    assert "torchaudio 2.5.1 does not belong to torch 2.6.0" in problem


def test_torch_family_match() -> None:
    nv = "2.7.0a0+79aa17489c.nv25.4"
    assert rules.torch_family(lock(wheel("torch", nv), wheel("torchvision", "0.22.0"))) == []
    good = lock(
        wheel("torch", "2.6.0"), wheel("torchvision", "0.21.0"), wheel("torchaudio", "2.6.0")
    )
    assert rules.torch_family(good) == []
    # different images may carry different families
    other = lock(wheel("torch", "2.6.0"), wheel("torchvision", "0.20.1", image="buildbase"))
    assert rules.torch_family(other) == []


def test_numpy_below_2_broken() -> None:
    bad = lock(
        wheel("numpy", "1.26.4", step="python", requested="numpy<2"),
        wheel("numpy", "2.2.0", step="vllm"),
    )
    problems = rules.numpy_below_2(bad)
    assert problems == [
        "wheel[1].version: numpy 2.2.0 in step 'vllm' lifts the numpy<2 that step 'python' of "
        "image 'final' holds (the python backend breaks with NumPy 2)"
    ]


def ordered(*wheels: WheelPin) -> Lock:
    """A lock that records its install order: the order the wheels are given in."""
    return replace(lock(*wheels), environment=environments(wheels))


def test_numpy_cap_holds_from_its_step_on() -> None:
    # numpy 2 from an earlier step is downgraded by the capping step, as pip does: fine
    fine = ordered(
        wheel("numpy", "2.2.0", step="vllm"),
        wheel("numpy", "1.26.4", step="python", requested="numpy<2"),
    )
    assert rules.numpy_below_2(fine) == []
    # a later step that lifts it again breaks the python backend
    bad = ordered(
        wheel("numpy", "1.26.4", step="python", requested="numpy<2"),
        wheel("numpy", "2.2.0", step="vllm"),
    )
    [problem] = rules.numpy_below_2(bad)
    assert "numpy 2.2.0 in step 'vllm' lifts the numpy<2 that step 'python'" in problem


def test_held_caps() -> None:
    capped = wheel("numpy", "1.26.4", step="python", requested="numpy<2")
    [(cap, why)] = rules.held_caps([capped])
    assert cap == "numpy<2" and "step 'python' asks for numpy<2" in why
    assert rules.held_caps([wheel("numpy", "2.2.0", requested="numpy>=1.20")]) == []


def test_versions_may_change_between_ordered_steps() -> None:
    steps = ordered(
        wheel("pydantic", "2.14.4", step="vllm"), wheel("pydantic", "2.10.6", step="frontend")
    )
    assert rules.one_version_per_image(steps) == []
    assert rules.environments_match(steps) == []
    assert rules.step_notes(steps) == [
        "pydantic 2.14.4 → 2.10.6 in step frontend (image final; 2.14.4 from step vllm)"
    ]
    assert steps.environment[0].packages == ("pydantic==2.10.6",)


def test_environment_must_match_its_steps() -> None:
    good = ordered(wheel("a", "1", step="one"), wheel("a", "2", step="two"), wheel("b", "1"))
    assert rules.environments_match(good) == []
    [env] = good.environment
    stale = replace(good, environment=(replace(env, packages=("a==1", "b==1")),))
    [problem] = rules.environments_match(stale)
    assert problem == (
        "environment[0].packages: lists a==1 which its steps do not leave installed; lacks a==2"
    )
    short = replace(good, environment=(replace(env, steps=("one", "two")),))
    assert any("lacks step 'final'" in p for p in rules.environments_match(short))
    elsewhere = replace(good, environment=(replace(env, image="buildbase"),))
    assert any(
        "installs into image 'final', not 'buildbase'" in p
        for p in rules.environments_match(elsewhere)
    )


def test_numpy_below_2_kept() -> None:
    assert rules.numpy_below_2(lock(wheel("numpy", "1.26.4", requested="numpy<2"))) == []
    # numpy 2 is fine where nobody asked for numpy<2, or in another image
    assert rules.numpy_below_2(lock(wheel("numpy", "2.2.0", requested="numpy>=1.20"))) == []
    two_images = lock(
        wheel("numpy", "1.26.4", requested="numpy<2"), wheel("numpy", "2.2.0", image="buildbase")
    )
    assert rules.numpy_below_2(two_images) == []


def test_one_version_per_image() -> None:
    bad = lock(wheel("httpx", "0.27.2", step="openai"), wheel("httpx", "0.28.1", step="vllm"))
    [problem] = rules.one_version_per_image(bad)
    assert problem.startswith("wheel[1].version: httpx 0.28.1 in step 'vllm' differs from 0.27.2")
    same = lock(wheel("httpx", "0.27.2", step="openai"), wheel("httpx", "0.27.2", step="vllm"))
    assert rules.one_version_per_image(same) == []
    other_image = lock(wheel("httpx", "0.27.2"), wheel("httpx", "0.28.1", image="buildbase"))
    assert rules.one_version_per_image(other_image) == []


def test_index_declared() -> None:
    ok = lock(wheel("vllm", "0.8.1"))
    assert rules.wheel_indexes_known(ok) == []
    bad = replace(ok, index=(Index(name="nvidia"),))
    assert rules.wheel_indexes_known(bad) == ["wheel[0].index: 'pypi' is not declared in [[index]]"]


@pytest.mark.parametrize(
    ("file_name", "sdist", "problem"),
    [
        ("vllm-0.8.1-cp38-abi3-manylinux1_x86_64.whl", False, None),
        ("Vllm-0.8.1-cp38-abi3-manylinux1_x86_64.whl", False, None),  # names compare normalized
        ("vllm-0.8.1.tar.gz", True, None),
        ("vllm-0.8.2-cp38-abi3-manylinux1_x86_64.whl", False, "is not a wheel of vllm 0.8.1"),
        ("torch-0.8.1-cp38-abi3-manylinux1_x86_64.whl", False, "is not a wheel of vllm 0.8.1"),
        ("vllm-0.8.1.whl", False, "is not a wheel of vllm 0.8.1"),
        ("vllm-0.8.1.tar.gz", False, "is an sdist, but sdist is not allowed for vllm"),
        ("vLLM-0.8.1.zip", True, None),
        ("torch-0.8.1.tar.gz", True, "is not an sdist of vllm 0.8.1"),
        ("vllm-0.8.2.tar.gz", True, "is not an sdist of vllm 0.8.1"),
        ("vllm.tar.gz", True, "is not an sdist of vllm 0.8.1"),
    ],
)
def test_wheel_file_names(file_name: str, sdist: bool, problem: str | None) -> None:
    files = (WheelFile(name=file_name, sha256=DIGEST, size=1),)
    found = rules.wheel_files_match(lock(wheel("vllm", "0.8.1", files=files, sdist=sdist)))
    if problem is None:
        assert found == []
    else:
        assert found == [f"wheel[0].files[0].name: {file_name!r} {problem}"]


def test_duplicates() -> None:
    w = wheel("vllm", "0.8.1")
    bad = lock(w, w, git=(git("server"), git("server")), index=(Index(name="pypi"),) * 2)
    assert rules.unique_entries(bad) == [
        "git[1]: duplicate name 'server' (first at git[0])",
        "wheel[1]: duplicate step/name ('final', 'vllm') (first at wheel[0])",
        "index[1]: duplicate name 'pypi' (first at index[0])",
    ]
    good = lock(w, replace(w, step="vllm"), git=(git("server"), git("core")))
    assert rules.unique_entries(good) == []


def test_stale_inputs() -> None:
    inputs = Inputs(release="25.04", target="igpu", backends=("python", "vllm:r25.04", "ensemble"))
    pinned = (git("server"), git("python_backend"), git("vllm_backend"))
    assert rules.inputs_covered(Lock(inputs=inputs, git=pinned)) == []
    stale = Lock(inputs=replace(inputs, caches=("redis",)), git=pinned)
    assert rules.inputs_covered(stale) == [
        "git: no pin for 'redis_cache', which the inputs ask for; the lock is stale, "
        "run `tritonlock update`"
    ]
    no_server = Lock(inputs=inputs, git=pinned[1:])
    assert [p.split(",")[0] for p in rules.inputs_covered(no_server)] == [
        "git: no pin for 'server'"
    ]


def test_partial() -> None:
    todo = Unresolved(kind="wheel", what="vllm", why="no aarch64 wheel")
    assert rules.partial(lock(unresolved=(todo,))) == [
        "unresolved[0]: partial lock: wheel 'vllm' is not pinned (no aarch64 wheel)"
    ]
    assert rules.partial(lock()) == []
    # a partial lock is not also called stale
    inputs = Inputs(release="25.04", target="igpu", backends=("vllm",))
    assert rules.inputs_covered(Lock(inputs=inputs, unresolved=(todo,))) == []


def test_check_runs_every_rule() -> None:
    bad = lock(wheel("numpy", "1.26.4", requested="numpy<2"), wheel("numpy", "2.0.0", step="x"))
    assert len(rules.check(bad)) == 2  # one version per image + numpy<2


def test_release_sources_name_facts_of_the_release() -> None:
    facts = (("tensorrt", "10.14.1.48"),)
    ok = Release(facts=facts, sources=(ReleaseSource(fact="tensorrt", source="build.py:3"),))
    assert rules.unique_entries(lock(release=ok)) == []
    stray = ReleaseSource(fact="cuda", source="build.py:4")
    bad = Release(facts=facts, sources=(*ok.sources, stray, ok.sources[0]))
    assert rules.unique_entries(lock(release=bad)) == [
        "release-source[2]: duplicate fact 'tensorrt' (first at release-source[0])",
        "release-source[1].fact: 'cuda' is not a fact in [release]",
    ]


@pytest.mark.parametrize(
    "requested",
    [
        "numpy<2",
        "numpy <2.0,>=1.21",
        "numpy[extra1, extra2] (<2,!=1.25.0)",
        "NumPy.Core_x >=1.26 ; python_version < '3.13'",
        "numpy<2; platform_machine == 'x86_64' and python_version >= '3.10'",
        "numpy",
        "numpy ; sys_platform == 'linux'",
        "numpy~=1.26",
        "numpy==2.*",
        "numpy>=2",
        "numpy===1.26.4",
        "numpy @ https://example.invalid/numpy-1.26.4.whl",
        "numpy (<2) ; extra == 'x'",
    ],
)
def test_specifier_cut_agrees_with_packaging_requirement(requested: str) -> None:
    from packaging.requirements import Requirement

    got = rules._specifier(requested)
    assert got is not None
    assert got == Requirement(requested).specifier


@pytest.mark.parametrize("requested", ["numpy<<2", "numpy @", "<2", "numpy[x <2", ""])
def test_specifier_of_an_invalid_requirement_is_none(requested: str) -> None:
    assert rules._specifier(requested) is None
    assert rules._caps_below_2(requested) is False


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://pypi.org/simple", False),
        ("https://pypi.jetson-ai-lab.dev/jp6/cu126", False),
        ("https://download.pytorch.org/whl/nightly-extra-long-name", False),
        ("https://pypi.org/simple/?token=tlk8e2b6d4f1a9c07e3", True),
        ("https://pypi.org/simple/#frag", True),
        ("https://host/AbC123dEf456GhI789/simple", True),
    ],
)
def test_index_urls_are_credential_free(url: str, refused: bool) -> None:
    one = replace(lock(wheel("vllm", "0.8.1")), index=(Index(name="pypi", url=url),))
    found = rules.index_urls_credential_free(one)
    assert bool(found) is refused
    for problem in found:
        assert problem.startswith("index[0].url: looks like it carries a credential")
        assert "tlk8e2b6" not in problem and "AbC123" not in problem
    if found:
        assert found[0] in rules.check(one)
