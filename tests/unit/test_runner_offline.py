"""The offline wrapper of buildah's compile build, run by ``sh`` with stub commands on PATH:
root gets ``unshare --net`` directly, anyone else goes through ``buildah unshare`` first."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tritonlock import runner
from tritonlock.emit.buildplan import OFFLINE

STUB = '#!/bin/sh\nprintf "%s\\n" "$(basename "$0")" "$@" >> "$LOG"\n'


def run_offline(tmp_path: Path, uid: int, argv: list[str]) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("unshare", "buildah"):
        (bin_dir / name).write_text(STUB)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "id").write_text(f'#!/bin/sh\n[ "$1" = -u ] && echo {uid}\n')
    (bin_dir / "id").chmod(0o755)
    log = tmp_path / "log"
    env = {"PATH": f"{bin_dir}:{os.defpath}", "LOG": str(log)}
    subprocess.run([*OFFLINE, *argv], env=env, check=True, timeout=30)
    return log.read_text().splitlines()


ARGV = ["buildah", "bud", "--secret", "id=pip-conf,src=/a dir/pip.conf", "--target", "x", "."]


def test_root_unshares_the_network_directly(tmp_path: Path) -> None:
    assert run_offline(tmp_path, 0, ARGV) == ["unshare", "--net", "--", *ARGV]


@pytest.mark.parametrize("uid", [1, 1000, 65534])
def test_others_enter_buildahs_user_namespace_first(tmp_path: Path, uid: int) -> None:
    got = run_offline(tmp_path, uid, ARGV)
    assert got == ["buildah", "unshare", "--", "unshare", "--net", "--", *ARGV]


def test_a_failed_offline_step_is_named_by_its_builder_not_the_wrapper(tmp_path: Path) -> None:
    argv = [*OFFLINE, "false", "--target", "tritonlock-compile"]
    with pytest.raises(runner.BuildFailed) as err:
        runner.execute([({}, argv)], tmp_path)
    assert str(err.value) == "false --target (offline compile) … exited with status 1"
