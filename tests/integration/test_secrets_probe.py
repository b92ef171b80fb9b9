"""The credential probe, end to end: the real ``tritonlock resolve``, ``verify --deep`` and
``build -o`` against the triton-shaped world, every source behind a secret (git mirrors in
the basic-auth area with a hostile password, the index behind a token path *and* basic
auth), and the secret grepped for in every output (stdout, stderr, ``--json``), the lock,
the emitted build files, tritonlock's caches, and the command line of every process that
ran (git and its remote helpers included) and the config of every repository git touched.
"""

from __future__ import annotations

import base64
import http.client
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.fixtures.gitserver import PROBE_USERS
from tests.fixtures.probe import Probe, probe
from tests.fixtures.world import ORG, World, run_cli
from tritonlock import lockfile

pytestmark = pytest.mark.integration

USER, PASSWORD = "probe", PROBE_USERS["probe"]  # S3C/R@ET:x
TOKEN = "Tok3nPathSegment42xyz"
SECRETS = ("S3C", "R@ET", TOKEN)
INPUTS = ("25.04", "--target", "x86_64", "--backend", "python")


def _userinfo() -> str:
    return f"{USER}:{quote(PASSWORD, safe='@:')}"  # the / percent-encoded, @ and : as they are


class _TokenIndex(ThreadingHTTPServer):
    """A private index: ``/TOKEN/…`` with basic auth, proxied to the world's pypiserver."""

    upstream: tuple[str, int]

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _TokenIndex

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="index"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not self.path.startswith(f"/{TOKEN}/"):
            self.send_error(404)
            return
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=30)
        conn.request("GET", self.path[len(TOKEN) + 1 :], headers={"Accept": "text/html"})
        resp = conn.getresponse()
        data = resp.read().replace(b'href="/', f'href="/{TOKEN}/'.encode())
        conn.close()
        self.send_response(resp.status)
        for key in ("Content-Type", "ETag", "Last-Modified"):
            if resp.getheader(key):
                self.send_header(key, resp.getheader(key, ""))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


@pytest.fixture(scope="module", name="index")
def index_fixture(world: World) -> Iterator[str]:
    """The world's index behind a token path and basic auth (hostile password)."""
    server = _TokenIndex(("127.0.0.1", 0), _Handler)
    up = urlsplit(world.pypi_url)
    server.upstream = (up.hostname or "127.0.0.1", up.port or 80)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{_userinfo()}@127.0.0.1:{server.server_address[1]}/{TOKEN}/simple/"
    finally:
        server.shutdown()
        server.server_close()


def _sources(world: World, index: str, cache: Path) -> list[str]:
    """The world's options, with git and the index behind the secrets."""
    args = world.cli_args(cache)
    auth = world.git.auth.replace("http://", f"http://{_userinfo()}@")
    args[args.index("--git-mirror") + 1] = f"{ORG}={auth}"
    args[args.index(f"https://github.com/grpc={world.git.git}/grpc")] = (
        f"https://github.com/grpc={auth}/grpc"
    )
    args[args.index("--index-url") + 1] = index
    return args


@dataclass
class Run:
    base: Path
    lock: Path
    outputs: list[str]
    spy: Probe


@pytest.fixture(scope="module", name="run")
def run_fixture(
    world: World, index: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    base = tmp_path_factory.mktemp("probe")
    lock, cache = base / "triton.lock", base / "cache"
    with probe(base / "spy", SECRETS) as spy:
        sources = _sources(world, index, cache)
        resolved = run_cli("resolve", *INPUTS, *sources, "-o", str(lock), "--json", cwd=base)
        assert resolved.returncode == 0, resolved.stderr[-3000:]
        mirrors = [a for i, a in enumerate(sources) if sources[i - 1] == "--git-mirror"]
        deep = [
            "verify", str(lock), "--deep", "--allow-http", "--index-url", f"pypi={index}",
            *(x for m in mirrors for x in ("--git-mirror", m)),
            *sources[sources.index("--registry-mirror") : sources.index("--index-url")],
            "--apt-archive", world.http,
            *(x for i, a in enumerate(sources) if a == "--url-mirror" for x in (a, sources[i + 1])),
        ]  # fmt: skip
        verified = run_cli(*deep, cwd=base)
        verified_json = run_cli(*deep, "--json", cwd=base)
        build = ["build", str(lock), "-o", str(base / "out")]
        built = run_cli(*build, *(x for m in mirrors for x in ("--git-mirror", m)), cwd=base)
        outputs = [p.stdout + p.stderr for p in (resolved, verified, verified_json, built)]
        yield Run(base, lock, outputs, spy)
        assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
        assert built.returncode == 0, built.stderr[-3000:]


def test_resolve_used_every_secret_source(run: Run, world: World) -> None:
    lock = lockfile.load(run.lock)
    assert [(i.name, i.url) for i in lock.index] == [("pypi", None)]  # by name only
    assert {w.name for w in lock.wheel} >= {"numpy", "virtualenv"}
    assert {g.name for g in lock.git} >= {"server", "core", "grpc"}
    assert run.spy.git_calls() > 10


def test_no_secret_in_any_output_file_command_line_or_config(run: Run) -> None:
    # tritonlock's own caches; uv's (cache/wheels/uv) records the index's file URLs, token
    # path segment and all, as uv does with any index: it is uv's, not an output
    wheels = [p for p in (run.base / "cache" / "wheels").iterdir() if p.name != "uv"]
    folders = [run.base / "out", run.base / "cache" / "git", *wheels]
    assert wheels
    assert run.spy.leaks(texts=[*run.outputs, run.lock.read_text()], folders=folders) == []


def test_the_build_takes_the_index_from_the_pip_conf_secret(run: Run) -> None:
    dockerfile = (run.base / "out" / "Dockerfile").read_text()
    assert "needs the pip-conf secret (index pypi)" in dockerfile
    assert "PIP_INDEX_URL" not in dockerfile
