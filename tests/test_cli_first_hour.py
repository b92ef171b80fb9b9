"""A new user's first hour, through the real `tritonlock` command in a subprocess.

Every option and path is checked before any network work: a one-line error that names it,
exit 2, nothing written. The same file gets the same class of answer from every command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tritonlock import lockfile

ROOT = Path(__file__).parent.parent
VALID = ROOT / "tests" / "data" / "valid" / "complete.lock"
PARTIAL = ROOT / "locks" / "25.04-igpu-python-vllm.lock"
# Nothing listens here: a command that got as far as the network would fail differently.
NOWHERE = "git://127.0.0.1:9/triton-inference-server"


def run(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tritonlock", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def one_line(done: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)
    return done.stderr


RESOLVE = ["resolve", "25.04", "--target", "x86_64", "--github-organization", NOWHERE]


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("dir", ("-o", "is a directory")),
        ("file/x.lock", ("-o", "is a file, not a folder")),
        ("new/x.lock", ("-o", "does not exist")),
        ("new/deeper/x.lock", ("-o", "does not exist")),
    ],
)
def test_resolve_output_path_is_checked_first(
    where: str, words: tuple[str, ...], tmp_path: Path
) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    before = sorted(p.name for p in tmp_path.iterdir())
    one_line(run(*RESOLVE, "-o", str(tmp_path / where)), 2, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([*RESOLVE, "--endpoint", "bogus"], ("--endpoint", "bogus", "resolve --help")),
        ([*RESOLVE, "--filesystem", "nfs"], ("--filesystem", "nfs")),
        ([*RESOLVE, "--apt-snapshot", "yesterday"], ("--apt-snapshot", "YYYYMMDDTHHMMSSZ")),
        ([*RESOLVE, "--apt-snapshot", "20251399T000000Z"], ("--apt-snapshot",)),
        ([*RESOLVE, "--exclude-newer", "yesterday"], ("--exclude-newer", "YYYY-MM-DD", "now")),
        ([*RESOLVE, "--exclude-newer", "2025-02-30"], ("--exclude-newer '2025-02-30'",)),
        (
            ["update", str(VALID), "--exclude-newer", "2025-02-20T18:02:11"],
            ("--exclude-newer '2025-02-20T18:02:11'", "RFC 3339"),
        ),
        (["update", str(VALID), "--only", "git:nonexistent"], ("git:nonexistent", "no such entry")),
        (["update", str(VALID), "--only", "wheel:nope"], ("wheel:nope", str(VALID))),
        (
            ["build", str(VALID), "--secret", "id=pip-conf,src=/nonexistent/pip.conf"],
            ("--secret", "/nonexistent/pip.conf", "no such file"),
        ),
        (["verify", "--bogus"], ("unrecognized arguments: --bogus", "`tritonlock verify --help`")),
        (["diff", str(VALID)], ("NEW", "`tritonlock diff --help`")),
    ],
)
def test_bad_options_are_one_line_exit_2_before_any_work(
    args: list[str], words: tuple[str, ...]
) -> None:
    done = run(*args)
    one_line(done, 2, *words)
    assert done.stdout == ""


def _without(program: str, tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has this Python but not ``program``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("git", "buildah", "docker"):
        found = shutil.which(name)
        if found and name != program:
            (bin_dir / name).symlink_to(found)
    return {**os.environ, "PATH": str(bin_dir)}


@pytest.mark.parametrize(
    ("args", "program", "package"),
    [
        (RESOLVE, "git", "apt-get install git"),
        (["update", str(VALID)], "git", "apt-get install git"),
        (["verify", str(VALID), "--deep"], "git", "apt-get install git"),
        (["build", str(VALID)], "git", "apt-get install git"),
    ],
)
def test_a_missing_program_is_named_with_its_package(
    args: list[str], program: str, package: str, tmp_path: Path
) -> None:
    done = run(*args, cwd=tmp_path, env=_without(program, tmp_path))
    one_line(done, 2, f"{program} is not installed", package)


def test_build_run_without_a_builder_names_one(tmp_path: Path) -> None:
    env = _without("buildah", tmp_path)
    (tmp_path / "bin" / "docker").unlink(missing_ok=True)
    done = run("build", str(VALID), "--run", "--recipe", str(tmp_path), cwd=tmp_path, env=env)
    one_line(done, 2, "buildah is not installed", "apt-get install buildah")
    assert not (tmp_path / "build").exists()


def test_the_lock_is_positional_everywhere_and_lock_is_an_alias(tmp_path: Path) -> None:
    want = lockfile.file_hash(VALID)
    for args in (["hash", str(VALID)], ["hash", "--lock", str(VALID)]):
        assert run(*args).stdout == f"{want}\n"
    for args in (["verify", str(VALID)], ["verify", "--lock", str(VALID)]):
        assert run(*args).stdout == f"OK {want}\n"
    out = tmp_path / "req.txt"
    for flag in ([str(VALID)], ["--lock", str(VALID)]):
        done = run("export", "requirements", *flag, "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert "numpy==" in out.read_text()
    one_line(run("hash", str(VALID), "--lock", str(VALID)), 2, "give the lock once")
    shutil.copy(VALID, tmp_path / "triton.lock")
    assert run("hash", cwd=tmp_path).stdout == f"{want}\n"  # the default, as for verify


def _with_unknown_key(tmp_path: Path) -> Path:
    bad = tmp_path / "unknown-key.lock"
    bad.write_text(VALID.read_text().replace("[inputs]\n", "[inputs]\nbogus = 1\n", 1))
    return bad


def test_a_lock_that_breaks_the_schema_is_exit_1_from_every_command(tmp_path: Path) -> None:
    bad = _with_unknown_key(tmp_path)
    commands = [
        ["verify", str(bad)],
        ["hash", str(bad)],
        ["diff", str(VALID), str(bad)],
        ["diff", str(bad), str(VALID)],
        ["export", "requirements", str(bad)],
        ["build", str(bad), "--recipe", str(tmp_path), "-o", str(tmp_path / "out")],
    ]
    for args in commands:
        done = run(*args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "bogus" in done.stdout + done.stderr, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_verify_lists_schema_problems_and_the_hash_mismatch_together(tmp_path: Path) -> None:
    done = run("verify", str(_with_unknown_key(tmp_path)))
    assert done.returncode == 1
    assert "inputs" in done.stdout and "bogus" in done.stdout
    assert "content-hash: does not match the content" in done.stdout
    assert "FAILED" in done.stdout and "2 problems" in done.stdout


def test_a_byte_order_mark_is_named_by_every_command(tmp_path: Path) -> None:
    bom = tmp_path / "bom.lock"
    bom.write_bytes(b"\xef\xbb\xbf" + VALID.read_bytes())
    for args in (["verify", str(bom)], ["hash", str(bom)], ["diff", str(bom), str(VALID)]):
        one_line(run(*args), 2, "byte order mark (BOM)", str(bom))


def test_verify_allow_partial_passes_a_partial_lock_and_says_so() -> None:
    strict = run("verify", str(PARTIAL))
    assert strict.returncode == 1 and "PARTIAL" in strict.stdout
    allowed = run("verify", "--allow-partial", str(PARTIAL))
    assert allowed.returncode == 0
    last = allowed.stdout.splitlines()[-1]
    assert last.startswith(f"PARTIAL {PARTIAL.relative_to(ROOT)}") or last.startswith("PARTIAL")
    assert "not pinned (allowed by --allow-partial)" in last
    as_json = json.loads(run("verify", "--allow-partial", "--json", str(PARTIAL)).stdout)
    assert as_json["ok"] is True and as_json["partial"] is True and as_json["problems"]


def test_verify_allow_partial_still_fails_a_tampered_lock(tmp_path: Path) -> None:
    tampered = tmp_path / "t.lock"
    tampered.write_text(PARTIAL.read_text().replace('release = "25.04"', 'release = "25.05"', 1))
    done = run("verify", "--allow-partial", str(tampered))
    assert done.returncode == 1 and "FAILED" in done.stdout


def test_export_of_a_partial_lock_names_what_is_missing(tmp_path: Path) -> None:
    whole = run("export", "requirements", str(PARTIAL))
    err = one_line(whole, 1, "partial lock", "not pinned", "--allow-partial")
    assert "final-vllm" in err
    step = run("export", "requirements", str(PARTIAL), "--step", "final-vllm")
    one_line(step, 1, "'final-vllm' is unresolved", "vllm==0.8.1")
    pinned = run("export", "requirements", str(PARTIAL), "--step", "buildbase-build")
    assert pinned.returncode == 0 and "--hash=sha256:" in pinned.stdout
    out = tmp_path / "all.txt"
    anyway = run("export", "requirements", str(PARTIAL), "--allow-partial", "-o", str(out))
    assert anyway.returncode == 0, anyway.stderr
    assert "--hash=sha256:" in out.read_text()


def test_a_failed_json_command_prints_an_error_object_on_stdout(tmp_path: Path) -> None:
    done = run(*RESOLVE, "--json", "-o", str(tmp_path / "x.lock"))
    assert done.returncode == 1, done.stderr
    error = json.loads(done.stdout)
    assert error["exit"] == 1 and "127.0.0.1:9" in error["error"]
    assert done.stderr.startswith("tritonlock: error:")
    usage = run(*RESOLVE, "--json", "--endpoint", "bogus")
    assert usage.returncode == 2 and json.loads(usage.stdout)["exit"] == 2
    assert not (tmp_path / "x.lock").exists()


@pytest.mark.parametrize(
    ("backend", "why"),
    [
        ("onnxruntime", "upstream builds ONNX Runtime with a nested `docker build`"),
        ("openvino", "upstream builds OpenVINO with a nested `docker build`"),
        ("fil", "upstream builds RAPIDS/FIL with a nested `docker build`"),
        ("fastertransformer", "upstream downloads and executes a remote script"),
    ],
)
def test_resolve_refuses_at_once_a_backend_build_cannot_build(
    tmp_path: Path, backend: str, why: str
) -> None:
    """One line naming the backend, the release and the target, before any network (the
    organization is unreachable: nothing asks it)."""
    out = tmp_path / "x.lock"
    done = run(*RESOLVE, "--backend", "python", "--backend", backend, "-o", str(out))
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    head = f"tritonlock: error: --backend {backend}: tritonlock cannot build it for 25.04 "
    assert line.startswith(head + "--target x86_64: " + why)
    assert line.endswith("; drop it, or pass --allow-partial to lock the rest")
    assert "127.0.0.1:9" not in done.stderr
    assert not out.exists()


def test_resolve_with_allow_partial_warns_at_once_and_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "x.lock"
    done = run(*RESOLVE, "--backend", "onnxruntime", "--allow-partial", "-o", str(out))
    assert done.returncode == 1  # the organization is unreachable, after the warning
    warning = done.stderr.splitlines()[1]  # right after "resolving …", before any work
    assert warning.startswith("warning: --backend onnxruntime: tritonlock cannot build it")
    assert warning.endswith("(listed as unresolved: --allow-partial)")


def test_pytorch_is_refused_only_where_its_cmake_runs_inside_the_image(tmp_path: Path) -> None:
    old = run("resolve", "24.12", *RESOLVE[2:], "--backend", "pytorch")
    assert old.returncode == 2
    assert "--backend pytorch: tritonlock cannot build it for 24.12" in old.stderr
    assert "docker run" in old.stderr
    new = run(*RESOLVE, "--backend", "pytorch", "-o", str(tmp_path / "x.lock"))
    assert new.returncode == 1 and "cannot build" not in new.stderr  # it went on, to the network


def test_every_help_ends_with_examples() -> None:
    for args in (
        ["resolve"], ["update"], ["verify"], ["hash"], ["diff"], ["export"],
        ["export", "requirements"], ["export", "sbom"], ["export", "pylock"], ["build"],
        ["vendor"], ["git-setup"], ["merge-driver"],
    ):  # fmt: skip
        done = run(*args, "--help")
        assert done.returncode == 0
        tail = done.stdout.split("Examples:\n")
        assert len(tail) == 2 and tail[1].strip().startswith("tritonlock"), args
