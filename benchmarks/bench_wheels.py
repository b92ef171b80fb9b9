"""Benchmark: resolve one requirement set with tritonlock and with `pip-compile --generate-hashes`.

Run from the repository root::

    python3 benchmarks/bench_wheels.py [--repeat 3] [--cache DIR] [REQUIREMENT ...]

What it does:

1. Downloads the wheels of the requirement set's closure for this host (``pip download
   --only-binary :all:`` from PyPI, once; kept under ``--cache``, default
   ``$XDG_CACHE_HOME/tritonlock-bench`` or ``~/.cache/tritonlock-bench``).
2. Serves them with pypiserver on a free 127.0.0.1 port (``--disable-fallback
   --hash-algo sha256``), so neither tool touches the network.
3. Resolves the set for this host's Python and machine (so both tools answer the same
   question) with ``tritonlock.resolve.wheels.resolve_wheels`` (cold: empty cache dir;
   warm: the same cache dir again) and with ``pip-compile --generate-hashes`` (fresh pip
   cache each run), ``--repeat`` times each, both as whole processes (tritonlock: a new
   interpreter running ``benchmarks/once.py``, imports included), and prints the
   median times and the ratios (goal, issue 19: pip-compile / tritonlock cold ≥ 5); then
   tritonlock cold in this process, without the interpreter's start and the imports.
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
from tritonlock.resolve.wheels import IndexSpec, InstallStep, resolve_wheels  # noqa: E402
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


def whole_process(url: str, reqs: list[str], cache: Path) -> dict[str, str]:
    """:func:`with_tritonlock` in a new interpreter (start and imports timed too)."""
    cmd = [sys.executable, str(ROOT / "benchmarks" / "once.py"), "wheels", url, str(cache)]
    cmd += [str(JOBS), *reqs]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    found: dict[str, str] = json.loads(out)
    return found


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("requirements", nargs="*", default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    default_cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    ap.add_argument("--cache", type=Path, default=default_cache / "tritonlock-bench")
    args = ap.parse_args()
    files = args.cache / "wheels"
    download(args.requirements, files)
    with serve_pypi(files) as url, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def cold() -> dict[str, str]:
            return whole_process(url, args.requirements, Path(tempfile.mkdtemp(dir=work)))

        def cold_in() -> dict[str, str]:
            return with_tritonlock(url, args.requirements, Path(tempfile.mkdtemp(dir=work)))

        def compile_() -> dict[str, str]:
            return with_pip_compile(url, args.requirements, Path(tempfile.mkdtemp(dir=work)))

        t_cold, ours = timed(cold, args.repeat)
        warm_dir = work / "warm"
        with_tritonlock(url, args.requirements, warm_dir)
        t_warm, _ = timed(lambda: whole_process(url, args.requirements, warm_dir), args.repeat)
        t_pip, theirs = timed(compile_, args.repeat)
        t_in, _ = timed(cold_in, args.repeat)
    print(f"requirements: {' '.join(args.requirements)} ({len(ours)} packages pinned)")
    print("whole processes, median of", args.repeat)
    print(f"tritonlock (cold cache):        {t_cold:7.2f} s")
    print(f"tritonlock (warm cache):        {t_warm:7.2f} s")
    print(f"pip-compile --generate-hashes:  {t_pip:7.2f} s")
    print(
        f"ratio pip-compile / tritonlock: {t_pip / t_cold:7.2f} (cold), {t_pip / t_warm:.2f} (warm)"
    )
    print(f"tritonlock cold in this process: {t_in:.2f} s ({t_pip / t_in:.2f}× pip-compile)")
    if ours != theirs:
        diff = sorted(set(ours.items()) ^ set(theirs.items()))
        print(f"versions differ: {diff}")
        return 1
    print("both pinned the same versions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
