"""A TCP proxy on 127.0.0.1 that delays every byte by half a round trip each way, like a
user far from the server (``rtt_ms=50``: 25 ms there, 25 ms back). Bandwidth is not
limited: each chunk is forwarded ``rtt/2`` after it arrived, in order."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator


class DelayProxy:
    """Listens on a free port; each connection is forwarded to ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int], rtt_ms: float) -> None:
        self.upstream = upstream
        self.delay = rtt_ms / 2000.0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        time.sleep(self.delay * 2)  # the TCP handshake's round trip
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        for src, dst in ((client, server), (server, client)):
            self._pipe(src, dst)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def read() -> None:
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                chunks.put((time.monotonic() + self.delay, data))
                if not data:
                    return

        def write() -> None:
            while True:
                due, data = chunks.get()
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if not data:
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)
                    return
                try:
                    dst.sendall(data)
                except OSError:
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


@contextlib.contextmanager
def delayed(upstream: tuple[str, int], rtt_ms: float) -> Iterator[DelayProxy]:
    proxy = DelayProxy(upstream, rtt_ms)
    try:
        yield proxy
    finally:
        proxy.close()
