"""Benchmark: how fast `tritonlock --help` and `tritonlock verify` start, against a bare
interpreter start in the same run.

Run from the repository root::

    python3 benchmarks/bench_startup.py [--repeat 15] [--tritonlock PATH]

It times, as whole processes, the median of ``--repeat`` runs of

* ``python3 -c pass`` (the interpreter the command runs under, site included);
* ``tritonlock --help``;
* ``tritonlock verify LOCK`` for each committed lock in ``locks/``;

and prints each time and its ratio to the bare interpreter. The targets are ``--help``
within 3× and ``verify`` within 8×. ``--tritonlock`` defaults to the command installed
beside this interpreter; measure a ``pip install .`` (bytecode compiled at install), since
an editable install with ``PYTHONDONTWRITEBYTECODE=1`` compiles every module on every run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _interpreter(script: str) -> str:
    first = Path(script).read_text(errors="replace").splitlines()[0]
    return first[2:].split()[0] if first.startswith("#!") else sys.executable


def _median(argv: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    beside = Path(sys.executable).parent / "tritonlock"
    parser.add_argument(
        "--tritonlock", default=str(beside) if beside.is_file() else shutil.which("tritonlock")
    )
    args = parser.parse_args()
    if not args.tritonlock:
        raise SystemExit("no tritonlock command found; pass --tritonlock PATH")
    python = _interpreter(args.tritonlock)
    bare = _median([python, "-c", "pass"], args.repeat)
    rows: list[tuple[str, float, float | None]] = [("python3 -c pass", bare, None)]
    rows.append(("tritonlock --help", _median([args.tritonlock, "--help"], args.repeat), 3.0))
    for lock in sorted((ROOT / "locks").glob("*.lock")):
        argv = [args.tritonlock, "verify", "--allow-partial", str(lock)]
        rows.append((f"tritonlock verify {lock.name}", _median(argv, args.repeat), 8.0))
    print(f"{'command':<58} {'median':>8} {'ratio':>7}  target")
    for name, seconds, target in rows:
        ratio = seconds / bare
        goal = f"≤ {target:g}×" + (" ok" if ratio <= target else " MISSED") if target else ""
        print(f"{name:<58} {seconds * 1000:7.1f}ms {ratio:6.1f}×  {goal}")


if __name__ == "__main__":
    main()
