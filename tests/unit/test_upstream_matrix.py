"""tools/upstream_matrix.py: how unresolved entries are grouped and tabulated (no resolve)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parent.parent.parent


def _tool() -> ModuleType:
    if str(ROOT / "tools") not in sys.path:  # as when run as a script: its own folder first
        sys.path.insert(0, str(ROOT / "tools"))
    spec = importlib.util.spec_from_file_location(
        "upstream_matrix", ROOT / "tools" / "upstream_matrix.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["upstream_matrix"] = module
    spec.loader.exec_module(module)
    return module


M = _tool()


def test_reasons_are_grouped_by_who_can_fix_them() -> None:
    assert (
        M.Entry("image", "base images", "image x:1: connection failed (ConnectError)").group
        == "unreachable"
    )
    assert (
        M.Entry("git", "g", "remote error: access denied or repository not exported: /a").group
        == "mirror"
    )
    assert M.Entry("git", "g", "x.git has no branch or tag 'r25.10' (asked in y)").group == "mirror"
    assert M.Entry("git", "g", "x.git has no branch or tag 'v1.2' (asked in y)").group == "other"
    assert M.Entry("wheel", "w", "No solution found").group == "other"


def test_the_table_has_a_row_per_cell_and_separates_the_groups() -> None:
    reach = M.Entry("url", "downloads", "URL https://h/x: connection failed (ConnectError)")
    defect = M.Entry("url", "downloads", "URL https://h/v/c.hpp: HTTP 404")
    cells = [
        M.Cell("25.04", "x86_64", False, False, (reach,), ""),
        M.Cell("25.04", "igpu", True, False, (reach, defect), ""),
        M.Cell("26.05", "igpu", False, False, (), "tritonlock: error: a | b"),
        M.Cell("26.06", "sbsa", False, True, (), ""),
    ]
    text = M.table(cells)
    rows = [line for line in text.splitlines() if line.startswith("| 2")]
    assert len(rows) == 4
    assert "partial (reach)" in rows[0] and "HTTP 404" not in rows[0]
    assert "| partial |" in rows[1] and "HTTP 404" in rows[1] and "python, vllm" in rows[1]
    assert "| error |" in rows[2] and "a \\| b" in rows[2]
    assert "| complete |" in rows[3]
    assert "- url: URL https://h/x: connection failed (ConnectError) (25.04)" in text


def test_mirror_rewrites_like_insteadof() -> None:
    mirrors = ["https://github.com/=git://127.0.0.1:1/gh/", "https://github.com/a/=git://m/a/"]
    assert M.mirrored("https://github.com/a/b", mirrors) == "git://m/a/b"
    assert M.mirrored("https://github.com/c/d", mirrors) == "git://127.0.0.1:1/gh/c/d"
    assert M.mirrored("https://gitlab.com/c/d", mirrors) == "https://gitlab.com/c/d"


def test_a_step_that_needs_files_of_a_repo_the_mirrors_lack_is_an_oracle_gap() -> None:
    core = M.Entry(
        "git", "core", "core.git has no branch or tag 'r26.08' (asked in cmake_build:15)"
    )
    step = M.Entry(
        "wheel",
        "pip install at Dockerfile:121: final-tritonserver",
        "built in-tree; its dependencies are unknown (not read: core:pyproject.toml, "
        "core:python/setup.py)",
    )
    other = M.Entry("wheel", "w", "its dependencies are unknown (not read: server:setup.py)")
    cell = M.Cell("26.08", "x86_64", False, False, (core, step), "")
    assert cell.group(step) == "mirror" and cell.status == "partial (reach)"
    alone = M.Cell("26.08", "x86_64", False, False, (step,), "")
    assert alone.group(step) == "other" and alone.status == "partial"
    assert M.Cell("26.08", "igpu", False, False, (core, other), "").group(other) == "other"


def test_the_table_names_the_stand_ins_of_each_cell_and_lists_them_once() -> None:
    labels = (
        "image nvcr.io/nvidia/tritonserver:25.04-py3-min",
        "url https://download.docker.com/linux/ubuntu/gpg",
        "apt https://snapshot.ubuntu.com/ubuntu/20250512T173721Z/ (noble, noble-updates)",
    )
    later = tuple(
        label.replace("25.04", "25.05").replace("20250512T173721Z", "20250601T000000Z")
        for label in labels
    )
    cells = [
        M.Cell("25.04", "x86_64", False, True, (), "", labels),
        M.Cell("25.05", "x86_64", False, True, (), "", later),
        M.Cell("25.05", "sbsa", False, True, (), "", ()),
    ]
    text = M.table(cells)
    rows = [line for line in text.splitlines() if line.startswith("| 25")]
    assert "apt: snapshot.ubuntu.com<br>image: nvcr.io<br>url: download.docker.com" in rows[0]
    assert "| complete | – |" in rows[2]
    listed = text.split("### Stood in")[1]
    assert "- image nvcr.io/nvidia/tritonserver:YY.MM-py3-min (2 releases, 25.04–25.05)" in listed
    assert "ubuntu/SNAPSHOT/ (noble, noble-updates) (2 releases, 25.04–25.05)" in listed
    assert "### Stood in" not in M.table(cells[2:])


def test_the_table_replaces_only_what_is_between_the_markers() -> None:
    document = f"# T\n\nprose\n{M.BEGIN}\n| old |\n{M.END}\nafter\n"
    assert M.splice(document, "| new |\n") == f"# T\n\nprose\n{M.BEGIN}\n| new |\n{M.END}\nafter\n"
    with pytest.raises(SystemExit, match="no <!-- upstream_matrix: begin"):
        M.splice("# T\n", "| new |\n")


class _Standins:
    """What run() asks of tools/standins.Standins: options once, then nothing new."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.asked: list[list[tuple[str, str]]] = []
        self.fail = fail

    def prepare(
        self, _cell: str, _lock: Path, entries: list[tuple[str, str]], _passed: list[str]
    ) -> list[str] | None:
        if self.fail:
            raise self.fail
        self.asked.append(entries)
        return ["--allow-http"] if len(self.asked) == 1 else None

    def labels(self, _cell: str) -> tuple[str, ...]:
        return ("url https://h/x",)


def test_run_resolves_again_with_stand_ins_until_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reach = M.Entry("url", "https://h/x", "URL https://h/x: connection failed (ConnectError)")
    gap = M.Entry("git", "grpc", "remote error: access denied or repository not exported: /g")
    passes: list[list[str]] = []

    def once(*args: object) -> object:
        passes.append(list(args[4]))  # type: ignore[call-overload]
        entries = (reach, gap) if len(passes) == 1 else (gap,)
        return M.Cell("25.04", "x86_64", False, False, entries, "")

    monkeypatch.setattr(M, "resolve_once", once)
    standins = _Standins()
    cell = M.run("25.04", "x86_64", False, tmp_path, ["-q"], 60, standins)
    assert passes == [["-q"], ["-q", "--allow-http"]]
    assert standins.asked == [[("url", "https://h/x")], []]
    assert cell.entries == (gap,) and cell.standins == ("url https://h/x",)
    assert (tmp_path / "25.04-x86_64-python.standins").read_text() == "url https://h/x\n"


def test_a_stand_in_that_fails_is_that_cells_error_not_the_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reach = M.Entry("image", "base images", "image x:1: connection failed (ConnectError)")
    monkeypatch.setattr(
        M, "resolve_once", lambda *_a: M.Cell("25.08", "sbsa", False, False, (reach,), "")
    )
    (tmp_path / "25.08-sbsa-python.lock").write_text("pass one\n")
    failing = _Standins(M.TritonLockError("server @ 15f492ed986c: cannot check out"))
    cell = M.run("25.08", "sbsa", False, tmp_path, [], 60, failing)
    assert (
        cell.status == "error"
        and cell.error == "stand-ins: server @ 15f492ed986c: cannot check out"
    )
    assert not (tmp_path / "25.08-sbsa-python.lock").exists()
    assert M.reread("25.08", "sbsa", False, tmp_path, [], 0).error == cell.error
