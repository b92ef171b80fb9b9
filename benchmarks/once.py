"""One tritonlock resolve as a whole process, for the benchmarks to time: a new interpreter
that imports only tritonlock (none of the benchmarks' servers or pytest) and prints what it
pinned as JSON, then ends as the command does (no interpreter finalization).

    python3 benchmarks/once.py git BASE CACHE JOBS BRANCH NAME...
    python3 benchmarks/once.py wheels URL CACHE JOBS REQUIREMENT...
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def git(base: str, cache: str, jobs: str, branch: str, *names: str) -> object:
    from tritonlock.resolve.git import GitRequest, resolve_git

    reqs = [GitRequest(name=n, url=f"{base}/org/{n}.git", ref=branch) for n in names]
    res = resolve_git(reqs, cache_dir=Path(cache), jobs=int(jobs))
    return {"pins": len(res.pins)}


def wheels(url: str, cache: str, jobs: str, *reqs: str) -> object:
    import platform

    from tritonlock.resolve.wheels import IndexSpec, InstallStep, resolve_wheels
    from tritonlock.util.store import Store

    pins, _ = resolve_wheels(
        [InstallStep(name="bench", image="base", requirements=reqs)],
        python_version="{}.{}".format(*sys.version_info[:2]),
        machine=platform.machine(),
        indexes=[IndexSpec(name="local", url=url)],
        cache_dir=Path(cache) / "wheels",
        jobs=int(jobs),
        store=Store(Path(cache)),  # as `tritonlock resolve` passes it
    )
    return {p.name: p.version for p in pins}


def main(argv: list[str]) -> int:
    kind, *args = argv
    print(json.dumps(git(*args) if kind == "git" else wheels(*args)), flush=True)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # Ended as the tritonlock command ends (tritonlock._entry.run): at once, without the
    # interpreter's finalization (about 20 ms after a wheel resolve), which no user waits for.
    os._exit(code)
