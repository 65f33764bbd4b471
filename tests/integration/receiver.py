"""A local webhook receiver for the tests: an http.server in a thread on 127.0.0.1, port chosen by the OS.

Paths choose the answer (so one receiver serves many subscriptions):
  /ok/<name>            200
  /fail/<name>          500
  /flaky/<n>/<name>     500 for the first n requests to that path, then 200
  /slow/<seconds>/<name> sleeps, then 200 (past the sender's timeout: the sender gives up first)
`refused_url()` is an address where nothing listens (connection refused).

Every request is kept (path, headers, body, arrival time) and its signature checked against the
secret registered for its path with `expect_secret`, as a real receiver would.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from officeapp.integration.webhooks import verify_signature


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    signature_ok: bool | None  # None: no secret registered for the path


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.secrets: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items()}
                secret = receiver.secrets.get(self.path)
                ok = verify_signature(secret, self.headers, body) if secret is not None else None
                with receiver._lock:
                    receiver.received.append(Received(self.path, headers, body, time.monotonic(), ok))
                    count = receiver._counts[self.path] = receiver._counts.get(self.path, 0) + 1
                    receiver.arrived.notify_all()
                parts = self.path.strip("/").split("/")
                status = 200
                if parts[0] == "fail":
                    status = 500
                elif parts[0] == "flaky":
                    status = 500 if count <= int(parts[1]) else 200
                elif parts[0] == "slow":
                    time.sleep(float(parts[1]))
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (timeout)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def expect_secret(self, path: str, secret: str) -> None:
        self.secrets[path] = secret

    def to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int = 1, *, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len([r for r in self.received if r.path == path]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.arrived.wait(left)
            return [r for r in self.received if r.path == path]

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def refused_url() -> str:
    """A loopback address where nothing listens: the port was just bound and released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/refused"
