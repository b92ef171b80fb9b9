"""Fuzzing the commands that read a lock (issue 14): the committed corpus, then a bounded,
derandomised hypothesis run of fresh mutations. For every input: no internal error, an exit
code in {0, 1, 2}, and exactly one line on stderr when the exit code is 2."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.corpus import CORPUS, VALID, mutations
from tritonlock import cli

RECIPE = Path(__file__).resolve().parents[1] / "data" / "recipes" / "x86_64"
FILES = sorted(CORPUS.glob("*.lock"))


def commands(lock: Path, out: Path) -> list[list[str]]:
    return [
        ["verify", str(lock)],
        ["verify", "--json", str(lock)],
        ["hash", str(lock)],
        ["diff", str(VALID), str(lock)],
        ["diff", "--format", "json", str(lock), str(VALID)],
        ["export", "requirements", str(lock), "--step", "final"],
        ["export", "sbom", str(lock), "--allow-partial"],
        ["export", "sbom", str(lock), "--allow-partial", "--format", "spdx-json"],
        ["build", str(lock), "--recipe", str(RECIPE), "-o", str(out)],
    ]


def check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(argv)
    _, err = capsys.readouterr()
    shown = " ".join(argv)
    assert code in (0, 1, 2), f"{shown}: exit {code}"
    assert "internal error" not in err and "Traceback" not in err, f"{shown}: {err}"
    if code == 2:
        assert err.count("\n") == 1, f"{shown}: {err!r}"


def test_the_corpus_is_committed() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in commands(path, tmp_path / "out"):
        check(argv, capsys)


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(1, 4))
def test_fresh_mutations(
    seed: int,
    rounds: int,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(seed)
    text = VALID.read_text()
    for _ in range(rounds):
        text = mutations(text, rng)
    folder = tmp_path_factory.mktemp("fuzz")
    lock = folder / "triton.lock"
    lock.write_text(text)
    for argv in commands(lock, folder / "out"):
        check(argv, capsys)


def _leaves(data: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _leaves(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _leaves(v, (*path, i))] or [path]
    return [path]


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_fresh_values_in_a_resealed_lock(
    seed: int, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Valid TOML with the right content hash and a hostile value somewhere: the schema,
    the rules and the emitter must each refuse it in words (or accept it safely)."""
    import tomllib

    import tomlkit

    from tests.fuzz.corpus import PAYLOADS
    from tritonlock import lockfile

    rng = random.Random(seed)
    data = tomllib.loads(VALID.read_text())
    for _ in range(rng.randrange(1, 3)):
        path = rng.choice(_leaves(data))
        node: object = data
        for key in path[:-1]:
            node = node[key]  # type: ignore[index]
        value: object = rng.choice(PAYLOADS)
        if rng.random() < 0.2:
            value = rng.choice([-1, 2**70, 0.5, True, [], {}, [value]])
        node[path[-1]] = value  # type: ignore[index]
    data["content-hash"] = lockfile.content_hash(data)
    folder = tmp_path_factory.mktemp("fuzz")
    lock = folder / "triton.lock"
    lock.write_text(tomlkit.dumps(data))
    for argv in commands(lock, folder / "out"):
        check(argv, capsys)
