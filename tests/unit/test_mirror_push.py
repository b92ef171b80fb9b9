"""`tritonlock mirror push` without servers: where each part of a bundle goes, the bundle
checked first, and one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.unit.test_vendor import FakeSources, small_lock
from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.errors import ResolveError, UsageError
from tritonlock.util.store import sha256_file
from tritonlock.vendor import manifest
from tritonlock.vendor.run import vendor
from tritonlock.vendor.site import Targets, check_targets, push, url_path


def test_downloads_land_at_their_urls_host_and_path() -> None:
    assert url_path("https://h.example:8443/a/b-1.tgz?x=1") == "h.example:8443/a/b-1.tgz"
    for bad in ("https://h.example/a/../../etc/passwd", "file:///etc/passwd", "https://h/a//b"):
        with pytest.raises(ResolveError, match="no plain host and path"):
            url_path(bad)


def test_targets_are_checked_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="at least one of --git"):
        check_targets(Targets())
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match=r"--wheels .*file: exists and is not a folder"):
        check_targets(Targets(wheels=tmp_path / "file"))


def bundle(tmp_path: Path) -> tuple[Path, manifest.Manifest]:
    lock = small_lock()
    data = lockfile.dumps(lock).encode()
    result = vendor(lock, data, tmp_path / "b", FakeSources(), images=False)
    return tmp_path / "b", result.manifest


def test_wheels_and_downloads_are_copied_once_with_their_bytes(tmp_path: Path) -> None:
    folder, found = bundle(tmp_path)
    to = Targets(wheels=tmp_path / "pypi", files=tmp_path / "www")
    said: list[str] = []
    assert push(folder, found, to, said.append) == {"wheels": 2, "downloads": 1}
    url = next(e for e in found.files if e.kind == "url")
    site = tmp_path / "www" / url_path(url.what)
    assert sha256_file(site) == (url.sha256, url.size)
    assert sorted(p.name for p in (tmp_path / "pypi").iterdir()) == [
        "alpha-1.0-py3-none-any.whl",
        "beta-2.0-py3-none-any.whl",
    ]
    said.clear()
    push(folder, found, to, said.append)
    assert all("already at" in line for line in said) and len(said) == 3


def test_a_changed_bundle_is_refused_and_nothing_is_pushed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, found = bundle(tmp_path)
    wheel = next(e for e in found.files if e.kind == "wheel")
    (folder / wheel.path).write_bytes(b"changed")
    code = main(["mirror", "push", str(folder), "--wheels", str(tmp_path / "pypi")])
    err = capsys.readouterr().err
    assert code == 1 and "nothing pushed" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "pypi").exists()
    assert main(["mirror", "push", str(folder)]) == 2
    assert "at least one of --git" in capsys.readouterr().err


def test_git_bundles_become_bare_repositories_with_every_pinned_commit(tmp_path: Path) -> None:
    repo = tmp_path / "src"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "-C", str(repo), *env, "commit", "-q", "--allow-empty", "-m", "x"])
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    pin = f"refs/tritonlock/pin/{commit}"
    subprocess.run(["git", "-C", str(repo), "update-ref", pin, commit], check=True)
    (tmp_path / "b" / "git" / "h.example").mkdir(parents=True)
    bundle_file = tmp_path / "b" / "git" / "h.example" / "o.bundle"
    subprocess.run(["git", "-C", str(repo), "bundle", "create", "-q", str(bundle_file), pin])
    sha, size = sha256_file(bundle_file)
    entry = manifest.Entry(
        path="git/h.example/o.bundle", sha256=sha, size=size, kind="git", what="o"
    )
    found = manifest.Manifest(content_hash=sha, release="r", target="t", files=(entry,))
    for _ in range(2):  # again: already there, still one ref
        push(tmp_path / "b", found, Targets(git=tmp_path / "site"), lambda _: None)
    refs = subprocess.run(
        ["git", "-C", str(tmp_path / "site" / "h.example" / "o.git"), "for-each-ref"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert refs.split() == [commit, "commit", pin]
