"""Benchmark: push latency commit → socket, and the memory of one daphne process holding 1,000 sockets.

Run with `make bench` (pytest -s tests/bench). Figures are printed, never asserted.

Everything runs in real processes on 127.0.0.1: two daphne servers (the project's
`officeapp.asgi:application`, and a bare channels consumer that only joins a group and forwards
what it gets), one driver process, and `websockets` clients in this process. The servers and the
driver share a throw-away SQLite file (migrated here) and the configured channel layer.

1. Latency (needs REDIS_URL: the Redis layer is what crosses processes in production; skipped
   otherwise). The driver alternates, message by message, `notify()` to one user (its own
   on_commit hook, registered first, stamps the commit time) and a bare `group_send` to the bare
   consumer's group (stamped just before the call). Both are sent from the same synchronous process,
   as the worker would, each through one kept event loop and Redis connection. The clients stamp
   arrival; CLOCK_MONOTONIC is shared by all processes of the host. Medians and p99 of both paths
   and their ratio (target ≤ 1.5×).
2. Memory: RSS of the officeapp daphne process with one socket open, then with 1,000 authenticated
   sockets (1,000 users, each its own session), on whichever layer the settings choose.

This file is also the driver and the bare server: `python tests/bench/test_push_bench.py <command>`.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DAPHNE = str(Path(sys.executable).with_name("daphne"))
ORIGIN = "http://127.0.0.1:8000"
MESSAGES = int(os.environ.get("PUSH_BENCH_MESSAGES", "500"))
INTERVAL = float(os.environ.get("PUSH_BENCH_INTERVAL", "0.01"))
SOCKETS = int(os.environ.get("PUSH_BENCH_SOCKETS", "1000"))
BARE_GROUP = "bench.bare"


# --- the bare server (imported by daphne as tests.bench.test_push_bench:bare_application) ---------
def _bare_application() -> Any:
    from channels.generic.websocket import AsyncJsonWebsocketConsumer

    class BareConsumer(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            await self.channel_layer.group_add(BARE_GROUP, self.channel_name)
            await self.accept()

        async def disconnect(self, code: int) -> None:
            await self.channel_layer.group_discard(BARE_GROUP, self.channel_name)

        async def bare_message(self, event: dict[str, Any]) -> None:
            await self.send_json(event)

    return BareConsumer.as_asgi()


if os.environ.get("PUSH_BENCH_ROLE") == "bare-server":
    bare_application = _bare_application()


# --- commands run in subprocesses ---------------------------------------------------------------
def _command_setup(users: int) -> None:
    """Create `users` users with one session each; print [[user id, session key], ...]."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.utils.module_loading import import_string

    from officeapp.org.models import User

    store_class = import_string(settings.SESSION_ENGINE + ".SessionStore")
    password = make_password(None)
    User.objects.bulk_create(
        [User(username=f"bench{i:05d}", real_name=f"压测{i}", password=password) for i in range(users)],
        batch_size=500,
    )
    result = []
    for user in User.objects.filter(username__startswith="bench").order_by("id"):
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "officeapp.accounts.backends.LockoutAwareBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        result.append([user.pk, store.session_key])
    sys.stdout.write(json.dumps(result))


def _stamp(into: list[float]) -> None:
    into.append(time.monotonic())


def _command_drive(user_id: int, messages: int, interval: float) -> None:
    """Alternate notify() and a bare group_send; print {"notify": {id: t}, "bare": {seq: t}}."""
    import django

    django.setup()
    from channels.layers import get_channel_layer
    from django.db import transaction

    from officeapp.notify.services import notify
    from officeapp.org.models import User

    user = User.objects.get(pk=user_id)
    layer = get_channel_layer()
    # The bare baseline gets the same advantage notify() has (officeapp.notify.push): one event loop,
    # one kept connection, rather than a loop and a connection per async_to_sync call.
    bare_loop = asyncio.new_event_loop()
    threading.Thread(target=bare_loop.run_forever, daemon=True).start()
    stamps: dict[str, dict[int, float]] = {"notify": {}, "bare": {}}
    for seq in range(messages):
        commit: list[float] = []
        with transaction.atomic():
            transaction.on_commit(partial(_stamp, commit))
            (row,) = notify([user], kind="bench.push", title=f"压测 {seq}")
        stamps["notify"][row.pk] = commit[0]
        time.sleep(interval)
        stamps["bare"][seq] = time.monotonic()
        asyncio.run_coroutine_threadsafe(
            layer.group_send(BARE_GROUP, {"type": "bare.message", "id": seq}), bare_loop
        ).result(timeout=5)
        time.sleep(interval)
    sys.stdout.write(json.dumps(stamps))


# --- the benchmark ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


@pytest.fixture(scope="module")
def bench_env() -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="push-bench-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "officeapp.settings",
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "DATA_DIR": tmp,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "WEBSOCKET_ALLOWED_ORIGINS": ORIGIN,
            "TESTING": "1",
            "LOG_LEVEL": "ERROR",
        }
        _run(env, "manage.py", "migrate", "--noinput", "-v", "0")
        _run(env, "manage.py", "createcachetable")
        yield env


@pytest.fixture(scope="module")
def sessions(bench_env: dict[str, str]) -> list[list[Any]]:
    return json.loads(_run(bench_env, __file__, "setup", str(SOCKETS)))


@contextmanager
def daphne(env: dict[str, str], application: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = _free_port()
    process = subprocess.Popen(
        # A generous handshake timeout: 1,000 sockets opening at once queue on the database thread,
        # and on a busy machine daphne's default 5 s would drop some before they are accepted.
        [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "--websocket_connect_timeout", "120", application],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"daphne did not start: {application}")
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def _connect(port: int, session_key: str) -> Any:
    from websockets.asyncio.client import connect

    return await connect(
        f"ws://127.0.0.1:{port}/ws/",
        origin=ORIGIN,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={session_key}"},
        open_timeout=30,
        max_queue=None,
    )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_push_latency_commit_to_socket_against_bare_group_send(
    bench_env: dict[str, str], sessions: list[list[Any]]
) -> None:
    if not os.environ.get("REDIS_URL"):
        why = "push latency is measured on the Redis layer: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)"
        pytest.skip(reason=why)
    user_id, session_key = sessions[0]
    bare_env = {**bench_env, "PUSH_BENCH_ROLE": "bare-server"}
    with (
        daphne(bench_env, "officeapp.asgi:application") as (app_port, _),
        daphne(bare_env, "tests.bench.test_push_bench:bare_application") as (bare_port, _),
    ):

        async def measure() -> tuple[dict[str, Any], dict[int, float], dict[int, float]]:
            app_socket = await _connect(app_port, session_key)
            bare_socket = await _connect(bare_port, session_key)
            arrived: dict[str, dict[int, float]] = {"notify": {}, "bare": {}}

            async def read(ws: Any, path: str) -> None:
                async for text in ws:
                    now = time.monotonic()
                    frame = json.loads(text)
                    if path == "bare" or frame.get("type") == "notification":
                        arrived[path][int(frame["id"])] = now

            readers = [
                asyncio.create_task(read(app_socket, "notify")),
                asyncio.create_task(read(bare_socket, "bare")),
            ]
            driver = await asyncio.create_subprocess_exec(
                PYTHON, __file__, "drive", str(user_id), str(MESSAGES), str(INTERVAL),
                cwd=ROOT, env=bench_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(driver.communicate(), timeout=MESSAGES * INTERVAL * 2 + 120)
            if driver.returncode:
                raise RuntimeError(err.decode()[-3000:])
            await asyncio.sleep(1.0)  # the last frames
            for task in readers:
                task.cancel()
            await app_socket.close()
            await bare_socket.close()
            stamps = json.loads(out)
            return stamps, arrived["notify"], arrived["bare"]

        stamps, got_notify, got_bare = asyncio.run(measure())

    notify_ms = [(got_notify[int(k)] - t) * 1000 for k, t in stamps["notify"].items() if int(k) in got_notify]
    bare_ms = [(got_bare[int(k)] - t) * 1000 for k, t in stamps["bare"].items() if int(k) in got_bare]
    lost_notify = len(stamps["notify"]) - len(notify_ms)
    lost_bare = len(stamps["bare"]) - len(bare_ms)
    p50_n, p50_b = statistics.median(notify_ms), statistics.median(bare_ms)
    p99_n, p99_b = _pct(notify_ms, 0.99), _pct(bare_ms, 0.99)
    print()
    print(f"push latency, Redis layer, {MESSAGES} messages per path, interleaved (ms)")
    print(f"{'path':<34}{'p50':>8}{'p99':>8}{'lost':>6}")
    print(f"{'bare group_send → bare consumer':<34}{p50_b:>8.2f}{p99_b:>8.2f}{lost_bare:>6}")
    print(f"{'notify() commit → /ws/ socket':<34}{p50_n:>8.2f}{p99_n:>8.2f}{lost_notify:>6}")
    print(f"{'ratio notify / bare':<34}{p50_n / p50_b:>8.2f}{p99_n / p99_b:>8.2f}   (target ≤ 1.5)")


def test_memory_of_one_daphne_process_with_1000_open_sockets(
    bench_env: dict[str, str], sessions: list[list[Any]]
) -> None:
    layer = "Redis" if os.environ.get("REDIS_URL") else "in-memory"
    with daphne(bench_env, "officeapp.asgi:application") as (port, process):

        async def hold() -> tuple[int, int, int, float]:
            first = await _connect(port, sessions[0][1])
            await first.send(json.dumps({"type": "hello", "last_notification_id": None}))
            await asyncio.wait_for(first.recv(), timeout=30)
            await asyncio.sleep(0.5)
            baseline = _rss_kib(process.pid)
            gate = asyncio.Semaphore(20)
            sockets = [first]

            async def open_one(session_key: str) -> None:
                async with gate:
                    ws = await _connect(port, session_key)
                    await ws.send(json.dumps({"type": "hello", "last_notification_id": None}))
                    await asyncio.wait_for(ws.recv(), timeout=60)  # authenticated and joined
                    sockets.append(ws)

            started = time.monotonic()
            await asyncio.gather(*(open_one(key) for _, key in sessions[1:SOCKETS]))
            elapsed = time.monotonic() - started
            await asyncio.sleep(1.0)
            loaded = _rss_kib(process.pid)
            for ws in sockets:
                await ws.close()
            return baseline, loaded, len(sockets), elapsed

        baseline, loaded, count, elapsed = asyncio.run(hold())
    print()
    print(f"daphne RSS with open authenticated sockets ({layer} layer)")
    print(f"{'sockets':<12}{'RSS MiB':>10}")
    print(f"{1:<12}{baseline / 1024:>10.1f}")
    print(f"{count:<12}{loaded / 1024:>10.1f}")
    print(
        f"per socket: {(loaded - baseline) / max(count - 1, 1):.1f} KiB; opened {count - 1} in {elapsed:.1f} s"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "officeapp.settings")
    command = sys.argv[1]
    if command == "setup":
        _command_setup(int(sys.argv[2]))
    elif command == "drive":
        _command_drive(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit(f"unknown command {command}")
