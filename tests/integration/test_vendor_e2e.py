"""End-to-end air gap: resolve against the build world, ``tritonlock vendor`` (interrupted with
Ctrl-C, then resumed), then ``tritonlock build --vendor --run`` with buildah inside a new
network namespace whose only interface is loopback (down): no server of the world, nor any
other, can be reached. The image is checked against the lock as the online build's is.

Every HTTP fetch of ``vendor`` goes through fault proxies (index, registry, file server),
which count the requests: the resumed run fetches only what the interrupted one lacked.

One build, in the session's build world; what it adds to the world's store, the bundle and
its copies are removed when done (CI's disk is small).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from packaging.utils import canonicalize_name

from tests.fixtures.aptrepo import HttpServer
from tests.fixtures.buildworld import ORG, BuildWorld
from tests.fixtures.faultproxy import Fault, FaultProxy, fault_proxy
from tests.fixtures.gitserver import serve
from tests.fixtures.pyjson import serve_static
from tests.fixtures.pypi import serve_pypi
from tests.fixtures.registry import start_registry, stop
from tests.integration._image import Built, assert_built_from_the_lock, cli, resolve_lock
from tritonlock import lockfile
from tritonlock.model import Lock
from tritonlock.sources.registry import OCI_MANIFEST
from tritonlock.vendor import manifest

pytestmark = pytest.mark.integration

TAG = "tritonlock/tritonserver:25.04-cpu"
# A new network namespace: only `lo`, and down. Tests run as root in CI.
NO_NETWORK = ["unshare", "--net", "--"]


def tritonlock(*args: str) -> list[str]:
    return [sys.executable, "-m", "tritonlock", *args]


@dataclass
class Proxies:
    index: FaultProxy
    registry: FaultProxy
    files: FaultProxy

    def clear(self) -> None:
        for p in (self.index, self.registry, self.files):
            p.clear()


@dataclass
class Vendored:
    lock: Lock
    lock_path: Path
    bundle: Path
    interrupted: subprocess.CompletedProcess[str]
    left_after_interrupt: list[str]
    first_hits: dict[str, int]
    resumed: subprocess.CompletedProcess[str]
    resumed_hits: dict[str, int]
    slow_layer: str
    second: subprocess.CompletedProcess[str]  # into a new folder, with the same cache
    second_hits: dict[str, int]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _layers(world: BuildWorld, lock: Lock) -> list[str]:
    image = next(i for i in lock.image if i.role == "base")
    repo = image.name().split("/", 1)[1]
    resp = httpx.get(
        f"http://{world.registry}/v2/{repo}/manifests/{image.digest}",
        headers={"Accept": OCI_MANIFEST},
    )
    return [layer["digest"] for layer in resp.json()["layers"]]


def _hits(p: Proxies, lock: Lock) -> dict[str, int]:
    wheels = [f.name for w in lock.wheel for f in w.files]
    return {
        "index pages": p.index.hits("/simple/"),
        "wheel files": sum(p.index.hits(name) for name in wheels),
        "downloads": p.files.hits("/files/"),
        "manifests": p.registry.hits("/manifests/"),
        "blobs": p.registry.hits("/blobs/"),
    }


def _vendor_args(
    world: BuildWorld, lock: Lock, lock_path: Path, out: Path, p: Proxies
) -> list[str]:
    files = _origin(lock.url[0].url)
    return tritonlock(
        "vendor", str(lock_path), "-o", str(out),
        "--git-mirror", f"{ORG}={world.git.git}",
        "--index-url", f"{lock.index[0].name}={p.index.url}/simple/",
        "--registry-mirror", f"{world.registry}={p.registry.address}",
        "--insecure-registry", p.registry.address,
        "--url-mirror", f"{files}/={p.files.url}/",
        "--allow-http",
        "--cache-dir", str(out.parent / "vendor-cache"),  # not resolve's, not the machine's
    )  # fmt: skip


def _wait_for(paths: list[Path], proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.is_file() for p in paths):
        assert proc.poll() is None, "vendor ended before it could be interrupted"
        assert time.monotonic() < deadline, f"never landed: {[p for p in paths if not p.exists()]}"
        time.sleep(0.1)


@pytest.fixture(scope="module", name="vendored")
def vendored_fixture(
    build_world: BuildWorld, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Vendored]:
    base = tmp_path_factory.mktemp("vendor-e2e")
    lock_path = resolve_lock(build_world, base)
    lock = lockfile.load(lock_path)
    out = base / "bundle"
    with (
        fault_proxy(lock.index[0].url or "") as index,
        fault_proxy(f"http://{build_world.registry}") as registry,
        fault_proxy(_origin(lock.url[0].url)) as files,
    ):
        proxies = Proxies(index, registry, files)
        slow = _layers(build_world, lock)[-1]
        registry.add(Fault(path=slow, kind="slow", delay=300))
        proc = subprocess.Popen(
            _vendor_args(build_world, lock, lock_path, out, proxies),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        landed = [out / "wheels" / f.name for w in lock.wheel for f in w.files]
        landed += [out / "git" / "github.com" / "triton-inference-server" / f"{n}.bundle"
                   for n in ("server", "core", "subdep", "leaf")]  # fmt: skip
        _wait_for(landed, proc)
        time.sleep(0.5)  # the downloads and the image's small blobs land too
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        interrupted = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        left = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
        first = _hits(proxies, lock)
        proxies.clear()
        resumed = subprocess.run(
            _vendor_args(build_world, lock, lock_path, out, proxies),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        again = _hits(proxies, lock)
        proxies.clear()
        second = subprocess.run(
            [*_vendor_args(build_world, lock, lock_path, base / "second", proxies), "--json"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        second_hits = _hits(proxies, lock)
        shutil.rmtree(base / "second")
    yield Vendored(
        lock, lock_path, out, interrupted, left, first, resumed, again, slow, second, second_hits
    )
    shutil.rmtree(base)  # the bundle holds the base image: disk is tight in CI


def test_ctrl_c_exits_130_and_leaves_an_unfinished_bundle_without_partial_files(
    vendored: Vendored,
) -> None:
    done = vendored.interrupted
    assert done.returncode == 130, done.stderr[-2000:]
    assert "interrupted after writing" in done.stderr and "run the same" in done.stderr
    assert "manifest.json" not in vendored.left_after_interrupt
    assert not [p for p in vendored.left_after_interrupt if p.endswith(".part")]
    assert f"images/blobs/sha256/{vendored.slow_layer[7:]}" not in vendored.left_after_interrupt
    assert "Traceback" not in done.stderr


def test_the_resumed_run_fetches_only_what_the_interrupted_one_lacked(vendored: Vendored) -> None:
    done = vendored.resumed
    assert done.returncode == 0, done.stderr[-3000:]
    first, again = vendored.first_hits, vendored.resumed_hits
    n_wheels = sum(len(w.files) for w in vendored.lock.wheel)
    assert first["wheel files"] == n_wheels and first["downloads"] == len(vendored.lock.url)
    assert first["manifests"] >= 1 and first["blobs"] >= 2
    assert again == {"index pages": 0, "wheel files": 0, "downloads": 0, "manifests": 0, "blobs": 1}
    assert done.stderr.count(", already here") >= n_wheels + len(vendored.lock.url) + 4
    assert done.stderr.count("bundled") == 0  # every git bundle kept, by its recorded hash
    assert f"vendored {vendored.lock.content_hash} into " in done.stdout


def test_a_second_bundle_fetches_nothing_the_shared_cache_holds(vendored: Vendored) -> None:
    """Into a new folder, with the cache the first bundle filled: git bundles, wheels,
    downloads and the image come from the cache; the index is asked only for each
    project's page, for the wheels' upload times."""
    done = vendored.second
    assert done.returncode == 0, done.stderr[-3000:]
    projects = {(w.index, w.name) for w in vendored.lock.wheel}
    assert vendored.second_hits == {
        **dict.fromkeys(vendored.second_hits, 0),
        "index pages": len(projects),
    }
    summary = json.loads(done.stdout)
    kinds = ("git", "wheel", "url", "image")
    assert summary["from-cache"] == sum(summary["sizes"][k] for k in kinds)
    assert summary["sizes"]["git"] > 0 and summary["fetched"] == 0  # nothing made again
    assert summary["from-cache"] > 0


def test_the_bundle_checks_offline_and_each_part_is_what_its_tools_read(vendored: Vendored) -> None:
    args = tritonlock("vendor", "--check", str(vendored.bundle), str(vendored.lock_path))
    check = subprocess.run(
        [*NO_NETWORK, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith(f"OK {vendored.bundle}: {vendored.lock.content_hash}")
    for bundle in (vendored.bundle / "git").rglob("*.bundle"):
        empty = bundle.parent / f".{bundle.stem}-verify.git"
        subprocess.run(["git", "init", "-q", "--bare", str(empty)], check=True)
        try:
            verify = subprocess.run(
                ["git", "-C", str(empty), "bundle", "verify", str(bundle)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
        finally:
            shutil.rmtree(empty)
        assert verify.returncode == 0, verify.stderr
        assert "records a complete history" in verify.stdout + verify.stderr
    images = sorted(vendored.lock.image, key=lambda i: (i.role, i.ref))
    assert len(images) == 2  # the base image and the stand-in pytorch image
    for image in images:
        raw = subprocess.run(
            ["skopeo", "inspect", "--raw", f"oci:{vendored.bundle / 'images'}:{image.role}"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest
    index = json.loads((vendored.bundle / "images" / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [i.digest for i in images]


def test_a_site_loaded_by_mirror_push_serves_every_pin_to_verify_deep(
    vendored: Vendored, build_world: BuildWorld, tmp_path: Path
) -> None:
    """`mirror push` into a site's folders and registry; `verify --deep` with only the
    site's mirrors finds every pinned commit, wheel, download and image there (github.com
    cannot be reached: every commit comes from the site), and every ref too (they travel)."""
    site = tmp_path / "site"
    (tmp_path / "registry").mkdir()
    proc, registry = start_registry(tmp_path / "registry", "site")
    try:
        push = subprocess.run(
            tritonlock(
                "mirror", "push", str(vendored.bundle), "--git", str(site / "git"),
                "--wheels", str(site / "wheels"), "--files", str(site / "www"),
                "--registry", registry, "--insecure-registry", "-q",
            ),
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert push.returncode == 0, push.stderr
        lock = vendored.lock
        repos = {e.path for e in _manifest(vendored).files if e.kind == "git"}
        assert f"{len(repos)} git, " in push.stdout and ", 2 images" in push.stdout
        files = HttpServer(site / "www", tmp_path / "www.log")
        try:
            with (
                serve(site / "git", tmp_path / "gitstate") as git,
                serve_pypi(site / "wheels") as pypi,
            ):
                verify = subprocess.run(
                    tritonlock(
                        "verify", "--deep", str(vendored.lock_path),
                        "--git-mirror", f"https://github.com/={git.git}/github.com/",
                        "--index-url", f"{lock.index[0].name}={pypi}",
                        *_site_url_mirrors(lock, files.url), "--allow-http",
                        "--registry-mirror", f"{build_world.registry}={registry}",
                        "--insecure-registry", registry,
                    ),
                    capture_output=True, text=True, timeout=600, check=False,
                )  # fmt: skip
        finally:
            files.stop()
    finally:
        stop(proc)
        shutil.rmtree(tmp_path / "registry", ignore_errors=True)
        shutil.rmtree(site, ignore_errors=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "no longer has a branch or tag" not in verify.stdout + verify.stderr
    assert "GET /127.0.0.1:" in (tmp_path / "www.log").read_text()


def test_resolve_inside_a_site_loaded_by_mirror_push_writes_the_same_lock(
    vendored: Vendored, build_world: BuildWorld, tmp_path: Path
) -> None:
    """`mirror push` of the bundle (git with its refs, a static JSON index, downloads,
    images) into fresh site folders and a second registry, served by git daemon, lighttpd
    and docker-registry; then `resolve` with a fresh cache and only the site's mirrors in
    the way (github.com, the world's git daemon and file server are never named, the
    world's index URL and registry only as what the lock records: --url-mirror and
    --registry-mirror send every request to the site) writes the lock byte for byte."""
    site = tmp_path / "site"
    (tmp_path / "registry").mkdir()
    proc, registry = start_registry(tmp_path / "registry", "site")
    lock = vendored.lock
    try:
        push = subprocess.run(
            tritonlock(
                "mirror", "push", str(vendored.bundle), "--git", str(site / "git"),
                "--index", str(site / "index"), "--files", str(site / "www"),
                "--registry", registry, "--insecure-registry",
            ),
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert push.returncode == 0, push.stderr
        assert "refs/heads/r25.04" in push.stderr  # the branch the lock's ref names travelled
        with (
            serve(site / "git", tmp_path / "gitstate") as git,
            serve_static(site, tmp_path / "web") as web,
        ):
            resolved = cli(
                "resolve", "25.04", "--target", "cpu",
                "--image", f"base,{build_world.base_ref}",
                "--backend", "pytorch", "--image", f"pytorch,{build_world.pytorch_ref}",
                "--git-mirror", f"https://github.com/={git.git}/github.com/",
                "--registry-mirror", f"{build_world.registry}={registry}",
                "--insecure-registry", registry,
                "--index-url", build_world.pypi_url,
                "--url-mirror", f"{build_world.pypi_url}={web.url}/index/simple/",
                *_site_url_mirrors(lock, f"{web.url}/www"),
                "--exclude-newer", "now", "--allow-http",
                "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "site.lock"),
                cwd=tmp_path, env={},
            )  # fmt: skip
    finally:
        stop(proc)
        shutil.rmtree(tmp_path / "registry", ignore_errors=True)
        shutil.rmtree(site, ignore_errors=True)
    assert resolved.returncode == 0, resolved.stderr[-4000:]
    assert (tmp_path / "site.lock").read_bytes() == vendored.lock_path.read_bytes()
    asked = web.requests()
    for w in lock.wheel:
        assert f"GET /index/simple/{canonicalize_name(w.name)}/ HTTP/1.1" in asked
    assert any(line.startswith("GET /www/") for line in asked) == bool(lock.url)


def _site_url_mirrors(lock: Lock, site: str) -> list[str]:
    """``--url-mirror`` per host: `mirror push --files` keeps each download at its host/path."""
    out = []
    for origin in sorted({_origin(u.url) for u in lock.url}):
        out += ["--url-mirror", f"{origin}/={site}/{urlsplit(origin).netloc}/"]
    return out


def _manifest(vendored: Vendored) -> manifest.Manifest:
    return manifest.read(vendored.bundle)


@pytest.fixture(scope="module", name="built")
def built_fixture(
    build_world: BuildWorld, vendored: Vendored, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    base = tmp_path_factory.mktemp("vendor-build")
    before = set(build_world.images())
    args = ["build", str(vendored.lock_path), "--vendor", str(vendored.bundle), "-o"]
    args += [str(base / "out"), "--run", "--builder", "buildah"]
    done = subprocess.run(
        [*NO_NETWORK, *tritonlock(*args)],
        env={**os.environ, **build_world.env},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    (base / "build.log").write_text(done.stdout + done.stderr)
    try:
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        container = build_world.buildah("from", "--pull-never", TAG).strip()
        try:
            rootfs = Path(build_world.buildah("mount", container).strip())
            lock = vendored.lock
            out, archive = base / "out", base / "image.tar"  # no archive is made here
            yield Built(lock, vendored.lock_path, out, done, rootfs, archive, args, build_world.env)
        finally:
            build_world.buildah("rm", container)
    finally:  # the shared world's store keeps only what it had: the loaded base, stages go
        made = [i for i in build_world.images() if i not in before]
        if made:
            build_world.buildah("rmi", "--force", *made)


def test_the_namespace_reaches_no_server_of_the_world(build_world: BuildWorld) -> None:
    port = int(build_world.git.git.rsplit(":", 1)[1])
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)"
    inside = subprocess.run([*NO_NETWORK, sys.executable, "-c", probe], capture_output=True)
    assert inside.returncode != 0 and b"Network is unreachable" in inside.stderr
    outside = subprocess.run([sys.executable, "-c", probe], capture_output=True)
    assert outside.returncode == 0  # the server is up: only the namespace keeps it away


def test_a_build_with_no_network_at_all_is_built_from_the_lock(
    vendored: Vendored, built: Built
) -> None:
    assert_built_from_the_lock(built.rootfs, vendored.lock)
    log = built.build.stdout + built.build.stderr
    for w in (w for w in vendored.lock.wheel if w.step.startswith("final")):
        for f in w.files:
            assert f"Processing /tritonlock/vendor/wheels/{f.name}" in log
    assert "tritonlock-load" in log and "Trying to pull" not in log


def test_a_bundle_with_one_byte_changed_is_refused_before_the_build_starts(
    vendored: Vendored, build_world: BuildWorld, tmp_path: Path
) -> None:
    bad = tmp_path / "bundle"
    subprocess.run(["cp", "-al", str(vendored.bundle), str(bad)], check=True)
    target = next((bad / "downloads").rglob("*.tar.gz"))
    data = bytearray(target.read_bytes())
    target.unlink()  # a hard link: the good bundle keeps its bytes
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    before = sorted(build_world.images())
    out = tmp_path / "out"
    args = ["build", str(vendored.lock_path), "--vendor", str(bad), "-o", str(out), "--run"]
    done = subprocess.run(
        [*NO_NETWORK, *tritonlock(*args)],
        env={**os.environ, **build_world.env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    shutil.rmtree(bad)  # hard links: they would keep the image's blobs once the bundle goes
    assert done.returncode == 1, done.stderr
    assert f"{target}: sha256 is" in done.stderr and "nothing was written" in done.stderr
    assert "+ " not in done.stderr and not out.exists()
    assert sorted(build_world.images()) == before
