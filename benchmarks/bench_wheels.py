"""Benchmark: resolve one requirement set with tritonlock and with `pip-compile --generate-hashes`.

Run from the repository root::

    python3 benchmarks/bench_wheels.py [--repeat 3] [--cache DIR] [--against TREE] [REQUIREMENT ...]

What it does:

1. Downloads the wheels of the requirement set's closure for this host (``pip download
   --only-binary :all:`` from PyPI, once; kept under ``--cache``, default
   ``$XDG_CACHE_HOME/tritonlock-bench`` or ``~/.cache/tritonlock-bench``).
2. Serves them with pypiserver on a free 127.0.0.1 port (``--disable-fallback
   --hash-algo sha256``), so neither tool touches the network.
3. Resolves the set for this host's Python and machine (so both tools answer the same
   question) with ``tritonlock.resolve.wheels.resolve_wheels`` (cold: empty cache dir;
   warm: the same cache dir again) and with ``pip-compile --generate-hashes`` (fresh pip
   cache each run), ``--repeat`` rounds, both as whole processes (tritonlock: a new
   interpreter running ``benchmarks/once.py``, imports included), and prints the
   median times and the ratios (goal, issue 19: pip-compile / tritonlock cold ≥ 5); then
   tritonlock cold in this process, without the interpreter's start and the imports.
   Each round also times what bounds a whole-process resolve: ``uv pip compile`` alone
   (the command tritonlock runs, fresh cache) and ``python3 -c pass``; and, with
   ``--against TREE`` (another checkout, e.g. ``git worktree add /tmp/before main``), that
   tree's ``benchmarks/once.py`` cold in the same rounds, alternating, for before/after.
   The 1-minute load average at each round's start is printed: the machine's other work
   moves every figure.
4. Checks that both pinned the same versions.

pip and pip-compile run with ``PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS=`` so the
machine's pip configuration does not leak in.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.pypi import pip_env, serve_pypi  # noqa: E402
from tritonlock.resolve.wheels import (  # noqa: E402
    IndexSpec,
    InstallStep,
    resolve_wheels,
    uv_indexes,
)
from tritonlock.util.programs import uv_binary  # noqa: E402
from tritonlock.util.store import Store  # noqa: E402

# pypiserver's default (wsgiref) server listens with a backlog of 5: more parallel connects
# than that get their SYN dropped and retried a second later, which would time the server.
JOBS = 4
DEFAULT = ["rich", "httpx", "tomlkit", "packaging", "attrs", "click", "requests", "jinja2"]


def download(reqs: list[str], dest: Path) -> None:
    stamp = dest / (".done-" + "-".join(sorted(reqs)).replace("/", "_")[:200])
    if stamp.exists():
        return
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:"]
    cmd += ["--index-url", "https://pypi.org/simple", "-d", str(dest), *reqs]
    subprocess.run(cmd, check=True, env=pip_env())
    stamp.touch()


def with_tritonlock(url: str, reqs: list[str], cache: Path) -> dict[str, str]:
    pins, _ = resolve_wheels(
        [InstallStep(name="bench", image="base", requirements=tuple(reqs))],
        python_version="{}.{}".format(*sys.version_info[:2]),
        machine=platform.machine(),
        indexes=[IndexSpec(name="local", url=url)],
        cache_dir=cache / "wheels",
        jobs=JOBS,
        store=Store(cache),  # as `tritonlock resolve` passes it
    )
    return {p.name: p.version for p in pins}


def uv_jobs(jobs: int) -> int:
    return uv_indexes([IndexSpec(name="local", url="http://x/")], None, jobs).jobs


def whole_process(url: str, reqs: list[str], cache: Path, tree: Path = ROOT) -> dict[str, str]:
    """:func:`with_tritonlock` in a new interpreter (start and imports timed too), of the
    checkout ``tree``."""
    cmd = [sys.executable, str(tree / "benchmarks" / "once.py"), "wheels", url, str(cache)]
    cmd += [str(JOBS), *reqs]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    found: dict[str, str] = json.loads(out)
    return found


def uv_alone(url: str, reqs: list[str], work: Path) -> dict[str, str]:
    """The ``uv pip compile`` tritonlock runs, alone (fresh cache), as its only process."""
    (work / "req.in").write_text("".join(f"{r}\n" for r in reqs))
    cmd = [uv_binary(), "pip", "compile", "--no-config", "--quiet", "--only-binary", ":all:"]
    cmd += ["--python-version", "{}.{}".format(*sys.version_info[:2])]
    cmd += ["--python-platform", f"{platform.machine()}-manylinux_2_39", "--generate-hashes"]
    cmd += ["--emit-index-annotation", "--cache-dir", str(work / "uv"), "-o", str(work / "o.txt")]
    env = {**os.environ, "UV_INDEX_URL": url, "UV_CONCURRENT_DOWNLOADS": str(uv_jobs(JOBS))}
    subprocess.run([*cmd, str(work / "req.in")], check=True, env=env, capture_output=True)
    return {}


def with_pip_compile(url: str, reqs: list[str], work: Path) -> dict[str, str]:
    (work / "req.in").write_text("".join(f"{r}\n" for r in reqs))
    out = work / "req.txt"
    cmd = ["pip-compile", "-q", "--generate-hashes", "--strip-extras", "--no-header"]
    cmd += ["--index-url", url]
    cmd += ["--cache-dir", str(work / "pipcache"), "-o", str(out), str(work / "req.in")]
    subprocess.run(cmd, check=True, env=pip_env(), cwd=work)
    found = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", out.read_text(), re.M)
    return {n.lower().replace("_", "-").replace(".", "-"): v for n, v in found}


def timed(fn: Callable[[], dict[str, str]], repeat: int) -> tuple[float, dict[str, str]]:
    times, result = [], {}
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def rounds(
    fns: dict[str, Callable[[], dict[str, str]]], repeat: int
) -> tuple[dict[str, list[float]], dict[str, dict[str, str]], list[float]]:
    """Each of ``fns`` once per round, in order, ``repeat`` rounds: the times, the last
    result of each, and the load average at each round's start."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    results: dict[str, dict[str, str]] = {}
    loads = []
    for _ in range(repeat):
        loads.append(os.getloadavg()[0])
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return times, results, loads


def bare() -> dict[str, str]:
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("requirements", nargs="*", default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    default_cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    ap.add_argument("--cache", type=Path, default=default_cache / "tritonlock-bench")
    ap.add_argument("--against", type=Path, help="another checkout, timed cold in the same rounds")
    args = ap.parse_args()
    files = args.cache / "wheels"
    download(args.requirements, files)
    reqs = args.requirements
    with serve_pypi(files) as url, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def fresh() -> Path:
            return Path(tempfile.mkdtemp(dir=work))

        fns: dict[str, Callable[[], dict[str, str]]] = {
            "tritonlock (cold cache)": lambda: whole_process(url, reqs, fresh()),
        }
        if args.against is not None:
            against = args.against.resolve()
            fns[f"{against} (cold)"] = lambda: whole_process(url, reqs, fresh(), against)
        fns["pip-compile --generate-hashes"] = lambda: with_pip_compile(url, reqs, fresh())
        fns["uv pip compile alone"] = lambda: uv_alone(url, reqs, fresh())
        fns["python3 -c pass"] = bare
        times, results, loads = rounds(fns, args.repeat)
        warm_dir = work / "warm"
        with_tritonlock(url, reqs, warm_dir)
        t_warm, _ = timed(lambda: whole_process(url, reqs, warm_dir), args.repeat)
        t_in, _ = timed(lambda: with_tritonlock(url, reqs, fresh()), args.repeat)
    ours, theirs = results["tritonlock (cold cache)"], results["pip-compile --generate-hashes"]
    med = {k: statistics.median(v) for k, v in times.items()}
    t_cold, t_pip = med["tritonlock (cold cache)"], med["pip-compile --generate-hashes"]
    print(f"requirements: {' '.join(reqs)} ({len(ours)} packages pinned)")
    load = f"{min(loads):.2f}-{max(loads):.2f}"
    print(f"whole processes, median of {args.repeat} rounds (load average {load})")
    for name, t in med.items():
        print(f"{name + ':':31s} {t:7.2f} s  ({min(times[name]):.2f}-{max(times[name]):.2f})")
    print(f"tritonlock (warm cache):        {t_warm:7.2f} s")
    print(
        f"ratio pip-compile / tritonlock: {t_pip / t_cold:7.2f} (cold), {t_pip / t_warm:.2f} (warm)"
    )
    for name in fns:
        if name.endswith("(cold)"):
            print(f"ratio pip-compile / {name}: {t_pip / med[name]:.2f}")
    bound = med["uv pip compile alone"] + med["python3 -c pass"]
    print(f"bound (uv alone + a bare interpreter): {bound:.2f} s, {t_pip / bound:.2f}× pip-compile")
    print(f"tritonlock cold in this process: {t_in:.2f} s ({t_pip / t_in:.2f}× pip-compile)")
    if ours != theirs:
        diff = sorted(set(ours.items()) ^ set(theirs.items()))
        print(f"versions differ: {diff}")
        return 1
    print("both pinned the same versions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
