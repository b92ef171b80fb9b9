"""The real entry points, in a subprocess: `tritonlock …` and `python -m tritonlock …`."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.unit.test_verify import CORPUS, INVALID
from tritonlock import __version__, cli, lockfile

VALID = Path(__file__).parent / "data" / "valid" / "complete.lock"
ENTRY_POINTS = {
    "script": [shutil.which("tritonlock") or "tritonlock"],
    "module": [sys.executable, "-m", "tritonlock"],
}


def run(*args: str, how: str = "script") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ENTRY_POINTS[how], *args], capture_output=True, text=True, timeout=60)


def _commands() -> list[str]:
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


@pytest.mark.parametrize("how", sorted(ENTRY_POINTS))
def test_help_lists_commands_one_line_each(how: str) -> None:
    done = subprocess.run(
        [*ENTRY_POINTS[how], "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "60"},  # a narrow terminal must not wrap them
    )
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    names = _commands()
    assert {"verify", "hash"} <= set(names)
    for name in names:
        [i] = [i for i, ln in enumerate(lines) if ln.startswith(f"    {name} ")]
        assert len(lines[i].split()) > 2  # the command and its help, on the same line
        assert not lines[i + 1].startswith("      ")  # no continuation line
    assert "Exit codes: 0 ok, 1 negative result" in " ".join(lines)


@pytest.mark.parametrize("how", sorted(ENTRY_POINTS))
def test_version(how: str) -> None:
    done = run("--version", how=how)
    assert (done.returncode, done.stdout) == (0, f"tritonlock {__version__}\n")


@pytest.mark.parametrize("how", sorted(ENTRY_POINTS))
def test_verify_ok(how: str) -> None:
    done = run("verify", str(VALID), how=how)
    assert done.returncode == 0
    assert done.stdout == f"OK {lockfile.load(VALID).content_hash}\n"
    assert done.stderr == ""


def test_verify_defaults_to_triton_lock(tmp_path: Path) -> None:
    shutil.copy(VALID, tmp_path / "triton.lock")
    done = subprocess.run(
        ["tritonlock", "verify"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("OK sha256:")


def test_hash_prints_computed_hash() -> None:
    done = run("hash", str(INVALID / "tampered-hash.lock"))
    assert done.returncode == 0
    assert done.stdout == lockfile.file_hash(INVALID / "tampered-hash.lock") + "\n"
    assert (
        done.stdout.strip()
        != lockfile.read_raw(INVALID / "tampered-hash.lock").data["content-hash"]
    )


def test_whole_invalid_corpus_never_tracebacks(tmp_path: Path) -> None:
    """Every invalid lock, and the generated ones, give the right exit code and no traceback."""
    big = tmp_path / "big.lock"
    big.write_bytes(b"lock-version = 1\n" + b"#" * (50 * 1024 * 1024) + b"\n")
    cases = {str(INVALID / name): code for name, (code, _) in CORPUS.items()}
    cases |= {str(big): 2, str(tmp_path): 2, str(tmp_path / "missing.lock"): 2}
    jobs = [("verify", path) for path in cases]
    jobs += [("hash", path) for path, code in cases.items() if code == 2]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: run(*job), jobs))
    for (command, path), done in zip(jobs, results, strict=True):
        assert "Traceback" not in done.stderr, (command, path, done.stderr)
        if command == "verify":
            assert done.returncode == cases[path], (path, done.stdout, done.stderr)
        if done.returncode == 2:
            assert done.stderr.count("\n") == 1 and done.stderr.startswith("tritonlock: error:")


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["verify", "a.lock", "--lock", "b.lock"],
        ["verify", "--nope"],
        ["hash"],
        ["--bogus"],
        # refused before anything is fetched, by the lock's own schema:
        ["resolve", "25.04", "--target", "x86_64", "--backend=python:r25.04/../../etc"],
        ["resolve", "25.04", "--target", "x86_64", "--backend=--upload-pack=touch x"],
        ["resolve", "25.04", "--target", "x86_64", "--repoagent=a;b"],
        ["resolve", "25.04", "--target", "x86_64", "--image", "base,x y"],
        ["resolve", "26.03", "--target", "x86_64", "--image", "Inference Image,nvcr.io/x:1"],
        ["resolve", "26.03", "--target", "x86_64", "--image", "inference"],
        ["update", "locks/example.lock", "--only", "git:core", "--server-ref", "main"],
        ["update", "locks/example.lock", "--only", "git:server"],
        ["resolve", "25.04", "--target", "x86_64", "--github-organization", "file:///srv/x"],
        ["resolve", "25.04", "--target", "x86_64", "--github-organization", "ext::sh -c id"],
    ],
)
def test_usage_errors_are_one_line_exit_2(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("tritonlock")
    assert "error:" in done.stderr and "Traceback" not in done.stderr


def test_no_command_prints_help_exit_2() -> None:
    done = run()
    assert done.returncode == 2
    assert "COMMAND" in done.stdout


def test_verify_checks_each_of_several_locks_and_names_each(tmp_path: Path) -> None:
    good, edited = tmp_path / "good.lock", tmp_path / "edited.lock"
    shutil.copy(VALID, good)
    edited.write_text(VALID.read_text().replace('"1.2.1-2"', '"1.2.1-3"'))
    done = run("verify", str(good), str(edited), str(good))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == f"OK {lockfile.load(VALID).content_hash} {good}"
    assert lines[1].startswith(f"{edited}: content-hash: does not match")
    assert lines[-2:] == [f"FAILED {edited}: 1 problem", lines[0]]
    assert run("verify", str(good), str(good)).returncode == 0
    both = run("verify", str(good), str(good), "--json")
    assert both.returncode == 2
    assert both.stderr == "tritonlock: error: --json reports one lock; 2 given\n"
