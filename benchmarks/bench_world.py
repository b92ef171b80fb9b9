"""Benchmark: a cold and a warm (no-op) `tritonlock resolve` of the end-to-end test world.

Run from the repository root::

    python3 benchmarks/bench_world.py [--repeat 5]

What it does:

1. Starts the world the end-to-end tests resolve (``tests/fixtures/world.py``: git daemon
   with the Triton-shaped repositories, a docker-registry, the download and apt files on a
   web server), through pytest, which composes those fixtures; the index is a static PEP
   691 index with PEP 700 upload times holding the world's wheels (``tests/fixtures/
   pyjson.py``), so the resolve uses its default ``--exclude-newer`` (the server commit's
   time), as a user's does.
2. Resolves ``25.04 --target x86_64 --backend python --backend vllm`` as a whole process
   (``python -m tritonlock``, bytecode cached) ``--repeat`` times cold (a new cache folder
   each) and, after each, warm (the same cache folder again: nothing changed upstream).
3. Prints the medians, warm as a share of cold (goal, issue 19: warm ≤ 0.5 s or ≤ 15 % of
   cold) and checks every lock is byte-identical.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.pyjson import serve_json_index, write_index  # noqa: E402
from tests.fixtures.registry import registry_world_fixture  # noqa: E402
from tests.fixtures.world import World, world_fixture  # noqa: E402

__all__ = ["registry_world_fixture", "world_fixture"]

INPUTS = ["resolve", "25.04", "--target", "x86_64", "--backend", "python", "--backend", "vllm"]
UPLOADED = "2020-01-01T00:00:00Z"  # before the world's commits: every wheel is a candidate
REPEAT = int(os.environ.get("TRITONLOCK_BENCH_REPEAT", "5"))


def _args(world: World, index: str, cache: Path, out: Path) -> list[str]:
    """The world's options with the dated index, and no --exclude-newer (the default)."""
    args = world.cli_args(cache)
    flags = [i for i, a in enumerate(args) if a in ("--index-url", "--exclude-newer")]
    drop = {*flags, *(i + 1 for i in flags)}
    kept = [a for i, a in enumerate(args) if i not in drop]
    return [*INPUTS, *kept, "--index-url", index, "-o", str(out)]


def _once(args: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tritonlock", *args], cwd=cwd, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"resolve failed: {done.stderr.strip().splitlines()[-1:]}")
    return took


def test_world(world: World, tmp_path: Path) -> None:
    root = tmp_path / "index"
    (root / "files").mkdir(parents=True)
    for wheel in world.pypi_root.iterdir():
        shutil.copy(wheel, root / "files" / wheel.name)
    write_index(root, {n.name: UPLOADED for n in (root / "files").iterdir()})
    with serve_json_index(root) as index:
        _once(_args(world, index, tmp_path / "warmup", tmp_path / "warmup.lock"), tmp_path)
        cold: list[float] = []
        warm: list[float] = []
        for i in range(REPEAT):
            cache = tmp_path / f"cache-{i}"
            cold.append(_once(_args(world, index, cache, tmp_path / f"cold-{i}.lock"), tmp_path))
            warm.append(_once(_args(world, index, cache, tmp_path / f"warm-{i}.lock"), tmp_path))
    locks = {p.read_bytes() for p in tmp_path.glob("*.lock")}
    c, w = statistics.median(cold), statistics.median(warm)
    print()
    print(f"e2e world, whole processes, median of {REPEAT} (load average {os.getloadavg()[0]:.1f})")
    print(f"tritonlock cold:  {c:.2f} s  ({' '.join(f'{t:.2f}' for t in cold)})")
    print(f"tritonlock warm:  {w:.2f} s  ({' '.join(f'{t:.2f}' for t in warm)})")
    print(f"warm / cold:      {100 * w / c:.0f} %  (goal: ≤ 0.5 s or ≤ 15 %)")
    print(f"locks byte-identical: {'yes' if len(locks) == 1 else 'NO'}")
    assert len(locks) == 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args()
    os.environ["TRITONLOCK_BENCH_REPEAT"] = str(args.repeat)
    with tempfile.TemporaryDirectory(prefix="bench-world-") as tmp:
        return int(
            pytest.main(
                [__file__, "-q", "-s", "-p", "no:cacheprovider", "--basetemp", tmp,
                 "-o", "python_files=bench_world.py"]
            )
        )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
