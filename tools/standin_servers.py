"""The servers behind ``tools/standins.py``: a static file server and a local OCI registry
(Debian's ``docker-registry``) on 127.0.0.1, and the stand-in images pushed to it."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import tarfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

PLATFORMS = (("amd64", ""), ("arm64", "v8"))
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def image_blobs(ref: str) -> tuple[bytes, dict[str, tuple[bytes, bytes, bytes]]]:
    """A stand-in OCI index for ``ref`` and, per platform, its (manifest, config, layer)."""
    children: dict[str, tuple[bytes, bytes, bytes]] = {}
    entries = []
    for arch, variant in PLATFORMS:
        platform = "linux/" + arch + (f"/{variant}" if variant else "")
        layer, diff_id = _layer(f"tritonlock stand-in for {ref} ({platform})\n".encode())
        plat = {"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}
        config = _json({**plat, "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                        "config": {"Labels": {"org.tritonlock.standin": ref}}})  # fmt: skip
        manifest = _json({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": _descriptor(OCI_CONFIG, config),
            "layers": [_descriptor(OCI_LAYER, layer)],
        })  # fmt: skip
        children[platform] = (manifest, config, layer)
        entries.append({**_descriptor(OCI_MANIFEST, manifest), "platform": plat})
    return _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}), children


def _layer(content: bytes) -> tuple[bytes, str]:
    """A gzipped tar holding ``/STANDIN`` (fixed times: the same bytes on every run)."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("STANDIN")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    raw = tar_bytes.getvalue()
    return gzip.compress(raw, mtime=0), "sha256:" + hashlib.sha256(raw).hexdigest()


def _json(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def _descriptor(media_type: str, blob: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": digest(blob), "size": len(blob)}


def digest(blob: bytes) -> str:
    return "sha256:" + hashlib.sha256(blob).hexdigest()


class _Quiet(SimpleHTTPRequestHandler):
    """Files as raw bytes; no directory listings, no logging."""

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return "application/octet-stream"

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404)
        return None

    def log_message(self, format: str, *args: object) -> None:
        return None


class FileServer:
    """A static HTTP server on 127.0.0.1 for ``root``, in a thread of this process."""

    def __init__(self, root: Path) -> None:
        handler = partial(_Quiet, directory=str(root))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class LocalRegistry:
    """Debian's ``docker-registry`` on a free 127.0.0.1 port, storing under ``root``."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        conf = root / "config.yml"
        conf.write_text(
            "version: 0.1\nlog: {level: error}\n"
            f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}}}\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        self._proc = subprocess.Popen(
            ["docker-registry", "serve", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.address = f"127.0.0.1:{port}"
        self._http = httpx.Client(base_url=f"http://{self.address}", timeout=30)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self._proc.poll() is None:
            try:
                if self._http.get("/v2/").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("standins: docker-registry did not start")

    def push(self, repository: str, tag: str, ref: str) -> None:
        """The stand-in index of ``ref`` as ``repository:tag``, with its children."""
        index, children = image_blobs(ref)
        for manifest, config, layer in children.values():
            for blob in (config, layer):
                self._blob(repository, blob)
            self._manifest(repository, digest(manifest), manifest, OCI_MANIFEST)
        self._manifest(repository, tag, index, OCI_INDEX)

    def _blob(self, repository: str, blob: bytes) -> None:
        if self._http.head(f"/v2/{repository}/blobs/{digest(blob)}").status_code == 200:
            return
        start = self._http.post(f"/v2/{repository}/blobs/uploads/")
        start.raise_for_status()
        location = start.headers["location"]
        done = self._http.put(
            f"{location}{'&' if '?' in location else '?'}digest={digest(blob)}",
            content=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        done.raise_for_status()

    def _manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> None:
        done = self._http.put(
            f"/v2/{repository}/manifests/{reference}",
            content=body,
            headers={"Content-Type": media_type},
        )
        done.raise_for_status()

    def close(self) -> None:
        self._http.close()
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
