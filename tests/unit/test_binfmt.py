"""Whether a platform's programs run here (natively, or through a binfmt_misc handler with
the fix-binary flag), read from entries as the kernel prints them, and what `vendor` says
before any work when an arm64 lock's apt packages cannot be computed on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.emit_world import make_lock
from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.util import binfmt
from tritonlock.util.binfmt import Handler

# As Debian's qemu-user-static registers it (/usr/lib/binfmt.d/qemu-aarch64.conf).
QEMU_AARCH64 = """enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: POF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
"""
EXTENSION = "enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n"


def entries(tmp_path: Path, status: str = "enabled", **files: str) -> Path:
    root = tmp_path / "binfmt_misc"
    root.mkdir()
    (root / "status").write_text(status + "\n")
    (root / "register").write_text("")
    for name, text in files.items():
        (root / name.replace("_", "-")).write_text(text)
    return root


def aarch64(text: str = QEMU_AARCH64) -> Handler:
    handler = binfmt.parse_handler("qemu-aarch64", text)
    assert handler is not None
    return handler


def test_entries_are_read_as_the_kernel_prints_them(tmp_path: Path) -> None:
    root = entries(tmp_path, qemu_aarch64=QEMU_AARCH64, wine=EXTENSION)
    found = binfmt.read_handlers(root)
    assert found is not None
    enabled, handlers = found
    assert enabled
    assert [(h.name, h.flags, h.offset) for h in handlers] == [("qemu-aarch64", "POF", 0)]
    assert handlers[0].matches(binfmt.elf_head("arm64"))
    assert not handlers[0].matches(binfmt.elf_head("amd64"))
    assert binfmt.read_handlers(tmp_path / "not-mounted") is None


def test_a_machine_runs_its_own_platform_without_any_handler() -> None:
    assert binfmt.problem("linux/amd64", machine="x86_64", binfmt=None) is None
    assert binfmt.problem("linux/arm64/v8", machine="aarch64", binfmt=None) is None


def test_a_foreign_platform_runs_through_an_enabled_fix_binary_handler() -> None:
    assert binfmt.problem("linux/arm64/v8", machine="x86_64", binfmt=(True, [aarch64()])) is None


@pytest.mark.parametrize(
    ("state", "said"),
    [
        (None, "/proc/sys/fs/binfmt_misc is not mounted (mount -t binfmt_misc"),
        ((False, [aarch64()]), "binfmt_misc is disabled (echo 1 > /proc/sys/fs/binfmt_misc/status"),
        ((True, []), "no binfmt handler for arm64 is registered in /proc/sys/fs/binfmt_misc; "
         "install qemu-user-static (apt-get install qemu-user-static; without systemd, then "
         "/usr/lib/systemd/systemd-binfmt /usr/lib/binfmt.d/qemu-aarch64.conf)"),
        ((True, [aarch64(QEMU_AARCH64.replace("POF", "P"))]),
         "its binfmt handler (qemu-aarch64) lacks the fix-binary flag F, so containers cannot"),
        ((True, [aarch64(QEMU_AARCH64.replace("enabled", "disabled"))]),
         "its binfmt handler qemu-aarch64 is disabled (echo 1 > /proc/sys/fs/binfmt_misc/qemu"),
    ],
)  # fmt: skip
def test_what_is_missing_is_named_with_its_fix(
    state: tuple[bool, list[Handler]] | None, said: str
) -> None:
    problem = binfmt.problem("linux/arm64/v8", machine="x86_64", binfmt=state)
    assert problem is not None
    assert problem.startswith("linux/arm64/v8 programs do not run on this x86_64 machine")
    assert said in problem
    assert "\n" not in problem


def test_vendor_refuses_an_arm64_locks_apt_before_any_work_on_a_machine_that_cannot_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = make_lock("igpu")
    assert lock.apt is not None and lock.apt.packages
    path = tmp_path / "triton.lock"
    lockfile.write(lock, path)
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    monkeypatch.setattr(binfmt, "read_handlers", lambda: (True, ()))
    out = tmp_path / "bundle"
    assert main(["vendor", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "vendor: apt runs in the images of the lock's target igpu: linux/arm64/v8 " in err
    assert "install qemu-user-static" in err
    assert err.endswith("; or pass --no-apt, or run vendor on an arm64 machine")
    assert not out.exists()


def test_build_run_refuses_an_arm64_lock_before_writing_on_a_machine_that_cannot_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "triton.lock"
    lockfile.write(make_lock("igpu"), path)
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    monkeypatch.setattr(binfmt, "read_handlers", lambda: (True, ()))
    monkeypatch.setattr("tritonlock.commands.build.require", lambda *_a: None)
    out = tmp_path / "build"
    code = main(["build", str(path), "-o", str(out), "--run", "--builder", "buildah"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "\n" not in err and "Traceback" not in err
    assert "build --run: the build of target igpu runs its images' programs: " in err
    assert "install qemu-user-static" in err
    assert not out.exists()
