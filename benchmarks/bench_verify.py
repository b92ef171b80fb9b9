"""Benchmark: `verify` and `diff` time as a lock grows, against reading the same file with
``tomllib.load``.

Run from the repository root::

    python3 benchmarks/bench_verify.py [--sizes 1000,10000,100000] [--repeat 3]

For each size N it writes a valid, sealed lock of N pins (half wheel pins with one file
each, half apt packages) and a second one with every tenth version moved, then times in this
process (median of ``--repeat``):

* ``tomllib.load`` of the lock (the floor: any reader parses the TOML);
* ``tritonlock.verify.offline.verify`` (schema, content hash, order, every rule);
* ``diff``: both locks read and validated, the semantic diff, its text rendering;

and prints each time, its ratio to ``tomllib.load``, and the growth factor from the size
before (linear: the factor equals the size ratio). The goal (issue 14) is linear growth and
100k pins within 5× of ``tomllib.load``. The locks are written as TOML text directly (the
product's own writer, tomlkit, takes minutes at 100k entries); their content hash is the
product's (``lockfile.content_hash``), so `verify` accepts them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from tritonlock import lockfile
from tritonlock.diff import diff_locks, render_text
from tritonlock.model import Index, Inputs, Lock
from tritonlock.verify import offline as verify

SHA = "sha256:" + "ab" * 32


def lock_text(n: int, moved: bool) -> str:
    """A sealed lock of ``n`` pins, in canonical order."""
    half = n // 2
    wheels, apt = [], []
    for i in range(half):
        v = "2.0" if moved and i % 10 == 0 else "1.0"
        wheels.append(
            f'[[wheel]]\nstep = "final"\nimage = "base"\nname = "p{i:07}"\nversion = "{v}"\n'
            f'index = "pypi"\n\n[[wheel.files]]\nname = "p{i:07}-{v}-py3-none-any.whl"\n'
            f'sha256 = "{SHA}"\nsize = {i}\n'
        )
    for i in range(n - half):
        v = "2.0-1" if moved and i % 10 == 0 else "1.0-1"
        apt.append(f'{{ step = "final", name = "a{i:07}", version = "{v}" }}')
    small = Lock(
        inputs=Inputs(release="25.04", target="x86_64"),
        index=(Index(name="pypi", url="https://pypi.org/simple/"),),
    )
    head = "".join(
        line
        for line in lockfile.dumps(small).splitlines(keepends=True)
        if not line.startswith("content-hash")
    )
    body = head + "\n" + "\n".join(wheels) + "\n[apt]\npackages = [\n" + ",\n".join(apt) + "\n]\n"
    data = tomllib.loads(body)
    return body.replace(
        "lock-version = 1\n",
        f'lock-version = 1\ncontent-hash = "{lockfile.content_hash(data)}"\n',
        1,
    )


def median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="pins per lock")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'pins':>8} {'toml':>8} {'verify':>8} {'×toml':>6} {'growth':>7} "
          f"{'diff':>8} {'×toml':>6} {'growth':>7}")  # fmt: skip
    before: tuple[int, float, float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            a, b = Path(tmp, f"a{n}.lock"), Path(tmp, f"b{n}.lock")
            a.write_text(lock_text(n, moved=False))
            b.write_text(lock_text(n, moved=True))
            report = verify.verify(a)
            if not report.ok:
                print(f"generated lock does not verify: {report.problems[:3]}", file=sys.stderr)
                return 1

            def load(path: Path = a) -> object:
                with path.open("rb") as fh:
                    return tomllib.load(fh)

            def diff(x: Path = a, y: Path = b) -> str:
                return render_text(diff_locks(lockfile.load(x), lockfile.load(y)), "a", "b")

            t_toml = median(load, args.repeat)
            t_verify = median(lambda a=a: verify.verify(a), args.repeat)
            t_diff = median(diff, args.repeat)
            grow_v = grow_d = "-"
            if before is not None:
                grow_v = f"{t_verify / before[1]:.1f}×"
                grow_d = f"{t_diff / before[2]:.1f}×"
            print(
                f"{n:>8} {t_toml:>7.2f}s {t_verify:>7.2f}s {t_verify / t_toml:>5.1f}× {grow_v:>7} "
                f"{t_diff:>7.2f}s {t_diff / (2 * t_toml):>5.1f}× {grow_d:>7}"
            )
            before = (n, t_verify, t_diff)
    print("×toml: verify against one tomllib.load, diff against two (it reads both locks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
