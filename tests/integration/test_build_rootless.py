"""Rootless: root resolves and emits (``tritonlock build`` without ``--run``), then an
unprivileged user with its own subuid/subgid range runs the emitted ``build.sh`` with buildah
1.28 (overlay storage where the kernel allows it, else vfs; chroot isolation) against the
same world on 127.0.0.1. The user reads nothing of root's: the emitted folder and the
secret files are its own.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.buildworld import (
    GIT_TOKEN,
    ORG,
    PIP_TOKEN,
    BuildWorld,
)
from tests.fixtures.rootless import RootlessUser
from tests.integration._image import assert_archive_free_of, cli, resolve_lock
from tritonlock import lockfile
from tritonlock.model import Lock

pytestmark = pytest.mark.integration

TAG = "tritonlock/tritonserver:25.04-cpu"
TOKENS = (GIT_TOKEN.encode(), PIP_TOKEN.encode())
INSTALL = "/opt/tritonserver"
SHARED_TMP = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run"))


@dataclass
class Rootless:
    user: RootlessUser
    env: dict[str, str]
    lock: Lock
    out: Path
    build: subprocess.CompletedProcess[str]
    strays: set[Path]

    def sh(self, script: str, *args: str) -> str:
        """``script`` as the user inside ``buildah unshare`` (where its layers are readable)."""
        argv = ["buildah", "unshare", "sh", "-euc", script, "sh", *args]
        done = self.user.run(argv, env=self.env, cwd=self.user.work, timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]
        return done.stdout


def user_secrets(world: BuildWorld, user: RootlessUser) -> list[str]:
    """The same secrets as test_build_e2e.py, as 0600 files of the user's."""
    d = user.work / "secrets"
    user.mkdir(d)
    host = world.pypi_url.removeprefix("http://")
    files = {
        "git-config": f'[url "{world.git.git}/"]\n\tinsteadOf = {ORG}/\n'
        f"[http]\n\textraHeader = X-Token: {GIT_TOKEN}\n",
        "pip-conf": f"[global]\nindex-url = http://ci:{PIP_TOKEN}@{host}\n",
    }
    args = []
    for sid, text in files.items():
        (d / sid).write_text(text)
        os.chmod(d / sid, 0o600)
        user.give(d / sid)
        args += ["--secret", f"id={sid},src={d / sid}"]
    return args


@pytest.fixture(scope="module", name="rootless")
def rootless_fixture(
    build_world: BuildWorld, rootless_user: RootlessUser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rootless]:
    base = tmp_path_factory.mktemp("build-rootless")
    lock_path = resolve_lock(build_world, base)
    user = rootless_user
    out = user.work / "out"
    emitted = cli(
        "build", "--lock", str(lock_path), "-o", str(out), "--builder", "buildah",
        "--git-mirror", f"{ORG}={build_world.git.git}", *user_secrets(build_world, user),
        cwd=base, env={},
    )  # fmt: skip
    assert emitted.returncode == 0, emitted.stderr
    user.give(out)
    env = user.env(insecure=[build_world.registry])
    before = user.owned_outside(SHARED_TMP) | set(user.home.iterdir())
    done = user.run(["sh", str(out / "build.sh")], env=env, cwd=user.work)
    (base / "build.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    strays = (user.owned_outside(SHARED_TMP) | set(user.home.iterdir())) - before
    yield Rootless(user, env, lockfile.load(lock_path), out, done, strays)


def test_build_sh_enters_buildahs_user_namespace_when_not_root(rootless: Rootless) -> None:
    script = (rootless.out / "build.sh").read_text()
    assert "exec buildah unshare -- unshare --net --" in script
    assert "/root" not in script


def test_compile_ran_offline_on_the_pinned_sources(rootless: Rootless) -> None:
    got = rootless.sh(
        'c=$(buildah from --pull-never "$1"); m=$(buildah mount "$c")\n'
        'for f in network core.commit TRITON_VERSION pinnedpkg; do\n'
        '  printf "%s=%s\\n" "$f" "$(cat "$m$2/$f")"; done\n'
        'buildah rm "$c" >/dev/null',
        TAG,
        INSTALL,
    )  # fmt: skip
    files = dict(line.split("=", 1) for line in got.splitlines())
    core = next(p for p in rootless.lock.git if p.name == "core")
    assert files == {
        "network": "offline",
        "core.commit": core.commit,
        "TRITON_VERSION": "2.57.0",
        "pinnedpkg": "24.1",
    }


def test_no_secret_in_any_layer_config_or_history(rootless: Rootless) -> None:
    archive = rootless.user.work / "image.tar"
    rootless.sh('buildah push "$1" "oci-archive:$2"', TAG, str(archive))
    assert_archive_free_of(archive, TOKENS)
    inspect = rootless.sh('buildah inspect "$1"', TAG)
    assert not any(t.decode() in inspect for t in TOKENS)
    assert not any(t.decode() in rootless.build.stdout + rootless.build.stderr for t in TOKENS)


def test_the_user_wrote_nothing_outside_its_own_directories(rootless: Rootless) -> None:
    known = rootless.user.runtime_leftovers
    assert {p for p in rootless.strays if not any(p.is_relative_to(k) for k in known)} == set()
