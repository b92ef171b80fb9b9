"""The wheel stage of `resolve`: upstream's pip installs planned into steps and pinned for
the target. A pip install that cannot be planned is an error, or with --allow-partial an
``[[unresolved]]`` entry; a step that does not resolve costs only itself and the later
steps of its image."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from ..errors import ResolveError, TritonLockError, Unreachable
from ..model import Index, Lock, WheelPin
from ..upstream import FloatingInputs
from ..upstream.pybuild import compile_builds
from ..upstream.steps import plan_pip_steps
from ..util.store import Store
from . import wheels as whlres
from .context import Ctx, Wheels, one_line
from .cutoff import NOW


def pin_wheels(
    ctx: Ctx, lock: Lock, floating: FloatingInputs, texts: dict[str, str], machine: str
) -> tuple[tuple[WheelPin, ...], tuple[Index, ...]]:
    """The wheels of upstream's pip steps and the user's requirements, from the index files
    uploaded before the lock's ``exclude-newer`` (``now`` or none: every file)."""
    plan = plan_pip_steps(floating.pip, files=texts, public_vllm=True, machine=machine)
    for what, why in plan.skipped:
        ctx.notes(f"pip: not planned: {what}: {why}")
    unplanned(ctx, plan.unplanned)
    steps = [
        whlres.InstallStep(
            name=s.name,
            image=_built_image(s.image, s.found_in),
            requirements=s.requirements,
            constraints=(*s.constraints, *ctx.opts.constraints, *_held(ctx.opts.hold, s.name)),
        )
        for s in plan.steps
    ]
    for build, requires in compile_builds(texts):  # isolated builds of the compile
        steps.append(
            whlres.InstallStep(
                name=build.step,
                image=build.step,
                requirements=requires,
                constraints=(*ctx.opts.constraints, *_held(ctx.opts.hold, build.step)),
            )
        )
        ctx.say(
            f"wheels: {build.step}: {build.repo}'s isolated build installs {', '.join(requires)}"
        )
    if ctx.opts.requirements:
        steps.append(
            whlres.InstallStep(
                name="user",
                image=_final_image(floating),
                requirements=ctx.opts.requirements,
                constraints=(*ctx.opts.constraints, *_held(ctx.opts.hold, "user")),
            )
        )
    python = ".".join((lock.release.get("python") or "3.12").split(".")[:2])
    cutoff = lock.inputs.exclude_newer
    exclude_newer = None if cutoff == NOW else cutoff
    if exclude_newer is not None:
        ctx.say(f"wheels: index files uploaded before {exclude_newer} (--exclude-newer)")

    def pin(some: Sequence[whlres.InstallStep]) -> Wheels:
        return whlres.resolve_wheels(
            some,
            python_version=python,
            machine=machine,
            indexes=whlres.mirrored(ctx.opts.indexes, ctx.opts.url_mirrors),
            allow_sdist=ctx.opts.allow_sdist,
            cache_dir=ctx.opts.cache_dir / "wheels",
            jobs=ctx.opts.jobs,
            progress=ctx.say,
            glibc=_glibc(ctx.inputs.release),
            exclude_newer=exclude_newer,
            store=Store(ctx.opts.cache_dir),
        )

    return wheel_steps(ctx, steps, pin)


def unplanned(ctx: Ctx, entries: Sequence[tuple[str, str]]) -> None:
    """What the recipe installs and the plan cannot is never only a note: without
    --allow-partial an error naming the first, with it an ``[[unresolved]]`` entry each."""
    if entries and not ctx.opts.allow_partial:
        what, why = entries[0]
        more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
        hint = "--allow-partial locks the rest without it"
        raise ResolveError(one_line(f"pip install at {what}: {why}{more}; {hint}"))
    for what, why in entries:
        ctx.unresolve("wheel", one_line(f"pip install at {what}"), why)


def _final_image(floating: FloatingInputs) -> str:
    """The role of the final image, where the user's own requirements go."""
    return "inference" if any(i.role == "inference" for i in floating.images) else "base"


def _held(hold: Sequence[WheelPin], step: str) -> tuple[str, ...]:
    """``name==version`` of each held wheel of ``step``."""
    return tuple(f"{w.name}=={w.version}" for w in hold if w.step == step)


def wheel_steps(
    ctx: Ctx,
    steps: Sequence[whlres.InstallStep],
    pin: Callable[[Sequence[whlres.InstallStep]], Wheels],
) -> Wheels:
    """All steps pinned. With ``allow_partial``: the first step that does not resolve and
    the later steps of its image (which build on it) are unresolved by name; the steps
    before it, and the later steps of other images, are still pinned when they resolve."""
    try:
        return pin(steps)
    except TritonLockError as err:
        if not ctx.opts.allow_partial:
            raise
        error = err
    if isinstance(error, Unreachable):  # an index is down: no prefix would fare better
        ctx.unresolve("wheel", _steps_what([s.name for s in steps]), str(error))
        return ((), ())
    first = len(steps) - 1
    while first > 0:  # the longest prefix that resolves ends before the failing step
        try:
            wheels = pin(steps[:first])
            break
        except TritonLockError as err:
            error, first = err, first - 1
    else:
        wheels = ((), ())
    failed = steps[first].image
    others = [s for s in steps[first + 1 :] if s.image != failed]
    if others:
        with contextlib.suppress(TritonLockError):
            wheels = pin([*steps[:first], *others])
    pinned = {p.step for p in wheels[0]} | {s.name for s in steps[:first]}
    if not pinned:
        raise error
    dropped = [s.name for s in steps if s.name not in pinned]
    ctx.unresolve("wheel", _steps_what(dropped), str(error))
    return wheels


def _steps_what(names: Sequence[str]) -> str:
    return f"python requirements of step{'s' if len(names) > 1 else ''} {', '.join(names)}"


def _built_image(role: str, found_in: Sequence[str]) -> str:
    """Steps of Dockerfile.buildbase install into the build image, not the final one."""
    files = {f.split(":", 1)[0] for f in found_in}
    return "buildbase" if files == {"Dockerfile.buildbase"} else role


def _glibc(release: str) -> tuple[int, int]:
    """Base images moved from Ubuntu 22.04 (glibc 2.35) to 24.04 (glibc 2.39) at 24.11."""
    return (2, 39) if release >= "24.11" else (2, 35)
