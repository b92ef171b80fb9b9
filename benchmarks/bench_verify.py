"""Benchmark: `verify` and `diff` time as a lock grows, against reading the same file with
``tomllib.load``.

Run from the repository root::

    python3 benchmarks/bench_verify.py [--sizes 1000,10000,100000] [--repeat 3]

For each size N it writes a valid, sealed lock of N pins (half wheel pins with one file
each, half apt packages) and a second one with every tenth version moved, then times in this
process (median of ``--repeat``):

* ``tomllib.load`` of the lock (any reader parses the TOML);
* ``lockfile.file_hash``: what `tritonlock hash` does (read, parse, hash), the floor;
* ``tritonlock.verify.offline.verify`` (schema, content hash, order, every rule);
* ``diff``: both locks read and validated, the semantic diff, its text rendering;
* ``write``: ``lockfile.dumps`` of the lock's model (seal, canonical order, TOML text);

and prints each time, its ratio to the hash, and the growth factor from the size before
(linear: the factor equals the size ratio). Goals (issues 14 and 19): linear growth, 20k
pins verified within 3 s. The locks are written as TOML text directly; their content hash
is the product's (``lockfile.content_hash``), so `verify` accepts them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from functools import partial
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
    columns = ("verify", "×hash", "growth", "diff", "×hash", "growth", "write", "×hash", "growth")
    print(f"{'pins':>8} {'toml':>7} {'hash':>7} " + " ".join(f"{c:>7}" for c in columns))
    before: tuple[float, float, float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            a, b = Path(tmp, f"a{n}.lock"), Path(tmp, f"b{n}.lock")
            a.write_text(lock_text(n, moved=False))
            b.write_text(lock_text(n, moved=True))
            report = verify.verify(a)
            if not report.ok or report.lock is None:
                print(f"generated lock does not verify: {report.problems[:3]}", file=sys.stderr)
                return 1
            model = report.lock

            def load(path: Path = a) -> object:
                with path.open("rb") as fh:
                    return tomllib.load(fh)

            def diff(x: Path = a, y: Path = b) -> str:
                return render_text(diff_locks(lockfile.load(x), lockfile.load(y)), "a", "b")

            t_toml = median(load, args.repeat)
            t_hash = median(partial(lockfile.file_hash, a), args.repeat)
            t_verify = median(partial(verify.verify, a), args.repeat)
            t_diff = median(diff, args.repeat)
            t_write = median(partial(lockfile.dumps, model), args.repeat)
            times = (t_verify, t_diff, t_write)
            growth = [f"{t / b:.1f}×" for t, b in zip(times, before or times, strict=True)]
            if before is None:
                growth = ["-"] * 3
            print(
                f"{n:>8} {t_toml:>6.2f}s {t_hash:>6.2f}s "
                f"{t_verify:>6.2f}s {t_verify / t_hash:>6.1f}× {growth[0]:>7} "
                f"{t_diff:>6.2f}s {t_diff / (2 * t_hash):>6.1f}× {growth[1]:>7} "
                f"{t_write:>6.2f}s {t_write / t_hash:>6.1f}× {growth[2]:>7}"
            )
            before = times
    print(
        "hash: `tritonlock hash` (read, parse, canonical JSON, SHA-256); ×hash: verify and "
        "write against one hash, diff against two (it reads both locks)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
