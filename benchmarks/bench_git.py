"""Benchmark: pin a world of git repos with tritonlock vs ``git clone --recursive --depth 1``.

Run from the repository root::

    python3 benchmarks/bench_git.py [--repos 40] [--libs 20] [--files 40] [--proto http|git]

It builds, on 127.0.0.1 (lighttpd + git-http-backend, or git daemon), ``--repos``
top-level repositories on a ``r25.04`` branch, each with two submodules (relative
URLs) out of ``--libs`` library repositories, half of which have a nested
submodule of their own, and ``--files`` source files per repo. It then times:

* tritonlock, cold: :func:`tritonlock.resolve.git.resolve_git` with an empty cache
  (``ls-remote`` plus a shallow, blob-less, sparse fetch per distinct commit, 8 at a time);
* tritonlock, warm: the same again with the cache filled (no tree is fetched);
* baseline: what build.py does today, one ``git clone --recursive --single-branch
  --depth 1 -b r25.04`` per repository, one after the other.

and prints each time and the ratio baseline / tritonlock. Nothing outside a
temporary directory is written; every server started is stopped.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.gitserver import serve
from tritonlock.resolve.git import GitRequest, resolve_git

BRANCH = "r25.04"


def _blob(rng: random.Random, size: int) -> str:
    words = ("int", "return", "void", "triton", "tensor", "model", "cuda", "stream", "{", "}")
    return " ".join(rng.choice(words) for _ in range(size // 6)) + "\n"


def _fast_import(repo: Path, files: dict[str, str], links: dict[str, str], stamp: int) -> str:
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    for key in ("uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"):
        subprocess.run(["git", f"--git-dir={repo}", "config", key, "true"], check=True)
    lines = [f"commit refs/heads/{BRANCH}", f"committer t <t@example.invalid> {stamp} +0000"]
    lines += ["data 5", "bench"]
    body = "\n".join(lines) + "\n"
    for path, text in files.items():
        data = text.encode()
        body += f"M 100644 inline {path}\ndata {len(data)}\n{text}\n"
    for path, sha in links.items():
        body += f"M 160000 {sha} {path}\n"
    subprocess.run(
        ["git", f"--git-dir={repo}", "fast-import", "--quiet"], input=body.encode(), check=True
    )
    subprocess.run(
        ["git", f"--git-dir={repo}", "symbolic-ref", "HEAD", f"refs/heads/{BRANCH}"], check=True
    )
    out = subprocess.run(
        ["git", f"--git-dir={repo}", "rev-parse", BRANCH], capture_output=True, text=True
    )
    return out.stdout.strip()


def _modules(links: dict[str, str]) -> str:
    return "".join(f'[submodule "{p}"]\n\tpath = {p}\n\turl = {u}\n' for p, u in links.items())


def build_world(root: Path, repos: int, libs: int, nfiles: int) -> tuple[list[str], int]:
    """Repos under root/org/ and root/libs/; returns the top-level names and submodule count."""
    rng = random.Random(42)
    (root / "org").mkdir(parents=True)
    (root / "libs").mkdir(parents=True)
    lib_sha: dict[int, str] = {}
    links = 0

    def files(kind: str) -> dict[str, str]:
        out = {f"src/{kind}_{i}.cc": _blob(rng, 3000) for i in range(nfiles)}
        out["CMakeLists.txt"] = f"project({kind})\nadd_library({kind} src/{kind}_0.cc)\n"
        return out

    for i in reversed(range(libs)):  # nested: lib i links lib i + libs//2
        nested = {}
        if i < libs // 2:
            nested = {"extern/inner": f"../lib{i + libs // 2}.git"}
        sub = {p: lib_sha[i + libs // 2] for p in nested}
        tree = files(f"lib{i}") | ({".gitmodules": _modules(nested)} if nested else {})
        lib_sha[i] = _fast_import(root / "libs" / f"lib{i}.git", tree, sub, 1_700_000_000 + i)
        links += len(nested)
    names = []
    for r in range(repos):
        picks = {f"third_party/a{k}": (r + k * 7) % libs for k in range(2)}
        mods = {p: f"../../libs/lib{n}.git" for p, n in picks.items()}
        tree = files(f"repo{r}") | {".gitmodules": _modules(mods)}
        shas = {p: lib_sha[n] for p, n in picks.items()}
        _fast_import(root / "org" / f"repo{r}.git", tree, shas, 1_700_001_000 + r)
        names.append(f"repo{r}")
        links += len(picks) + sum(1 for n in picks.values() if n < libs // 2)
    return names, links


def clone_all(base: str, names: list[str], dest: Path) -> None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    for name in names:
        subprocess.run(
            [
                "git",
                "clone",
                "-q",
                "--recursive",
                "--single-branch",
                "--depth=1",
                "-b",
                BRANCH,
                "--",
                f"{base}/org/{name}.git",
                str(dest / name),
            ],
            check=True,
            env=env,
            stderr=subprocess.DEVNULL,
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=40)
    ap.add_argument("--libs", type=int, default=20)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--proto", choices=("http", "git"), default="http")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-git-") as tmp:
        work = Path(tmp)
        os.environ["HOME"] = str(work)
        os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
        names, links = build_world(work / "srv", args.repos, args.libs, args.files)
        print(f"world: {len(names)} repos + {args.libs} libs, {links} gitlinks")
        with serve(work / "srv", work / "state") as servers:
            base = servers.http if args.proto == "http" else servers.git
            reqs = [GitRequest(name=n, url=f"{base}/org/{n}.git", ref=BRANCH) for n in names]
            t0 = time.perf_counter()
            res = resolve_git(reqs, cache_dir=work / "cache", jobs=args.jobs)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            resolve_git(reqs, cache_dir=work / "cache", jobs=args.jobs)
            warm = time.perf_counter() - t0
            subs = sum(len(p.submodules) for p in res.pins)
            t0 = time.perf_counter()
            clone_all(base, names, work / "clones")
            base_t = time.perf_counter() - t0
        print(f"tritonlock cold: {cold:.2f} s ({len(res.pins)} pins, {subs} submodules pinned)")
        print(f"tritonlock warm: {warm:.2f} s (cache hit, no tree fetched)")
        print(f"baseline git clone --recursive --depth 1 (sequential): {base_t:.2f} s")
        print(f"ratio baseline/tritonlock: cold {base_t / cold:.1f}x, warm {base_t / warm:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
