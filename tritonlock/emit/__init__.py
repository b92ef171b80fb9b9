"""Emit a hermetic build from a lock and upstream's generated recipe (pure: data in, bytes out).

:func:`emit` returns ``{relative path: content}``; writing the folder is the caller's
job (:func:`tritonlock.emit.folder.write` does it atomically).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from .. import __version__
from ..errors import TritonLockError, UsageError
from ..export import provenance
from ..model import Lock
from ..upstream import floating_inputs
from ..upstream.backends import unbuildable
from ..upstream.recipe import RECIPE_FILES
from ..upstream.shell import command, segments
from ..upstream.steps import step_names
from . import bake, buildplan, dockershim, downloads, policy, script
from .buildplan import Builder, Network, Plan, Vendored
from .dockerfile import (
    BUILDX,
    COMPILE_STAGE,
    DIALECTS,
    SOURCES_STAGE,
    Dialect,
    Translated,
    Translator,
    run_io,
)
from .errors import EmitError
from .requirements import requirements
from .rewrite import REQ_DIR, Rewriter, StageState
from .secrets import SecretSpec, Use
from .sources import (
    CONTEXT_FILE,
    SERVER_DIR,
    context_script,
    insteadof_script,
    mirror_key,
    sources_stage,
)

__all__ = ["EmitError", "SecretSpec", "emit", "plan"]

BUILDBASE_STAGE = "tritonlock-buildbase"
WHEELS = "/tritonlock/wheels"
# Upstream runs `docker run -w /workspace/build tritonserver_buildbase ./cmake_build`: the
# build folder build.py wrote its files to is part of the build context, at /workspace/build.
BUILD_DIR = "/workspace/build"
SCRIPT = f"{BUILD_DIR}/cmake_build"
# Builders without per-RUN --network build the compile stage in a separate, offline build and
# reuse its cached layers; should a later build run it again (a cache miss), with a network
# interface besides lo, it fails here instead of compiling online.
OFFLINE_CHECK = (
    "if grep -q -v -e '|' -e '^ *lo:' /proc/net/dev; then echo 'tritonlock: the compile "
    "stage must run offline (run build.sh, which builds it with no network)' >&2; exit 1; fi"
)


def check_backends(lock: Lock) -> None:
    inputs = lock.inputs
    for name, why in unbuildable(inputs.backends, inputs.release):
        raise UsageError(
            f"backend {name!r} is not supported by tritonlock build for {inputs.release} "
            f"--target {inputs.target}: upstream {why}; drop it from the lock's backends"
        )


def plan(lock: Lock, secrets: Sequence[SecretSpec] = (), network: Network = "default") -> Plan:
    """The builder plan of a lock: platform, SOURCE_DATE_EPOCH and tag, all from the lock."""
    server = lock.server_pin()
    if server.committed is None:
        raise EmitError("git server: no committed time in the lock; re-resolve the lock")
    platforms = sorted({im.platform for im in lock.image})
    if len(platforms) != 1:
        raise EmitError(f"image: expected one target platform in the lock, found {platforms}")
    tag = f"tritonlock/tritonserver:{lock.inputs.release}-{lock.inputs.target}"
    return Plan(
        platform=platforms[0],
        source_date_epoch=server.committed,
        tag=tag,
        secrets=tuple(secrets),
        network=network,
    )


def emit(
    lock: Lock,
    recipe_files: Mapping[str, str],
    *,
    secrets: Sequence[SecretSpec] = (),
    builder: Builder = "buildx",
    network: Network = "default",
    vendor: Vendored | None = None,
) -> dict[str, bytes]:
    """Every file of the build folder for ``lock``; the same inputs give the same bytes.
    With ``vendor``, every input comes from that bundle (:mod:`tritonlock.emit.vendored`)."""
    check_backends(lock)
    missing = [n for n in RECIPE_FILES if n not in recipe_files]
    if missing:
        raise EmitError(f"recipe: {', '.join(missing)} missing; regenerate the recipe")
    p = replace(plan(lock, secrets, network), vendor=vendor)
    dialect = DIALECTS[builder] if vendor is None else replace(DIALECTS[builder], vendored=True)
    steps = pip_step_names(recipe_files)
    bb = Translator(
        lock,
        "Dockerfile.buildbase",
        "buildbase",
        allow_git=False,
        dialect=dialect,
        pip_steps=steps,
    ).run(recipe_files["Dockerfile.buildbase"], last_as=BUILDBASE_STAGE)
    final = Translator(
        lock, "Dockerfile", "final", allow_git=True, dialect=dialect, pip_steps=steps
    ).run(recipe_files["Dockerfile"])
    check_script(lock, recipe_files["cmake_build"])
    dockershim.check(lock, recipe_files["cmake_build"])
    head = header(lock)
    compiled = compile_steps(lock, steps)
    files = {
        "Dockerfile": dockerfile_text(lock, bb, final, head, dialect, compiled).encode(),
        "cmake_build": recipe_files["cmake_build"].encode(),
        "source-policy.json": policy.render(lock),
        CONTEXT_FILE: context_script(),
        "docker-bake.hcl": bake.render([bake.Entry(name=_name(lock), context=".", plan=p)]),
        "build.sh": script.render(builder, p, header=head),
    }
    for step in sorted({w.step for w in lock.wheel}):
        files[f"requirements/{step}.txt"] = requirements(lock, step).encode()
    fetched = downloads.compile_pins(lock)
    if fetched:
        files[downloads.HOOK_FILE] = downloads.cmake_hook(fetched).encode()
    if downloads.FETCH_PATH.encode() in files["Dockerfile"]:
        files[downloads.FETCH_FILE] = downloads.FETCH_SCRIPT.encode()
    if dockershim.copied(lock):
        files[dockershim.SHIM_FILE] = dockershim.shim(lock).encode()
    files[provenance.FILE] = provenance_of(lock, p, builder, files)
    return dict(sorted(files.items()))


def provenance_of(lock: Lock, p: Plan, builder: Builder, files: Mapping[str, bytes]) -> bytes:
    """The in-toto statement of the folder's build (:mod:`tritonlock.export.provenance`)."""
    doc = provenance.statement(
        lock,
        tag=p.tag,
        builder=builder,
        network=p.network,
        secrets=[s.id for s in p.secrets],
        platform=p.platform,
        source_date_epoch=p.source_date_epoch,
        invocations=buildplan.commands(builder, p),
        files=files,
    )
    return provenance.render(doc)


def pip_step_names(recipe_files: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """``Dockerfile:86`` -> the lock's pip step names there, as the resolver named them."""
    try:
        return step_names(floating_inputs(recipe_files).pip)
    except TritonLockError as err:
        raise EmitError(f"recipe: {err}") from None


def _name(lock: Lock) -> str:
    return bake.target_name(lock.inputs.release, lock.inputs.target)


def header(lock: Lock) -> str:
    return (
        f"Generated by tritonlock {__version__} from a lock with content-hash "
        f"{lock.content_hash}: do not edit.\n"
        f"Triton {lock.inputs.release} for target {lock.inputs.target}; "
        "re-create with `tritonlock build`."
    )


def check_script(lock: Lock, text: str) -> None:
    """Every ``git clone`` in upstream's cmake_build must be of a pinned repository."""
    state = StageState(step="compile", allow_git=True)
    for n, line in enumerate(text.splitlines(), 1):
        rw = Rewriter(lock, state, f"recipe cmake_build line {n}")
        for seg in segments(line)[::2]:
            cmd = command(seg)
            if cmd is not None and cmd.name == "git" and cmd.words[1:2] == ("clone",):
                rw.git_clone(cmd)


def compile_steps(lock: Lock, steps: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The lock's pip steps run by cmake_build (named ``compile`` or found there) and the
    compile's isolated builds (``compile-<repo>-wheel``: :mod:`tritonlock.upstream.pybuild`)."""
    names = {"compile"} | {
        s for where, found in steps.items() if where.startswith("cmake_build:") for s in found
    }
    return tuple(
        sorted({w.step for w in lock.wheel if w.step in names or w.step.startswith("compile-")})
    )


def dockerfile_text(
    lock: Lock,
    bb: Translated,
    final: Translated,
    head: str,
    dialect: Dialect = BUILDX,
    compiled: tuple[str, ...] = (),
) -> str:
    _check_stages(bb, final)
    lines = [f"# syntax={s}" for s in _frontend(lock)]
    lines += [f"# {line}" for line in head.splitlines()]
    lines += _globals(bb, final)
    lines += ["", *bb.body, ""]
    server = lock.server_pin()
    vendored = dialect.vendored
    lines += dockershim.image_stages(lock)
    lines += sources_stage(lock, BUILDBASE_STAGE, server.url, server.commit, vendored=vendored)
    lines += _compile_downloads(lock, dialect)
    lines += dockershim.copy_lines(lock)
    lines += _wheelhouse(lock, compiled, dialect)
    lines += ["", *compile_stage(lock, dialect, compiled), "", *final.body]
    lines += _user_step(lock, dialect)
    lines += [_labels(lock)]
    return "\n".join(lines) + "\n"


def _frontend(lock: Lock) -> list[str]:
    return [f"{im.name()}@{im.digest}" for im in lock.image if im.role == "dockerfile-frontend"]


def _globals(bb: Translated, final: Translated) -> list[str]:
    seen: dict[str, str] = {}
    for line in bb.globals + final.globals:
        key = line.split("=", 1)[0]
        if seen.setdefault(key, line) != line:
            raise EmitError(f"recipe: global {key} differs between the recipe files")
    return list(seen.values())


def _check_stages(bb: Translated, final: Translated) -> None:
    names = [*bb.stages, SOURCES_STAGE, COMPILE_STAGE, *final.stages]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise EmitError(f"recipe: stage name {dupes[0]!r} is used twice")


USER_STEP = "user"


def _user_step(lock: Lock, dialect: Dialect = BUILDX) -> list[str]:
    """The user's own requirements (``resolve --requirement``), last, into the final image."""
    if not any(w.step == USER_STEP for w in lock.wheel):
        return []
    req = f"{REQ_DIR}/{USER_STEP}.txt"
    found, pro = run_io(lock, {Use.PIP}, (USER_STEP,), dialect)
    return [
        f"COPY {json.dumps([f'requirements/{USER_STEP}.txt', req])}",
        f"RUN {' '.join(found)} {pro}; pip3 install --require-hashes --no-deps -r {req}",
    ]


def _compile_downloads(lock: Lock, dialect: Dialect) -> list[str]:
    """The files upstream's CMake downloads during the compile, fetched by digest beforehand."""
    pins = list({downloads.local_path(p): p for p in downloads.compile_pins(lock)}.values())
    return [
        line
        for n, p in enumerate(pins)
        for line in downloads.fetch_lines(
            p, add_checksum=dialect.add_checksum, with_script=n == 0, vendored=dialect.vendored
        )
    ]


def _wheelhouse(lock: Lock, compiled: tuple[str, ...], dialect: Dialect = BUILDX) -> list[str]:
    """Wheels for pip runs inside the compile step (e.g. isolated builds), fetched beforehand."""
    out = []
    for step in compiled:
        req = f"{REQ_DIR}/{step}.txt"
        found, pro = run_io(lock, {Use.PIP}, (step,), dialect)
        out += [
            f"COPY {json.dumps([f'requirements/{step}.txt', req])}",
            f"RUN {' '.join(found)} {pro}; pip3 download --require-hashes --no-deps"
            f" --dest {WHEELS} -r {req}",
        ]
    return out


def compile_stage(
    lock: Lock, dialect: Dialect = BUILDX, compiled: tuple[str, ...] = ("compile",)
) -> list[str]:
    """The compile stage; without per-RUN ``--network`` the runner builds it with no network."""
    server = lock.server_pin()
    offline = "--network=none " if dialect.run_network else ""
    out = [
        f"FROM {BUILDBASE_STAGE} AS {COMPILE_STAGE}",
        f"COPY --from={SOURCES_STAGE} /tritonlock/git /tritonlock/git",
        f"COPY --from={SOURCES_STAGE} {SERVER_DIR} /workspace",
    ]
    if downloads.compile_pins(lock):  # upstream's CMake finds them through the hook
        out += [
            f"COPY --from={SOURCES_STAGE} {downloads.DOWNLOADS} {downloads.DOWNLOADS}",
            f"COPY {json.dumps([downloads.HOOK_FILE, downloads.HOOK_PATH])}",
            f"ENV CMAKE_TOOLCHAIN_FILE={downloads.HOOK_PATH}",
        ]
    out += dockershim.compile_lines(lock)  # upstream's `docker cp` finds them there
    if any(w.step in compiled for w in lock.wheel):
        out += [
            f"COPY --from={SOURCES_STAGE} {WHEELS} {WHEELS}",
            f"ENV PIP_NO_INDEX=1 PIP_FIND_LINKS={WHEELS}",
        ]
    out += [
        f"ENV SOURCE_DATE_EPOCH={int(server.committed or 0)}",
        f"RUN {offline}{insteadof_script(lock)}",
        f"COPY {json.dumps(['cmake_build', SCRIPT])}",
        f"WORKDIR {BUILD_DIR}",
        f"RUN {offline}{json.dumps(['/bin/bash', SCRIPT])}"
        if dialect.run_network
        else f"RUN {OFFLINE_CHECK} && /bin/bash {SCRIPT}",
    ]
    return out


def _labels(lock: Lock) -> str:
    server = lock.server_pin()
    created = datetime.fromtimestamp(server.committed or 0, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {
        "org.opencontainers.image.title": "tritonserver",
        "org.opencontainers.image.version": lock.release.get("triton-version")
        or lock.inputs.release,
        "org.opencontainers.image.revision": server.commit,
        "org.opencontainers.image.source": server.url,
        "org.opencontainers.image.created": created,
        "io.tritonlock.content-hash": lock.content_hash or "",
        "io.tritonlock.release": lock.inputs.release,
        "io.tritonlock.target": lock.inputs.target,
        "io.tritonlock.server-repo": mirror_key(server.url),
    }
    return "LABEL " + " \\\n      ".join(f"{k}={json.dumps(v)}" for k, v in labels.items())
