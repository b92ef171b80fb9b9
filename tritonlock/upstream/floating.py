"""Every floating input of a generated recipe, with where each was found (pure).

Dockerfiles are read with BuildKit's own parser (PyPI ``dockerfile``); RUN lines and
build scripts are split into commands by :mod:`.shell` and recognised by
:mod:`.commands`. Locations are ``<file>:<line>`` of the instruction or script line.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import dockerfile
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import ResolveError
from ..util.imageref import split_ref
from ..util.redact import without_userinfo
from . import commands, shell


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageUse:
    """An image by ref. Roles: ``base``, ``gpu-base``, ``pytorch``, ``inference`` (the final
    image's base when it is not the build's), ``<backend>-build``, ``from-<stage>`` (a FROM
    with a literal image) or ``copy-from-<name>``."""

    role: str
    ref: str
    found_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PipInstall:
    """One ``pip install``: a stable step name, the image role it runs in, its
    requirements and options (credentials removed), the ``if`` conditions around it."""

    step: str
    image: str
    requirements: tuple[str, ...]
    requirement_files: tuple[str, ...] = ()
    constraint_files: tuple[str, ...] = ()
    index_options: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    found_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AptInstall:
    """One package-manager install; ``repositories`` are those added earlier in its stage
    (the base image's own sources are not listed)."""

    step: str
    image: str
    manager: str
    packages: tuple[tuple[str, str | None], ...]
    repositories: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    found_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UrlUse:
    url: str
    conditions: tuple[str, ...] = ()
    found_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GitUse:
    name: str
    url: str
    ref: str
    found_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatingInputs:
    images: tuple[ImageUse, ...] = ()
    pip: tuple[PipInstall, ...] = ()
    apt: tuple[AptInstall, ...] = ()
    urls: tuple[UrlUse, ...] = ()
    git: tuple[GitUse, ...] = ()


@dataclass
class _Found:
    images: list[ImageUse] = field(default_factory=list)
    pip: list[PipInstall] = field(default_factory=list)
    apt: list[AptInstall] = field(default_factory=list)
    urls: list[UrlUse] = field(default_factory=list)
    git: list[GitUse] = field(default_factory=list)


@dataclass
class _Stage:
    """Where commands run: step prefix, image role, repositories added so far."""

    step: str
    image: str
    repos: list[str] = field(default_factory=list)


def floating_inputs(
    files: Mapping[str, str], *, roles: frozenset[str] = frozenset()
) -> FloatingInputs:
    """Collect every floating input of the generated files (name -> text). ``roles``: the
    image roles the build.py that wrote them reads (``imageroles.image_roles``)."""
    found = _Found()
    for name in sorted(files):
        if name.startswith("Dockerfile"):
            _scan_dockerfile(name, files[name], found)
        else:
            _scan_script(name, files[name], found)
    if "inference" in roles:
        _inference_role(found)
    return FloatingInputs(
        images=_merge(found.images, lambda i: (i.role, i.ref)),
        pip=_unique_steps(found.pip),
        apt=tuple(found.apt),
        urls=_merge(found.urls, lambda u: (u.url, u.conditions)),
        git=_merge(found.git, lambda g: (g.name, g.url, g.ref)),
    )


_T = TypeVar("_T", bound=ImageUse | UrlUse | GitUse)
_FINAL = "Dockerfile:"


def _inference_role(found: _Found) -> None:
    """From r26.03 build.py writes the final Dockerfile's ``ARG BASE_IMAGE`` from its
    ``INFERENCE_IMAGE`` (``--image inference,…``, or the vLLM image for ``--backend vllm``)
    while the build stages keep the ``base`` image. Both are ``FROM ${BASE_IMAGE}``; when
    the final one names another image, it is the ``inference`` image, and what runs in it
    runs there (one role must never stand for two images)."""

    def final(where: tuple[str, ...]) -> bool:
        return bool(where) and all(loc.startswith(_FINAL) for loc in where)

    built = {i.ref for i in found.images if i.role == "base" and not final(i.found_in)}
    if not built or not any(
        i.role == "base" and final(i.found_in) and i.ref not in built for i in found.images
    ):
        return
    found.images[:] = [
        replace(i, role="inference") if i.role == "base" and final(i.found_in) else i
        for i in found.images
    ]
    found.pip[:] = [
        replace(p, image="inference") if p.image == "base" and final(p.found_in) else p
        for p in found.pip
    ]
    found.apt[:] = [
        replace(a, image="inference") if a.image == "base" and final(a.found_in) else a
        for a in found.apt
    ]


def _merge(items: Iterable[_T], key: Callable[[_T], Hashable]) -> tuple[_T, ...]:
    """One entry per key, in first-seen order, with every found-in location."""
    merged: dict[Hashable, _T] = {}
    for item in items:
        k = key(item)
        old = merged.get(k)
        if old is None:
            merged[k] = item
            continue
        more = tuple(loc for loc in item.found_in if loc not in old.found_in)
        merged[k] = replace(old, found_in=(*old.found_in, *more))
    return tuple(merged.values())


def _unique_steps(items: Iterable[PipInstall]) -> tuple[PipInstall, ...]:
    seen: dict[str, int] = {}
    out = []
    for item in items:
        seen[item.step] = seen.get(item.step, 0) + 1
        n = seen[item.step]
        out.append(item if n == 1 else replace(item, step=f"{item.step}-{n}"))
    return tuple(out)


# --- Dockerfiles -------------------------------------------------------------------------

# build.py's own stage names for images it takes from ``--image <role>,...``.
_STAGE_ROLES = {"min_container": "gpu-base"}
_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def file_step(name: str) -> str:
    """``Dockerfile`` -> ``final``, ``Dockerfile.buildbase`` -> ``buildbase``."""
    return "final" if name == "Dockerfile" else slug(name.removeprefix("Dockerfile."))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-_")[:64] or "x"


def _arg_role(raw: str) -> str | None:
    """``${BASE_IMAGE}`` -> ``base``, ``${GPU_BASE_IMAGE}`` -> ``gpu-base``."""
    m = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", raw)
    return slug(m.group(1).lower().removesuffix("_image")) if m else None


def _parse(name: str, text: str) -> tuple[Any, ...]:
    try:
        return tuple(dockerfile.parse_string(text))
    except dockerfile.GoParseError as err:
        raise ResolveError(f"{name}: cannot parse the generated Dockerfile: {err}") from None


def _scan_dockerfile(name: str, text: str, found: _Found) -> None:
    args: dict[str, str] = {}
    stages: dict[str, _Stage] = {}
    stage = _Stage(file_step(name), "base")
    seen_from = False
    for ins in _parse(name, text):
        where = f"{name}:{ins.start_line}"
        seen_from = seen_from or ins.cmd == "FROM"
        if ins.cmd == "ARG" and not seen_from:
            for value in ins.value:
                key, _, default = value.partition("=")
                args.setdefault(key, default)
        elif ins.cmd == "FROM" and ins.value:
            stage = _from(name, ins.value, args, stages, where, found)
        elif ins.cmd == "RUN":
            script = shlex.join(ins.value) if ins.json else " ".join(ins.value)
            _scan_commands(shell.split(script), stage, where, found)
        elif ins.cmd in ("COPY", "ADD"):
            _copy(ins, stages, where, found)


def _from(
    name: str,
    value: tuple[str, ...],
    args: dict[str, str],
    stages: dict[str, _Stage],
    where: str,
    found: _Found,
) -> _Stage:
    raw = value[0]
    alias = value[2].lower() if len(value) >= 3 and value[1].lower() == "as" else None
    if raw.lower() in stages:
        parent = stages[raw.lower()]
        stage = _Stage(parent.step, parent.image, list(parent.repos))
    else:
        role = _arg_role(raw) or _STAGE_ROLES.get(alias or "")
        role = role or f"from-{slug(alias or os.path.basename(raw))}"
        ref = _VAR.sub(lambda m: args.get(m.group(1), m.group(0)), raw)
        found.images.append(ImageUse(role=role, ref=ref, found_in=(where,)))
        stage = _Stage(file_step(name), role)
    if alias:
        stage.step = f"{file_step(name)}-{slug(alias)}"
        stages[alias] = stage
    return stage


def _copy(ins: Any, stages: dict[str, _Stage], where: str, found: _Found) -> None:
    for flag in ins.flags:
        source = flag.removeprefix("--from=")
        if source != flag and source.lower() not in stages and not source.isdigit():
            repo = split_ref(source)[0].rsplit("/", 1)[-1]
            found.images.append(
                ImageUse(role=f"copy-from-{slug(repo)}", ref=source, found_in=(where,))
            )
    if ins.cmd == "ADD":
        for src in ins.value[:-1]:
            url, _, ref = without_userinfo(src).partition("#")
            if url.endswith(".git") or url.startswith("git@"):
                found.git.append(
                    GitUse(name=_repo_name(url), url=url, ref=ref or "HEAD", found_in=(where,))
                )
            elif re.match(r"^(https?|ftp)://", src):
                found.urls.append(UrlUse(url=without_userinfo(src), found_in=(where,)))


# --- commands ----------------------------------------------------------------------------


def _scan_commands(cmds: Iterable[shell.Command], stage: _Stage, where: str, found: _Found) -> None:
    for cmd in cmds:
        stage.repos.extend(r for r in commands.repositories(cmd) if r not in stage.repos)
        found.urls.extend(
            UrlUse(url=u, conditions=cmd.conditions, found_in=(where,)) for u in commands.urls(cmd)
        )
        pip = commands.pip(cmd)
        if pip is not None:
            found.pip.append(_pip_install(pip, cmd, stage, where))
        pkgs = commands.packages(cmd)
        if pkgs is not None and pkgs[1]:
            found.apt.append(
                AptInstall(
                    step=stage.step,
                    image=stage.image,
                    manager=pkgs[0],
                    packages=pkgs[1],
                    repositories=tuple(stage.repos),
                    conditions=cmd.conditions,
                    found_in=(where,),
                )
            )
        clone = commands.git_clone(cmd)
        if clone is not None:
            url, ref = clone
            found.git.append(
                GitUse(name=_repo_name(url), url=url, ref=ref or "HEAD", found_in=(where,))
            )


def _pip_install(pip: commands.Pip, cmd: shell.Command, stage: _Stage, where: str) -> PipInstall:
    return PipInstall(
        step=f"{stage.step}-{_step_key(pip)}",
        image=stage.image,
        requirements=pip.requirements,
        requirement_files=pip.requirement_files,
        constraint_files=pip.constraint_files,
        index_options=pip.index_options,
        options=pip.options,
        conditions=cmd.conditions,
        found_in=(where,),
    )


def _step_key(pip: commands.Pip) -> str:
    """A stable name for a pip step: its first requirement's name, wheel or file stem."""
    for req in pip.requirements:
        base = os.path.basename(req.split("[", 1)[0])
        if base.endswith((".whl", ".tar.gz", ".zip")) or "/" in req:
            return slug(str(canonicalize_name(base.split("-", 1)[0])))
        try:
            return slug(str(canonicalize_name(Requirement(req).name)))
        except InvalidRequirement:
            continue
    for path in pip.requirement_files:
        stem = os.path.splitext(os.path.basename(path))[0]
        parent = os.path.basename(os.path.dirname(path))
        return slug(parent if stem == "requirements" and parent else stem)
    return "pip"


def _repo_name(url: str) -> str:
    return os.path.basename(url.rstrip("/")).removesuffix(".git") or "repo"


# --- build scripts (cmake_build, docker_build) -----------------------------------------

_REPO_TAG = re.compile(r"^TRITON_([A-Z0-9_]+)_REPO_TAG$")
IMAGE_DEFINES = {"TRITON_PYTORCH_DOCKER_IMAGE": "pytorch", "TRITON_BUILD_CONTAINER": "build"}
# What ``-DTRITON_BUILD_CONTAINER_VERSION=<v>`` means in the backends whose CMakeLists
# default to an image of that version (onnxruntime_backend, openvino_backend at r25.04).
# fil_backend ignores the version (its default image is hard-coded) and is not listed.
_VERSIONED_BUILD_CONTAINERS = {
    "onnxruntime": "nvcr.io/nvidia/tritonserver:{}-py3-min",
    "openvino": "nvcr.io/nvidia/tritonserver:{}-py3-min",
}


def _scan_script(name: str, text: str, found: _Found) -> None:
    stage = _Stage(slug(name), "build")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{name}:{number}"
        cmds = shell.split(line)
        _scan_commands(cmds, stage, where, found)
        for cmd in cmds:
            _cmake(commands.cmake_defines(cmd), where, found)


def _cmake(defines: dict[str, str], where: str, found: _Found) -> None:
    if not defines:
        return
    org = defines.get("TRITON_REPO_ORGANIZATION", "").rstrip("/")
    prefix = defines.get("CMAKE_INSTALL_PREFIX", "")
    component = os.path.basename(os.path.dirname(prefix.rstrip("/"))) or "core"
    for key, value in defines.items():
        tag = _REPO_TAG.match(key)
        if tag and org:
            repo = tag.group(1).lower()
            found.git.append(
                GitUse(name=repo, url=f"{org}/{repo}.git", ref=value, found_in=(where,))
            )
        elif key == "TRITON_BUILD_CONTAINER_VERSION" and component in _VERSIONED_BUILD_CONTAINERS:
            ref = _VERSIONED_BUILD_CONTAINERS[component].format(value)
            found.images.append(ImageUse(role=f"{component}-build", ref=ref, found_in=(where,)))
        elif key in IMAGE_DEFINES and value:
            role = IMAGE_DEFINES[key]
            role = f"{slug(component)}-build" if role == "build" else role
            found.images.append(ImageUse(role=role, ref=value, found_in=(where,)))
        elif re.match(r"^(https?|ftp)://", value) and not key.endswith("_ORGANIZATION"):
            found.urls.append(UrlUse(url=without_userinfo(value), found_in=(where,)))
