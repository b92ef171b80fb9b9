"""`tritonlock cache info|prune`: the location, entries and bytes by kind; pruning by age or
all at once; one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from tritonlock.cli import main
from tritonlock.util.store import Store


def _fill(root: Path, tmp_path: Path) -> Store:
    store = Store(root)
    for kind, data in (("url", b"a tarball"), ("wheel", b"a wheel"), ("image", b"a layer")):
        src = tmp_path / f"{kind}.src"
        src.write_bytes(data)
        assert store.put_file(kind, hashlib.sha256(data).hexdigest(), src)
    (root / "git").mkdir()
    (root / "git" / "pack").write_bytes(b"12345")
    return store


def test_info_says_where_and_what_by_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "cache"
    _fill(root, tmp_path)
    assert main(["cache", "info", "--cache-dir", str(root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["location"] == str(root)
    assert out["kinds"]["url"] == {"entries": 1, "size": 9}
    assert out["kinds"]["git"] == {"entries": 1, "size": 5}
    assert (out["entries"], out["size"]) == (4, 9 + 7 + 7 + 5)
    assert main(["cache", "info", "--cache-dir", str(root)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{root}: 4 files, 28 B")
    assert "downloads (files/url)" in text


def test_the_location_comes_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["cache", "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["location"] == str(tmp_path / "xdg" / "tritonlock")
    monkeypatch.setenv("TRITONLOCK_CACHE_DIR", str(tmp_path / "env"))
    assert main(["cache", "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["location"] == str(tmp_path / "env")


def test_prune_older_than_and_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "cache"
    store = _fill(root, tmp_path)
    old = time.time() - 40 * 86400
    wheel = store.path("wheel", hashlib.sha256(b"a wheel").hexdigest())
    os.utime(wheel, (old, old))
    assert main(["cache", "prune", "--older-than", "30", "--cache-dir", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"location": str(root), "removed": 1, "freed": 7}
    assert not wheel.exists()
    assert main(["cache", "prune", "--all", "--cache-dir", str(root)]) == 0
    assert capsys.readouterr().out == f"{root}: removed 3 files, freed 21 B\n"
    assert list(store.entries()) == []
    assert not (root / "git").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cache"], "name an action: tritonlock cache info|prune"),
        (["cache", "prune"], "give --older-than DAYS or --all"),
        (["cache", "prune", "--all", "--older-than", "3"], "give --older-than DAYS or --all"),
        (["cache", "prune", "--older-than", "-2"], "must be a number of days >= 0"),
        (["cache", "prune", "--older-than", "soon"], "invalid float value: 'soon'"),
    ],
)
def test_bad_options_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_prune_all_refuses_a_folder_that_is_not_a_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "project" / "git").mkdir(parents=True)
    assert main(["cache", "prune", "--all", "--cache-dir", str(tmp_path / "project")]) == 2
    assert "not tagged as tritonlock's cache (no CACHEDIR.TAG)" in capsys.readouterr().err
    assert (tmp_path / "project" / "git").is_dir()
    (tmp_path / "file").write_text("x")
    assert main(["cache", "info", "--cache-dir", str(tmp_path / "file")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["vendor", "x.lock", "-o", "out"], ["verify", "--deep"]])
def test_a_cache_dir_that_is_a_file_is_one_line_before_any_work(
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--cache-dir", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err
    assert f"--cache-dir {tmp_path / 'file'}: exists and is not a folder" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()
