"""The compile's tree is upstream's build context: the server checkout without what its
``.dockerignore`` leaves out, under Docker's matching rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tritonlock.emit.context import apply, excluded, parse
from tritonlock.emit.sources import context_script


@pytest.mark.parametrize(
    ("patterns", "path", "out"),
    [
        (".git*", ".git", True),
        (".git*", ".github/workflows/ci.yml", True),  # a parent folder matches
        (".git*", ".gitignore", True),
        (".git*", "src/.gitignore", False),  # `*` patterns are rooted at the context
        (".git*", "gitlab.txt", False),
        ("**/.git*", "src/.gitattributes", True),
        ("**/.git*", ".gitattributes", True),  # `**/` is zero or more folders
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/sub/a.md", False),  # `*` stays within one segment
        ("docs/**/*.md", "docs/sub/deep/a.md", True),
        ("/build", "build/cmake_build", True),  # a leading slash is dropped
        ("./qa/../build", "build", True),  # patterns are cleaned like paths
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file/.txt", False),
        ("[a-c].txt", "b.txt", True),
        ("[^a-c].txt", "d.txt", True),
        ("[!a-c].txt", "a.txt", False),
        ("\\*.txt", "*.txt", True),
        ("\\*.txt", "a.txt", False),
        ("docs\n!docs/keep.md", "docs/keep.md", False),  # the last match wins
        ("docs\n!docs/keep.md", "docs/drop.md", True),
        ("!docs\ndocs", "docs/x", True),
        ("# a comment\n\n  \n", "anything", False),
    ],
)
def test_dockers_matching_rules(patterns: str, path: str, out: bool) -> None:
    assert excluded(path, parse(patterns)) is out


def test_an_unterminated_class_is_an_error() -> None:
    with pytest.raises(ValueError, match="unterminated character class"):
        parse("[abc")


def _tree(root: Path) -> None:
    for rel in (".github/workflows/ci.yml", ".gitignore", "src/.gitignore", "src/main.cc"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    (root / ".dockerignore").write_text(".git*\n")


def test_apply_removes_what_is_left_out_and_keeps_the_rest(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert apply(str(tmp_path), parse(".git*")) == [".github", ".gitignore"]
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == [".dockerignore", "src/.gitignore", "src/main.cc"]


def test_apply_with_an_exception_looks_inside_excluded_folders(tmp_path: Path) -> None:
    for rel in ("docs/keep.md", "docs/drop.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    assert apply(str(tmp_path), parse("docs\n!docs/keep.md")) == ["docs/drop.md"]
    assert (tmp_path / "docs" / "keep.md").is_file()


def test_the_emitted_script_runs_standalone(tmp_path: Path) -> None:
    """What the sources stage runs: the module's own text, with no tritonlock to import."""
    script = tmp_path / "context.py"
    script.write_bytes(context_script())
    root = tmp_path / "server"
    root.mkdir()
    _tree(root)
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(root)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "tritonlock: .dockerignore left out 2 path(s): .github .gitignore"
    assert not (root / ".github").exists() and (root / "src" / ".gitignore").is_file()
    (root / ".dockerignore").write_text("[oops\n")
    bad = subprocess.run(
        [sys.executable, "-I", str(script), str(root)], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().endswith(".dockerignore: unterminated character class in '[oops'")
