"""Benchmark: chat fan-out to a 300-member group over real websockets, against bare channels and a
raw `websockets` broadcast measured in the same run; catch-up of 1,000 missed messages; memory of
one daphne process per 1,000 open, subscribed sockets.

Run with `make bench` (pytest -s tests/bench); figures are printed, never asserted. Needs REDIS_URL
(the Redis layer is what production runs and what crosses processes); skipped otherwise.

Everything runs in real processes on 127.0.0.1, sharing a throw-away SQLite file (migrated here):
- servers: daphne with officeapp.asgi:application (one, then two processes: clients split between
  them); daphne with `bare_application` below (a bare channels consumer: every socket joins the
  group with its own channel, the driver does a plain group_send of the same frame); a raw
  `websockets` server (this file, `raw-server`) broadcasting the same text with websockets.broadcast;
- a driver process (this file, `drive`): chat = commit a message as chat.services does and
  chat.live.publish it in on_commit; bare = send_to_groups of the same frame. Both stamp
  time.monotonic() (shared by all processes of the host) into the frame just before publishing;
- 300 clients (the `websockets` library) in one asyncio loop in this process, one per member, each
  reading the stamp out of the text (a regex, not json.loads, so the clients stay cheap).

The chat servers run once per send path of the fan-out (CHAT_BENCH_SENDS, default "asgi,direct":
each socket's base_send, then pre-framed bytes handed to daphne's transport; D32), so the before and
after are measured in the same run; the servers' CPU time per delivery (µs) is printed with them.

Latency: RATE messages/s for SECONDS s (300 × that deliveries/s), p50/p99 over every delivery and
p99 of "the last member got it", median of RUNS runs. Sustained: BURST messages sent back to back,
messages/s = BURST / (last delivery − first send), median of RUNS runs.

This file is also the driver and the servers: `python tests/bench/test_chat_fanout_bench.py <cmd>`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.chat_clients import connect, daphne, free_port, stop, wait_for_port  # noqa: E402

PYTHON = sys.executable
MEMBERS = int(os.environ.get("CHAT_BENCH_MEMBERS", "300"))
SOCKETS = int(os.environ.get("CHAT_BENCH_SOCKETS", "1000"))
RATE = float(os.environ.get("CHAT_BENCH_RATE", "5"))  # messages/s: 300 × 5 = 1,500 deliveries/s
SECONDS = float(os.environ.get("CHAT_BENCH_SECONDS", "10"))
BURST = int(os.environ.get("CHAT_BENCH_BURST", "100"))
RUNS = int(os.environ.get("CHAT_BENCH_RUNS", "3"))
# The fan-out's send paths, each measured (officeapp.notify.fanout.SEND_PATH; "asgi" = base_send).
SENDS = os.environ.get("CHAT_BENCH_SENDS", "asgi,direct").split(",")
CATCHUP = 1000
BARE_GROUP = "bench.chat.bare"
STAMP = re.compile(r'"n":\s*(\d+),\s*"sent_at":\s*([0-9.]+)')


# --- the bare server (daphne tests.bench.test_chat_fanout_bench:bare_application) ----------------
def _bare_application() -> Any:
    from channels.generic.websocket import AsyncJsonWebsocketConsumer

    class BareConsumer(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            await self.channel_layer.group_add(BARE_GROUP, self.channel_name)
            await self.accept()

        async def disconnect(self, code: int) -> None:
            await self.channel_layer.group_discard(BARE_GROUP, self.channel_name)

        async def bare_message(self, event: dict[str, Any]) -> None:
            await self.send_json(event["frame"])

    return BareConsumer.as_asgi()


if os.environ.get("CHAT_BENCH_ROLE") == "chat-server":
    # The real application, with the fan-out's send path under measurement.
    from officeapp.asgi import application as chat_application  # noqa: F401  (django.setup())
    from officeapp.notify import fanout

    fanout.SEND_PATH = os.environ.get("CHAT_BENCH_SEND") or fanout.SEND_PATH

if os.environ.get("CHAT_BENCH_ROLE") == "bare-server":
    import django

    django.setup()
    bare_application = _bare_application()


# --- commands run in subprocesses ---------------------------------------------------------------
def _command_setup(users: int, members: int) -> None:
    """Users with a session each; the 300-member group, a group of all users (memory), a 1:1 chat
    holding CATCHUP messages. Prints the ids and session keys as JSON."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from chat.models import Conversation, ConversationKind, Membership, Message
    from officeapp.org.models import User
    from tests.bench.chat_clients import make_group, session_key_for

    password = make_password(None)
    User.objects.bulk_create(
        [User(username=f"chatbench{i:05d}", real_name=f"压测{i}", password=password) for i in range(users)],
        batch_size=500,
    )
    people = list(User.objects.filter(username__startswith="chatbench").order_by("id"))
    group = make_group(people[0], people[1:members], name="三百人群")
    everyone = make_group(people[0], people[1:], name="全体")
    direct = Conversation.objects.create(kind=ConversationKind.DIRECT, last_seq=CATCHUP)
    Membership.objects.bulk_create([Membership(conversation=direct, user=u) for u in people[:2]])
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(conversation=direct, seq=seq, sender=people[0], body=f"第{seq}条未读消息", created_at=now)
            for seq in range(1, CATCHUP + 1)
        ],
        batch_size=500,
    )
    sessions = [[user.pk, session_key_for(user)] for user in people]
    sys.stdout.write(
        json.dumps({"sessions": sessions, "group": group, "everyone": everyone, "direct": direct.pk})
    )


def _command_drive(
    mode: str, conversation_id: int, sender_id: int, first: int, count: int, interval: float
) -> None:
    """Send `count` frames numbered from `first`, one every `interval` s (0: back to back)."""
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from chat import live
    from chat.frames import message_frame
    from chat.models import Conversation, Message
    from officeapp.notify.push import send_to_groups
    from officeapp.org.models import User

    sender = User.objects.select_related("department__agency").get(pk=sender_id)
    started = time.monotonic()
    for k in range(count):
        n = first + k
        with transaction.atomic():
            conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
            conversation.last_seq += 1
            conversation.last_message_at = timezone.now()
            conversation.save(update_fields=["last_seq", "last_message_at"])
            message = Message.objects.create(
                conversation=conversation, seq=conversation.last_seq, sender=sender, body=f"压测消息 {n}"
            )
            message.sender = sender
            frame = {
                "type": "chat.message",
                "conversation": conversation_id,
                "message": message_frame(message),
            }

            def push(frame: dict[str, Any] = frame, n: int = n) -> None:
                frame["n"] = n
                frame["sent_at"] = time.monotonic()
                if mode == "chat":
                    live.publish(conversation_id, frame)
                else:
                    send_to_groups([(BARE_GROUP, {"type": "bare.message", "frame": frame})])

            transaction.on_commit(push)
        if interval:
            time.sleep(max(0.0, started + (k + 1) * interval - time.monotonic()))


def _command_raw_server(port: int) -> None:
    """A raw websockets server: every connection but the control one gets the broadcasts; the
    control connection sends {"first", "count", "interval", "frame"} to start a series."""
    from websockets.asyncio.server import broadcast, serve

    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        if ws.request.path == "/control":
            async for text in ws:
                order = json.loads(text)
                started = time.monotonic()
                for k in range(order["count"]):
                    frame = dict(order["frame"], n=order["first"] + k)
                    frame["sent_at"] = time.monotonic()
                    broadcast(clients, json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
                    await asyncio.sleep(max(0.0, started + (k + 1) * order["interval"] - time.monotonic()))
                await ws.send("done")
            return
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port, max_queue=None, ping_interval=None):
            await asyncio.Future()

    asyncio.run(main())


# --- the benchmark side -------------------------------------------------------------------------
def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# Skipped, with this reason, only where Redis is not configured.
NEEDS_REDIS = "chat fan-out is measured on the Redis layer: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)"


@pytest.fixture(scope="module")
def bench_env() -> Iterator[dict[str, str]]:
    if not os.environ.get("REDIS_URL"):
        pytest.skip(reason=NEEDS_REDIS)
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "officeapp.settings",
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "DATA_DIR": tmp,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "WEBSOCKET_ALLOWED_ORIGINS": "http://127.0.0.1:8000",
            "TESTING": "1",
            "LOG_LEVEL": "ERROR",
            "PYTHONPATH": str(ROOT),
        }
        _run(env, "manage.py", "migrate", "--noinput", "-v", "0")
        _run(env, "manage.py", "createcachetable")
        yield env


@pytest.fixture(scope="module")
def world(bench_env: dict[str, str]) -> dict[str, Any]:
    return json.loads(_run(bench_env, __file__, "setup", str(max(SOCKETS, MEMBERS)), str(MEMBERS)))


class Receivers:
    """The members' sockets and what arrived: n → [arrival − sent_at, …] (ms)."""

    def __init__(self) -> None:
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.latency: dict[int, list[float]] = {}
        self.last_arrival: dict[int, float] = {}
        self.sent_at: dict[int, float] = {}

    async def open(self, ports: list[int], keys: list[str], subscribe_to: int | None) -> None:
        gate = asyncio.Semaphore(25)

        async def one(i: int, key: str) -> None:
            async with gate:
                ws = await connect(ports[i % len(ports)], key)
                if subscribe_to is not None:
                    await ws.send(
                        json.dumps({"type": "chat.subscribe", "conversations": {str(subscribe_to): 10**9}})
                    )
                    while json.loads(await asyncio.wait_for(ws.recv(), 120)).get("type") != "chat.catchup":
                        pass
                self.sockets.append(ws)

        await asyncio.gather(*(one(i, key) for i, key in enumerate(keys)))
        self.tasks = [asyncio.create_task(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws: Any) -> None:
        async for text in ws:
            now = time.monotonic()
            found = STAMP.search(text)
            if found:
                n, sent_at = int(found.group(1)), float(found.group(2))
                self.latency.setdefault(n, []).append((now - sent_at) * 1000)
                self.sent_at[n] = sent_at
                self.last_arrival[n] = max(now, self.last_arrival.get(n, 0.0))

    async def settle(self, numbers: range, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        expected = len(self.sockets)
        while time.monotonic() < deadline:
            if all(len(self.latency.get(n, ())) >= expected for n in numbers):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)

    def figures(self, numbers: range) -> dict[str, float]:
        every = [ms for n in numbers for ms in self.latency.get(n, ())]
        last = [max(self.latency[n]) for n in numbers if n in self.latency]
        got = len(every)
        expected = len(numbers) * len(self.sockets)
        span = max(self.last_arrival[n] for n in numbers if n in self.last_arrival) - min(
            self.sent_at[n] for n in numbers if n in self.sent_at
        )
        return {
            "p50": statistics.median(every),
            "p99": _pct(every, 0.99),
            "last_p99": _pct(last, 0.99),
            "lost": float(expected - got),
            "msg_per_s": len(numbers) / span if span > 0 else 0.0,
        }

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


class Series:
    """Runs of RATE (latency) and BURST (throughput) series through one sending path."""

    def __init__(self, send: Any) -> None:
        self.send = send
        self.next_n = 1

    async def run(self, receivers: Receivers, count: int, interval: float) -> dict[str, float]:
        numbers = range(self.next_n, self.next_n + count)
        self.next_n += count
        await self.send(numbers.start, count, interval)
        await receivers.settle(numbers)
        return receivers.figures(numbers)


def _drive_sender(env: dict[str, str], mode: str, conversation_id: int, sender_id: int) -> Any:
    async def send(first: int, count: int, interval: float) -> None:
        process = await asyncio.create_subprocess_exec(
            PYTHON, __file__, "drive", mode, str(conversation_id), str(sender_id), str(first), str(count),
            str(interval), cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await process.communicate()
        if process.returncode:
            raise RuntimeError(err.decode()[-3000:])

    return send


def _raw_sender(control: Any, frame: dict[str, Any]) -> Any:
    async def send(first: int, count: int, interval: float) -> None:
        await control.send(json.dumps({"first": first, "count": count, "interval": interval, "frame": frame}))
        assert await control.recv() == "done"

    return send


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) of the server processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


async def _measure(receivers: Receivers, series: Series, pids: list[int]) -> dict[str, dict[str, float]]:
    count = max(1, int(RATE * SECONDS))
    latency = []
    for _ in range(RUNS):
        cpu = _cpu_seconds(pids)
        figures = await series.run(receivers, count, 1 / RATE)
        # The servers' CPU per delivery (µs); includes the driver's publish being received.
        figures["cpu_us"] = (_cpu_seconds(pids) - cpu) * 1e6 / (count * len(receivers.sockets))
        latency.append(figures)
    burst = [await series.run(receivers, BURST, 0.0) for _ in range(RUNS)]
    return {
        "latency": {
            k: statistics.median(r[k] for r in latency) for k in ("p50", "p99", "last_p99", "lost", "cpu_us")
        },
        "burst": {k: statistics.median(r[k] for r in burst) for k in ("msg_per_s", "lost")},
    }


def test_chat_fanout_to_300_members_against_bare_channels_and_raw_broadcast(
    bench_env: dict[str, str], world: dict[str, Any]
) -> None:
    keys = [key for _, key in world["sessions"][:MEMBERS]]
    owner_id = world["sessions"][0][0]
    group = world["group"]
    results: dict[str, dict[str, dict[str, float]]] = {}
    sample_frame: dict[str, Any] = {}

    async def chat_run(processes: int, send: str) -> None:
        env = {**bench_env, "CHAT_BENCH_ROLE": "chat-server", "CHAT_BENCH_SEND": send}
        application = "tests.bench.test_chat_fanout_bench:chat_application"
        with ExitStack() as stack:
            servers = [stack.enter_context(daphne(env, application)) for _ in range(processes)]
            ports, pids = [port for port, _ in servers], [process.pid for _, process in servers]
            receivers = Receivers()
            await receivers.open(ports, keys, subscribe_to=group)
            series = Series(_drive_sender(bench_env, "chat", group, owner_id))
            results[f"chat hub, {processes} daphne, {send}"] = await _measure(receivers, series, pids)
            await receivers.close()

    async def bare_run() -> None:
        env = {**bench_env, "CHAT_BENCH_ROLE": "bare-server"}
        with daphne(env, "tests.bench.test_chat_fanout_bench:bare_application") as (port, process):
            receivers = Receivers()
            await receivers.open([port], keys, subscribe_to=None)
            series = Series(_drive_sender(bench_env, "bare", group, owner_id))
            results["bare channels group_send, 1 daphne"] = await _measure(receivers, series, [process.pid])
            await receivers.close()

    async def raw_run() -> None:
        from websockets.asyncio.client import connect as ws_connect

        port = free_port()
        process = subprocess.Popen([PYTHON, __file__, "raw-server", str(port)], cwd=ROOT, env=bench_env)
        try:
            wait_for_port(port, "raw websockets server")
            receivers = Receivers()
            await receivers.open([port], keys, subscribe_to=None)
            async with ws_connect(f"ws://127.0.0.1:{port}/control", max_queue=None) as control:
                series = Series(_raw_sender(control, sample_frame))
                results["raw websockets broadcast"] = await _measure(receivers, series, [process.pid])
            await receivers.close()
        finally:
            stop(process)

    sample_frame.update(json.loads(_run(bench_env, "-c", _SAMPLE_FRAME, str(group))))
    asyncio.run(bare_run())
    asyncio.run(raw_run())
    for send in SENDS:
        asyncio.run(chat_run(1, send))
        asyncio.run(chat_run(2, send))

    print()
    print(
        f"chat fan-out, Redis layer, {len(keys)} members each with a socket; latency at {RATE:g} msg/s "
        f"({RATE * len(keys):.0f} deliveries/s) for {SECONDS:g} s, burst of {BURST}; medians of {RUNS} runs"
    )
    print(
        f"{'path':<38}{'p50 ms':>9}{'p99 ms':>9}{'last p99':>10}{'lost':>6}{'CPU µs/deliv.':>15}"
        f"{'burst msg/s':>13}{'lost':>6}"
    )
    for name, figures in results.items():
        lat, burst = figures["latency"], figures["burst"]
        print(
            f"{name:<38}{lat['p50']:>9.1f}{lat['p99']:>9.1f}{lat['last_p99']:>10.1f}{lat['lost']:>6.0f}"
            f"{lat['cpu_us']:>15.1f}{burst['msg_per_s']:>13.1f}{burst['lost']:>6.0f}"
        )
    bare = results["bare channels group_send, 1 daphne"]["latency"]["p99"]
    raw = results["raw websockets broadcast"]["latency"]["p99"]
    for name in [name for name in results if name.startswith("chat hub")]:
        p99 = results[name]["latency"]["p99"]
        print(f"{name}: p99 / bare = {p99 / bare:.2f} (target ≤ 1), p99 / raw = {p99 / raw:.2f} (target ≤ 2)")


# Prints a real message frame of the group (built by chat.frames) for the raw server to broadcast.
_SAMPLE_FRAME = """
import json, sys, django
django.setup()
from chat.frames import message_frame
from chat.models import Message
m = Message.objects.filter(conversation_id=int(sys.argv[1])).select_related("sender").last()
if m is None:
    from chat.models import Conversation
    m = Message(conversation=Conversation.objects.get(pk=int(sys.argv[1])), seq=1, body="压测消息 0")
print(json.dumps({"type": "chat.message", "conversation": int(sys.argv[1]), "message": message_frame(m)}))
"""


def test_catch_up_of_1000_missed_messages(bench_env: dict[str, str], world: dict[str, Any]) -> None:
    key = world["sessions"][1][1]
    direct = world["direct"]
    with daphne(bench_env) as (port, _):

        async def catch_up() -> list[float]:
            ws = await connect(port, key)
            times = []
            for _ in range(max(RUNS, 5)):
                last, started = 0, time.monotonic()
                await ws.send(json.dumps({"type": "chat.subscribe", "conversations": {str(direct): 0}}))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if frame.get("type") != "chat.catchup":
                        continue
                    last = frame["last_seq"]
                    if not frame["more"]:
                        break
                    await ws.send(
                        json.dumps({"type": "chat.subscribe", "conversations": {str(direct): last}})
                    )
                assert last == CATCHUP
                times.append((time.monotonic() - started) * 1000)
            await ws.close()
            return times

        times = asyncio.run(catch_up())
    print()
    print(
        f"catch-up of {CATCHUP} missed messages (chat.subscribe → last frame, pages of 200), {len(times)} runs"
    )
    print(f"median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms")


def test_memory_of_one_daphne_process_per_1000_subscribed_sockets(
    bench_env: dict[str, str], world: dict[str, Any]
) -> None:
    keys = [key for _, key in world["sessions"][:SOCKETS]]
    everyone = world["everyone"]
    with daphne(bench_env) as (port, process):

        async def hold() -> tuple[int, int, int]:
            first = Receivers()
            await first.open([port], keys[:1], subscribe_to=everyone)
            await asyncio.sleep(0.5)
            baseline = _rss_kib(process.pid)
            rest = Receivers()
            await rest.open([port], keys[1:], subscribe_to=everyone)
            await asyncio.sleep(1.0)
            loaded = _rss_kib(process.pid)
            await first.close()
            await rest.close()
            return baseline, loaded, 1 + len(rest.sockets)

        baseline, loaded, count = asyncio.run(hold())
    print()
    print("daphne RSS, sockets open and subscribed to one conversation (Redis layer)")
    print(f"1 socket: {baseline / 1024:.1f} MiB; {count} sockets: {loaded / 1024:.1f} MiB")
    print(f"per 1,000 sockets: {(loaded - baseline) / max(count - 1, 1) * 1000 / 1024:.1f} MiB")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "officeapp.settings")
    command = sys.argv[1]
    if command == "setup":
        _command_setup(int(sys.argv[2]), int(sys.argv[3]))
    elif command == "drive":
        _command_drive(
            sys.argv[2],
            int(sys.argv[3]),
            int(sys.argv[4]),
            int(sys.argv[5]),
            int(sys.argv[6]),
            float(sys.argv[7]),
        )
    elif command == "raw-server":
        _command_raw_server(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {command}")
