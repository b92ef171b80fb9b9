"""Benchmark: pin a world of git repositories through a delay proxy (a user far from the
server), against the critical-path bound and sequential clones.

Run from the repository root::

    python3 benchmarks/bench_resolve.py [--rtt-ms 50] [--repos 40] [--libs 20] [--jobs 24]
        [--repeat 3] [--no-clones]

It builds the world of ``bench_git.py`` (``--repos`` repositories on ``r25.04``, two
submodules each out of ``--libs`` libraries, half of which nest one more), serves it with
git daemon, and puts :mod:`benchmarks.delayproxy` in front (``--rtt-ms`` round trip, half
each way, connection set-up included). It then times:

* tritonlock, cold and warm, as whole processes: a new interpreter
  (``benchmarks/once.py``) imports :mod:`tritonlock.resolve.git` and runs
  :func:`~tritonlock.resolve.git.resolve_git` (``ls-remote`` of each repository, then
  each distinct commit's tree; warm: trees cached), ``--repeat`` times each, median;
  then the same in this process, without the interpreter's start and the imports;
* the critical-path bound: the longest chain of operations that must follow one another
  (``ls-remote`` of a repository, its tree, a submodule's tree, a nested submodule's tree),
  each timed alone through the proxy; no schedule can finish sooner;
* sequential ``git clone --recursive --single-branch --depth 1 -b r25.04`` per repository
  (what build.py does), as whole processes (left out with ``--no-clones``);

and prints each time with its ratio (goals, issue 19: cold within 1.5× of the bound, 25×
faster than the clones).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_git import BRANCH, build_world, clone_all
from benchmarks.delayproxy import delayed
from tests.fixtures.gitserver import serve
from tritonlock.resolve.git import GitRequest, resolve_git
from tritonlock.sources.gitclient import fetch_tree, ls_remote


def _timed(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def once(base: str, names: list[str], cache: Path, jobs: int) -> tuple[float, int, float]:
    """(seconds, pins, CPU seconds of the process and its git children) of one resolve as
    a whole process: a new interpreter that imports tritonlock and resolves ``names`` with
    the cache ``cache``."""
    here = Path(__file__).resolve().parent
    cmd = [sys.executable, str(here / "once.py"), "git", base, str(cache), str(jobs), BRANCH]
    cmd += names
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return took, int(json.loads(out)["pins"]), cpu


def critical_path(base: str, scratch: Path, nested: bool) -> tuple[float, float, float]:
    """(bound, one ls-remote, one tree fetch): ls-remote + the tree of a repository, of its
    submodule and (when libraries nest) of the nested one, one after the other."""
    url = f"{base}/org/repo0.git"
    ((_, commit),) = ls_remote(url, [f"refs/heads/{BRANCH}"], timeout=60)
    t_ls = _timed(lambda: ls_remote(url, [f"refs/heads/{BRANCH}"], timeout=60))
    t_tree = _timed(lambda: fetch_tree(url, commit, commit, scratch=scratch, timeout=60))
    return t_ls + t_tree * (3 if nested else 2), t_ls, t_tree


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtt-ms", type=float, default=50.0)
    ap.add_argument("--repos", type=int, default=40)
    ap.add_argument("--libs", type=int, default=20)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each, median")
    ap.add_argument("--no-clones", action="store_true", help="skip the sequential clones")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as tmp:
        work = Path(tmp)
        os.environ["HOME"] = str(work)
        os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
        names, links = build_world(work / "srv", args.repos, args.libs, args.files)
        print(f"world: {len(names)} repos + {args.libs} libs, {links} gitlinks; --jobs {args.jobs}")
        with serve(work / "srv", work / "state") as servers:
            where = urlsplit(servers.git)
            upstream = (where.hostname or "127.0.0.1", where.port or 9418)
            with delayed(upstream, args.rtt_ms) as proxy:
                base = f"git://127.0.0.1:{proxy.port}"
                colds, warms, cpus = [], [], []
                for i in range(args.repeat):
                    before = proxy.connections
                    t, pins, cpu = once(base, names, work / f"cache{i}", args.jobs)
                    colds.append(t)
                    cpus.append(cpu)
                    cold_connections = proxy.connections - before
                    warms.append(once(base, names, work / f"cache{i}", args.jobs)[0])
                cold, warm = statistics.median(colds), statistics.median(warms)
                reqs = [GitRequest(name=n, url=f"{base}/org/{n}.git", ref=BRANCH) for n in names]
                start = time.perf_counter()
                res = resolve_git(reqs, cache_dir=work / "cache", jobs=args.jobs)
                cold_in = time.perf_counter() - start
                start = time.perf_counter()
                resolve_git(reqs, cache_dir=work / "cache", jobs=args.jobs)
                warm_in = time.perf_counter() - start
                bound, t_ls, t_tree = critical_path(base, work / "scratch", args.libs > 1)
                clones = 0.0
                if not args.no_clones:
                    start = time.perf_counter()
                    clone_all(base, names, work / "clones")
                    clones = time.perf_counter() - start
        subs = sum(len(p.submodules) for p in res.pins)
        print(f"round trip added: {args.rtt_ms:g} ms; alone: ls-remote {t_ls:.2f} s, "
              f"tree {t_tree:.2f} s")  # fmt: skip
        assert pins == len(res.pins)
        runs = " ".join(f"{t:.2f}" for t in colds)
        print(f"tritonlock cold, whole process: {cold:.2f} s median of {runs} "
              f"({len(res.pins)} pins, {subs} submodules, {cold_connections} connections), "
              f"{cold / bound:.1f}× the bound")  # fmt: skip
        print(f"  CPU of tritonlock and its git processes (not the server's): "
              f"{statistics.median(cpus):.2f} s median")  # fmt: skip
        print(f"tritonlock warm, whole process: {warm:.2f} s ({warm / cold:.0%} of cold)")
        print(f"tritonlock in this process: cold {cold_in:.2f} s ({cold_in / bound:.1f}× the "
              f"bound), warm {warm_in:.2f} s")  # fmt: skip
        print(f"critical-path bound: {bound:.2f} s")
        if not args.no_clones:
            print(f"sequential clones: {clones:.2f} s ({clones / cold:.1f}× tritonlock cold)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
