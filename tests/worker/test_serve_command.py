"""`manage.py serve` for real: daphne, the cluster and the ticker start, answer, and stop on a signal.

The served process gets its own SQLite database in a temporary DATA_DIR (the suite's test database
lives inside this process and cannot be shared); the embedded defaults are what `make run` uses.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
# Start-up is a few seconds on an idle machine; the bound leaves room for a loaded CI runner.
STARTUP_SECONDS = 60
STOP_SECONDS = 30


@pytest.fixture(scope="module")
def serve_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data_dir = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(data_dir), TESTING="1", PYTHONUNBUFFERED="1")
    for command in (["migrate", "--noinput", "-v", "0"], ["createcachetable"]):
        subprocess.run(
            [sys.executable, MANAGE, *command], env=env, check=True, timeout=180, capture_output=True
        )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def start_serve(serve_env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def _start(port: int) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"serve-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, MANAGE, "serve", "--port", str(port)],
                env=serve_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process, log

    yield _start
    for process in started:  # a failed assertion must not leave servers behind
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_for_http(url: str, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited during start-up"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
                return int(response.status)
        except urllib.error.HTTPError as error:  # 503 while a component warms up is still an answer
            return int(error.code)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {STARTUP_SECONDS} s")


def _heartbeats(data_dir: str) -> set[str]:
    with sqlite3.connect(Path(data_dir) / "officeapp.sqlite3", timeout=5) as db:
        return {row[0] for row in db.execute("SELECT name FROM worker_workerheartbeat")}


def test_serve_starts_server_worker_and_ticker_and_stops_cleanly_on_sigterm(
    serve_env: dict[str, str], start_serve: object
) -> None:
    port = _free_port()
    process, log = start_serve(port)  # type: ignore[operator]

    assert _wait_for_http(f"http://127.0.0.1:{port}/healthz", process) in (200, 503)
    deadline = time.monotonic() + STARTUP_SECONDS
    while _heartbeats(serve_env["DATA_DIR"]) != {"ticker", "queue"} and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _heartbeats(serve_env["DATA_DIR"]) == {
        "ticker",
        "queue",
    }  # the ticker ran and a worker took a task

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_SECONDS) == 0

    output = log.read_text()
    assert f"http://127.0.0.1:{port}/" in output and "已停止" in output
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):  # daphne is gone
        s.connect(("127.0.0.1", port))


def test_serve_exits_non_zero_when_a_child_dies(start_serve: object) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = int(blocker.getsockname()[1])
        process, log = start_serve(port)  # type: ignore[operator]  # daphne cannot bind: it dies

        code = process.wait(timeout=STARTUP_SECONDS + STOP_SECONDS)

    assert code != 0
    assert "子进程 daphne 意外退出" in log.read_text()
