"""`tritonlock mirror push` without servers: where each part of a bundle goes, the bundle
checked first, and one-line errors."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.test_vendor import FakeSources, small_lock
from tritonlock import lockfile
from tritonlock.cli import main
from tritonlock.errors import ResolveError, UsageError
from tritonlock.model import Commit, GitPin
from tritonlock.util.store import sha256_file
from tritonlock.vendor import manifest
from tritonlock.vendor.gitbundle import make_bundle
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


def _git(repo: Path, *args: str) -> str:
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    done = subprocess.run(
        ["git", "-C", str(repo), *env, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def git_bundle(tmp_path: Path, extra: dict[str, str] | None = None) -> tuple[Path, str, str]:
    """A bundle folder whose lock pins branch ``main`` of https://h.example/o at the second
    of two commits, and whose bundle is made by `vendor`'s own code (``extra``: more refs,
    name → "first" or "second"); the folder, the first and the second commit."""
    repo = tmp_path / "src"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    first = _git(repo, "rev-parse", "HEAD")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "two")
    second = _git(repo, "rev-parse", "HEAD")
    lock = lockfile.seal(
        replace(
            small_lock(),
            git=(GitPin(name="o", url="https://h.example/o", ref="main", commit=Commit(second)),),
        )
    )
    folder = tmp_path / "b"
    (folder / "git" / "h.example").mkdir(parents=True)
    (folder / "triton.lock").write_text(lockfile.dumps(lock))
    bundle_file = folder / "git" / "h.example" / "o.bundle"
    refs = {"refs/heads/main": second}
    refs |= {k: {"first": first, "second": second}[v] for k, v in (extra or {}).items()}
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    make_bundle(str(repo), [second], bundle_file, refs=refs, scratch=scratch, timeout=60)
    entries = []
    for rel, kind in (("git/h.example/o.bundle", "git"), ("triton.lock", "lock")):
        sha, size = sha256_file(folder / rel)
        entries.append(manifest.Entry(path=rel, sha256=sha, size=size, kind=kind, what="o"))
    found = manifest.Manifest(
        content_hash=lock.content_hash or "", release="r", target="t", files=tuple(entries)
    )
    (folder / "manifest.json").write_text(found.dumps())
    return folder, first, second


def test_git_bundles_become_bare_repositories_with_the_pins_and_the_locks_branch(
    tmp_path: Path,
) -> None:
    folder, first, second = git_bundle(tmp_path)
    site = tmp_path / "site" / "h.example" / "o.git"
    subprocess.run(["git", "init", "-q", "--bare", str(site)], check=True)
    src = str(tmp_path / "src")
    _git(site, "fetch", "-q", src, f"+{first}:refs/heads/main")  # the site's older main
    said: list[str] = []
    push(folder, manifest.read(folder), Targets(git=tmp_path / "site"), said.append)
    assert f"moved refs/heads/main of {site} from {first} to the pin {second}" in "\n".join(said)
    said.clear()
    push(folder, manifest.read(folder), Targets(git=tmp_path / "site"), said.append)
    assert not any("moved" in line for line in said)  # again: nothing moves
    assert said == [f"git o: loaded into {site} (pinned commits and refs/heads/main)"]
    refs = _git(site, "for-each-ref", "--format=%(refname) %(objectname)")
    assert refs.splitlines() == [
        f"refs/heads/main {second}",
        f"refs/tritonlock/pin/{second} {second}",
    ]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"refs/heads/other": "second"}, "holds refs/heads/other, which the lock names no ref for"),
        ({"refs/tags/main": "second"}, "holds refs/heads/main and refs/tags/main for the one ref"),
    ],
)
def test_a_bundle_with_a_ref_the_lock_does_not_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: dict[str, str], problem: str
) -> None:
    folder, _, _ = git_bundle(tmp_path, extra)
    code = main(["mirror", "push", str(folder), "--git", str(tmp_path / "site")])
    err = capsys.readouterr().err
    assert code != 0 and problem in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "site" / "h.example" / "o.git").exists()


def test_index_is_a_static_pep_691_index_with_the_upload_times_the_source_gave(
    tmp_path: Path,
) -> None:
    from tests.unit.test_vendor import UPLOADED, WHEEL_BYTES
    from tritonlock.resolve.cutoff import uploaded_before
    from tritonlock.sources.pyindex import parse_json

    folder, found = bundle(tmp_path)
    site = tmp_path / "index"
    other = site / "simple" / "gamma" / "index.json"  # another bundle's project stays listed
    other.parent.mkdir(parents=True)
    other.write_text('{"meta": {"api-version": "1.1"}, "name": "gamma", "files": []}')
    said: list[str] = []
    done = push(folder, found, Targets(index=site), said.append)
    assert done == {"index files": 2, "index projects": 2}
    root = json.loads((site / "simple" / "index.json").read_text())
    assert root["projects"] == [{"name": n} for n in ("alpha", "beta", "gamma")]
    page_url = "http://site.example/simple/alpha/"
    page = json.loads((site / "simple" / "alpha" / "index.json").read_text())
    assert page["meta"] == {"api-version": "1.1"} and page["name"] == "alpha"
    (alpha,) = parse_json(page_url, page) or []
    name = "alpha-1.0-py3-none-any.whl"
    assert alpha.url == f"http://site.example/files/{name}"
    assert (alpha.upload_time, alpha.size) == (UPLOADED[name], len(WHEEL_BYTES[name]))
    assert f"sha256:{alpha.sha256}" == sha256_file(site / "files" / name)[0]
    assert uploaded_before([alpha], "2025-02-20T18:02:12Z") == [alpha]
    assert uploaded_before([alpha], "2025-02-20T18:02:11Z") == []  # the cutoff as uv's
    beta = json.loads((site / "simple" / "beta" / "index.json").read_text())["files"]
    assert "upload-time" not in beta[0]  # its index gave none: it stays undated
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    said.clear()
    push(folder, found, Targets(index=site), said.append)
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert all("already at" in line for line in said)


def test_an_index_page_that_is_not_one_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = bundle(tmp_path)
    page = tmp_path / "index" / "simple" / "alpha" / "index.json"
    page.parent.mkdir(parents=True)
    page.write_text("<html>")
    code = main(["mirror", "push", str(folder), "--index", str(tmp_path / "index"), "-q"])
    err = capsys.readouterr().err
    assert code != 0 and f"{page}: not a PEP 691 project page" in err
    assert len(err.strip().splitlines()) == 1 and page.read_text() == "<html>"


def test_vendor_carries_the_branch_or_tag_upstream_has_of_each_ref_at_its_pin(
    tmp_path: Path,
) -> None:
    """Against a real repository: a name that is both a branch and a tag travels as the
    branch (as `resolve` picks it), a branch upstream moved on since the lock travels at
    the pin, a tag as a tag, and a ref upstream no longer has does not travel (said)."""
    from tritonlock.vendor.layout import GitItem
    from tritonlock.vendor.live import LiveSources, VendorOptions

    repo = tmp_path / "src"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    first = _git(repo, "rev-parse", "HEAD")
    _git(repo, "tag", "-a", "-m", "v1", "v1", first)
    _git(repo, "tag", "both", first)
    _git(repo, "branch", "both", first)
    _git(repo, "branch", "moving", first)
    _git(repo, "commit", "-q", "--allow-empty", "-m", "two")
    _git(repo, "branch", "-f", "moving", "HEAD")  # upstream moved on since the lock
    refs = (("v1", first), ("both", first), ("moving", first), ("gone", first))
    item = GitItem(path="git/h/o.bundle", url=str(repo), commits=(first,), refs=refs)
    dest = tmp_path / "o.bundle"
    (tmp_path / "scratch").mkdir()
    with LiveSources(VendorOptions(), {}) as src:
        notes = src.git_bundle(item, dest, tmp_path / "scratch")
    assert notes == (
        "ref 'gone' is no branch or tag there now: it does not travel (`resolve` inside a "
        "site loaded from this bundle may not find it)",
    )
    from tritonlock.vendor.gitbundle import heads, holds

    assert heads(dest, timeout=60) == {
        f"refs/tritonlock/pin/{first}": first,
        "refs/tags/v1": first,  # a plain tag at the commit: ls-remote peels to the same
        "refs/heads/both": first,
        "refs/heads/moving": first,
    }
    assert holds(dest, [first], refs, timeout=60)
    assert not holds(dest, [first], refs[1:], timeout=60)  # v1: a ref the lock does not name
