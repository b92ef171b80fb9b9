"""`tritonlock git-setup`, the textconv diff driver and the merge driver, with real `git merge`
and `git diff` in temporary repositories (they need only git)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tritonlock import lockfile
from tritonlock.model import Commit, Lock, WheelFile

VALID = Path(__file__).parent / "data" / "valid" / "complete.lock"
TRITONLOCK = f"{shlex.quote(sys.executable)} -m tritonlock"


def git(repo: Path, *words: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *words], capture_output=True, text=True, check=check, timeout=120
    )


def tritonlock(*words: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tritonlock", *words],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def numpy(lock: Lock, version: str) -> Lock:
    (w,) = lock.wheel
    name = f"numpy-{version}-cp312-cp312-manylinux_2_17_x86_64.whl"
    digit = version[-1]
    files = (WheelFile(name=name, sha256="sha256:" + digit * 64, size=18000000),)  # type: ignore[arg-type]
    return replace(lock, wheel=(replace(w, version=version, files=files),))


def backend_at(lock: Lock, commit: Commit) -> Lock:
    pins = tuple(replace(g, commit=commit) if g.name == "python_backend" else g for g in lock.git)
    return replace(lock, git=pins)


def download(lock: Lock, digit: str) -> Lock:
    (u,) = lock.url
    return replace(lock, url=(replace(u, sha256="sha256:" + digit * 64),))  # type: ignore[arg-type]


BASE = lockfile.load(VALID)


def commit(repo: Path, lock: Lock, message: str) -> None:
    lockfile.write(lock, repo / "triton.lock")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with git-setup run and the base lock on `main`."""
    path = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(path))
    git(path, "config", "user.name", "T")
    git(path, "config", "user.email", "t@example.invalid")
    done = tritonlock("git-setup", "--command", TRITONLOCK, cwd=path)
    assert done.returncode == 0, done.stderr
    commit(path, BASE, "base")
    return path


def branches(repo: Path, ours: Lock, theirs: Lock) -> subprocess.CompletedProcess[str]:
    """`theirs` committed on branch `other`, `ours` on `main`; then `git merge other`."""
    git(repo, "checkout", "-qb", "other")
    commit(repo, theirs, "theirs")
    git(repo, "checkout", "-q", "main")
    commit(repo, ours, "ours")
    return git(repo, "merge", "--no-edit", "other", check=False)


def test_git_setup_writes_the_attributes_and_the_config_once(repo: Path) -> None:
    attributes = (repo / ".gitattributes").read_text()
    assert attributes == "triton.lock diff=tritonlock merge=tritonlock\n"
    assert (
        git(repo, "config", "diff.tritonlock.textconv").stdout == f"{TRITONLOCK} diff --textconv\n"
    )
    driver = git(repo, "config", "merge.tritonlock.driver").stdout
    assert driver == f"{TRITONLOCK} merge-driver %O %A %B %P\n"
    again = tritonlock("git-setup", "--command", TRITONLOCK, "--pattern", "locks/*.lock", cwd=repo)
    assert again.returncode == 0, again.stderr
    assert (repo / ".gitattributes").read_text() == (
        "triton.lock diff=tritonlock merge=tritonlock\n"
        "locks/*.lock diff=tritonlock merge=tritonlock\n"
    )
    assert git(repo, "check-attr", "merge", "--", "locks/a.lock").stdout.endswith(": tritonlock\n")


def test_git_setup_outside_a_repository_is_one_line_exit_2(tmp_path: Path) -> None:
    done = tritonlock("git-setup", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a git repository" in done.stderr


def test_git_diff_shows_the_lock_through_textconv(repo: Path) -> None:
    commit(repo, backend_at(BASE, Commit("d" * 40)), "move python_backend")
    shown = git(repo, "diff", "HEAD~1", "HEAD").stdout
    url = "http://127.0.0.1:9418/python_backend.git"
    assert f"-git python_backend: r25.04 → {'a' * 40} from {url}\n" in shown
    assert f"+git python_backend: r25.04 → {'d' * 40} from {url}\n" in shown
    assert "content-hash" in shown  # the hash line changed too, and says it matches
    assert "(matches its content)" in shown


def test_disjoint_changes_merge_clean_canonical_and_verified(repo: Path) -> None:
    ours, theirs = backend_at(BASE, Commit("d" * 40)), download(BASE, "5")
    done = branches(repo, ours, theirs)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = lockfile.load(repo / "triton.lock")
    assert merged.git == ours.git and merged.url == theirs.url
    expected = lockfile.dumps(replace(ours, url=theirs.url))
    assert (repo / "triton.lock").read_text() == expected  # canonical, fresh content hash
    assert tritonlock("verify", "triton.lock", cwd=repo).stdout.startswith("OK sha256:")
    assert git(repo, "status", "--porcelain").stdout == ""


def test_without_the_driver_the_same_merge_conflicts_on_the_hash_line(repo: Path) -> None:
    (repo / ".gitattributes").unlink()
    git(repo, "commit", "-qam", "no driver")
    done = branches(repo, backend_at(BASE, Commit("d" * 40)), download(BASE, "5"))
    assert done.returncode != 0
    assert "<<<<<<<" in (repo / "triton.lock").read_text()


def test_the_same_change_on_both_sides_is_no_conflict(repo: Path) -> None:
    ours = backend_at(numpy(BASE, "1.26.5"), Commit("d" * 40))
    done = branches(repo, ours, numpy(BASE, "1.26.5"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert lockfile.load(repo / "triton.lock") == lockfile.seal(ours)


def test_a_conflict_is_on_that_entry_only_and_left_for_update(repo: Path) -> None:
    ours = numpy(BASE, "1.26.5")
    theirs = download(numpy(BASE, "1.26.3"), "5")
    done = branches(repo, ours, theirs)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "triton.lock: 1 entry changed differently on both branches" in out
    assert "  wheel final/numpy: 1.26.5 here, 1.26.3 in the other branch; was 1.26.4" in out
    assert "run `tritonlock update triton.lock`" in out
    assert "UU triton.lock" in git(repo, "status", "--porcelain").stdout
    text = (repo / "triton.lock").read_text()
    assert "# MERGE CONFLICT in triton.lock: wheel final/numpy." in text
    left = lockfile.load(repo / "triton.lock")  # a lock `update` reads
    assert left.wheel == ours.wheel and left.url == theirs.url  # the disjoint part merged
    (mark,) = left.unresolved
    assert (mark.kind, mark.what) == ("wheel", "merge conflict: wheel final/numpy")
    assert left.content_hash == lockfile.seal(ours).content_hash  # stale: it must not verify
    for extra in ((), ("--allow-partial",)):
        check = tritonlock("verify", "triton.lock", *extra, cwd=repo)
        assert check.returncode == 1
        assert "content-hash: does not match" in check.stdout
        assert "merge conflict: wheel final/numpy" in check.stdout


def test_a_tampered_side_is_refused_and_ours_left_alone(tmp_path: Path) -> None:
    good = tmp_path / "base.lock"
    lockfile.write(BASE, good)
    ours = tmp_path / "ours.lock"
    lockfile.write(backend_at(BASE, Commit("d" * 40)), ours)
    theirs = tmp_path / "theirs.lock"
    theirs.write_text(good.read_text().replace("1.26.4", "1.26.9"))
    before = ours.read_bytes()
    done = tritonlock(
        "merge-driver", str(good), str(ours), str(theirs), "triton.lock", cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "content-hash: does not match" in done.stderr
    assert done.stderr.startswith(
        f"tritonlock: error: triton.lock, the other branch's version ({theirs}): "
    )
    assert ours.read_bytes() == before


def test_no_common_ancestor_merges_what_agrees(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    ours, theirs = tmp_path / "ours.lock", tmp_path / "theirs.lock"
    lockfile.write(BASE, ours)
    lockfile.write(download(BASE, "5"), theirs)
    done = tritonlock("merge-driver", str(empty), str(ours), str(theirs), cwd=tmp_path)
    assert done.returncode == 1  # both added the download, differently
    assert f"url {BASE.url[0].url}:" in done.stderr


def test_git_setup_global_writes_the_drivers_to_the_users_config(tmp_path: Path) -> None:
    path = tmp_path / "r"
    git(tmp_path, "init", "-q", str(path))
    done = tritonlock("git-setup", "--global", cwd=path)
    assert done.returncode == 0, done.stderr
    shown = git(path, "config", "--global", "--show-origin", "merge.tritonlock.driver").stdout
    origin, value = shown.rstrip("\n").split("\t")
    assert origin == f"file:{Path(os.environ['HOME']) / '.gitconfig'}"
    assert value == "tritonlock merge-driver %O %A %B %P"
    assert git(path, "config", "--local", "merge.tritonlock.driver", check=False).returncode == 1
    assert (path / ".gitattributes").read_text() == "triton.lock diff=tritonlock merge=tritonlock\n"


def test_git_setup_refuses_a_pattern_git_would_split(repo: Path) -> None:
    done = tritonlock("git-setup", "--pattern", "my lock", cwd=repo)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--pattern 'my lock'" in done.stderr


def test_textconv_of_a_half_merged_file_shows_it_as_written(tmp_path: Path) -> None:
    marked = tmp_path / "triton.lock"
    marked.write_text("<<<<<<< ours\nlock-version = 1\n=======\n>>>>>>> theirs\n")
    done = tritonlock("diff", "--textconv", str(marked), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, rest = done.stdout.split("\n", 1)
    assert first.startswith(f"# tritonlock: {marked}") and first.endswith("; shown as written")
    assert rest == marked.read_text()


def test_textconv_usage_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    for words, says in (
        (("diff", "--textconv", "missing.lock"), "missing.lock"),
        (("diff", "--textconv", str(VALID), "other.lock"), "takes no OLD or NEW"),
        (("diff", "only.lock"), "required: NEW"),
    ):
        done = tritonlock(*words, cwd=tmp_path)
        assert done.returncode == 2, words
        assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr


def test_git_diff_of_a_conflicted_merge_says_the_hash_is_stale(repo: Path) -> None:
    assert branches(repo, numpy(BASE, "1.26.5"), numpy(BASE, "1.26.3")).returncode != 0
    shown = git(repo, "diff", "HEAD", "--", "triton.lock").stdout
    assert "+content-hash" in shown and "DOES NOT MATCH its content" in shown
    assert "+unresolved wheel:merge conflict: wheel final/numpy: both branches changed it" in shown


def test_a_clean_merge_that_does_not_verify_is_a_conflict(tmp_path: Path) -> None:
    """Each side verifies, and no entry changed on both, but together they break a rule:
    ours adds a wheel from index `local`, theirs moves numpy to index `pypi` and drops
    `local`."""
    from tritonlock.model import Index

    (w,) = BASE.wheel
    ours = replace(
        BASE,
        wheel=(
            w,
            replace(
                w,
                name="packaging",
                version="24.0",
                requested=None,
                files=(
                    WheelFile(
                        name="packaging-24.0-py3-none-any.whl",
                        sha256="sha256:" + "7" * 64,  # type: ignore[arg-type]
                        size=53000,
                    ),
                ),
            ),
        ),
    )
    theirs = replace(
        BASE,
        index=(Index(name="pypi", url="https://pypi.org/simple/"),),
        wheel=(replace(w, index="pypi"),),
    )
    paths = {}
    for name, lock in (("base", BASE), ("ours", ours), ("theirs", theirs)):
        paths[name] = tmp_path / f"{name}.lock"
        lockfile.write(lock, paths[name])
        assert tritonlock("verify", str(paths[name]), cwd=tmp_path).returncode == 0, name
    done = tritonlock(
        "merge-driver", *(str(p) for p in paths.values()), "triton.lock", cwd=tmp_path
    )
    assert done.returncode == 1
    assert "triton.lock: merged entry by entry, but the result does not verify" in done.stderr
    assert "'local'" in done.stderr
