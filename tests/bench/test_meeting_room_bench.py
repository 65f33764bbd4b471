"""Benchmark: 300 participants in one live meeting room over real websockets (issue 8), against a bare
channels `group_send` and a raw `websockets` broadcast of the same frames to the same 300 clients,
measured in the same run.

Run with `make bench` (pytest -s tests/bench); figures are printed, never asserted. Needs REDIS_URL
(the Redis layer is what production runs and what crosses processes); skipped otherwise. The data
lives in a throw-away database: a PostgreSQL database made next to DATABASE_URL's when that is
PostgreSQL (what production runs; 300 joins write presence rows at once), else a SQLite file.

Everything runs in real processes on 127.0.0.1:
- the room: daphne serving officeapp.asgi:application (one, then two processes: participants split
  between them) with the live room's socket handlers (meetings.live); 300 users, each with an Rsvp
  (参加) and a signed-in session, the first of them host and organiser of a meeting in progress;
- bare channels: daphne serving the chat bench's bare consumer (every socket joins the group with
  its own channel; a driver process does a plain group_send per frame); raw: a `websockets` server
  broadcasting (the chat bench's `raw-server`). Both send the frames the room sent in this run
  (a meeting.turned and a meeting.vote text), numbered and stamped with the send time;
- 300 clients (the `websockets` library) in one asyncio loop in this process (meeting_clients.py).

Per configuration, RUNS runs of: open 300 sockets, all send meeting.join at once → time until every
client has seen the count reach 300 (meeting.presence, or its meeting.state already says so) and
until every client has its state; then RATE page turns a second for SECONDS s (the host sends
meeting.turn → meeting.turned at every client); then a vote: the host opens it and RATE×SECONDS
participants cast one ballot each, RATE a second (meeting.vote.cast → the tally meeting.vote at
every client; the tally counting k ballots is the k-th cast's, casts being paced well apart). The
room's latency is from the client's send, so it includes the service's transaction; "fan-out" is
each arrival after the frame's first arrival, the part the baselines are about. Medians of RUNS.
CPU: the server processes' CPU time (utime + stime) over the series / deliveries, in µs. The room
runs once per send path of the fan-out (ROOM_BENCH_SENDS, default "asgi,direct": each socket's
base_send, then pre-framed bytes handed to daphne's transport; D32): before and after, same run.

This file is also the servers and the driver: `python tests/bench/test_meeting_room_bench.py <cmd>`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
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

from tests.bench.chat_clients import daphne, free_port, stop, wait_for_port  # noqa: E402
from tests.bench.meeting_clients import RoomCrowd  # noqa: E402

PYTHON = sys.executable
CHAT_BENCH = str(ROOT / "tests" / "bench" / "test_chat_fanout_bench.py")
PARTICIPANTS = int(os.environ.get("ROOM_BENCH_PARTICIPANTS", "300"))
RATE = float(os.environ.get("ROOM_BENCH_RATE", "5"))  # turns or ballots a second: × 300 deliveries
SECONDS = float(os.environ.get("ROOM_BENCH_SECONDS", "10"))
RUNS = int(os.environ.get("ROOM_BENCH_RUNS", "3"))
PROCESSES = [int(p) for p in os.environ.get("ROOM_BENCH_PROCESSES", "1,2").split(",")]
# The fan-out's send paths, each measured (officeapp.notify.fanout.SEND_PATH; "asgi" = base_send).
SENDS = os.environ.get("ROOM_BENCH_SENDS", "asgi,direct").split(",")
BARE_GROUP = "bench.chat.bare"  # the chat bench's bare consumer joins this group
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the room server (daphne tests.bench.test_meeting_room_bench:room_application) ------------------
def _stand_in_handlers() -> dict[str, Any]:
    """A bench-only live room on officeapp.notify.fanout, for developing this bench before
    meetings.live existed: the protocol's frames, presence rows, no access checks. Used only when
    meetings.live registers no meeting.join; the bench prints which room it measured."""
    from channels.db import database_sync_to_async
    from django.db import transaction
    from django.db.models import F

    from meetings.groups import room_group
    from meetings.models import Ballot, LivePresence, Meeting, Vote, VoteStatus
    from officeapp.notify import fanout

    def vote_frame(vote: Vote) -> dict[str, Any]:
        tally = {"for": vote.count_for, "against": vote.count_against, "abstain": vote.count_abstain}
        return {
            "type": "meeting.vote",
            "meeting": vote.meeting_id,
            "vote": {"id": vote.pk, "title": vote.title, "anonymous": vote.anonymous, "status": vote.status,
                     "tally": tally, "voted": sum(tally.values()), "electorate": vote.electorate},
        }  # fmt: skip

    def enter(consumer: Any, meeting_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        user = consumer.user
        LivePresence.objects.create(meeting_id=meeting_id, user=user, channel=consumer.channel_name)
        present = list(
            LivePresence.objects.filter(meeting_id=meeting_id).values_list("user_id", "user__real_name")
        )
        meeting = Meeting.objects.get(pk=meeting_id)
        state = {"type": "meeting.state", "meeting": meeting_id, "version": meeting.live_version,
                 "presence": [{"user": u, "name": n} for u, n in present], "page": meeting.live_page,
                 "vote": None, "me": {"user": user.pk, "host": user.pk == meeting.host_id, "voted": False}}  # fmt: skip
        joined = {"type": "meeting.presence", "meeting": meeting_id, "event": "joined", "user": user.pk,
                  "name": user.real_name, "count": len(present)}  # fmt: skip
        return state, joined

    def exit_room(consumer: Any, meeting_id: int) -> dict[str, Any]:
        LivePresence.objects.filter(channel=consumer.channel_name).delete()
        count = LivePresence.objects.filter(meeting_id=meeting_id).count()
        return {"type": "meeting.presence", "meeting": meeting_id, "event": "left", "user": consumer.user.pk,
                "name": consumer.user.real_name, "count": count}  # fmt: skip

    async def join(consumer: Any, payload: dict[str, Any]) -> None:
        meeting_id = int(payload["meeting"])
        await fanout.join(consumer, room_group(meeting_id))
        state, joined = await database_sync_to_async(enter)(consumer, meeting_id)
        await consumer.send_json(state)
        await fanout.apublish(room_group(meeting_id), joined)

        async def gone() -> None:
            left = await database_sync_to_async(exit_room)(consumer, meeting_id)
            await fanout.apublish(room_group(meeting_id), left)

        consumer.close_callbacks.append(gone)

    def turn_page(meeting_id: int, page: int) -> dict[str, Any]:
        with transaction.atomic():
            meeting = Meeting.objects.select_for_update().get(pk=meeting_id)
            meeting.live_page, meeting.live_version = page, meeting.live_version + 1
            meeting.save(update_fields=["live_page", "live_version"])
        return {"type": "meeting.turned", "meeting": meeting_id, "agenda_item": None, "material": None,
                "page": page, "version": meeting.live_version}  # fmt: skip

    async def turn(consumer: Any, payload: dict[str, Any]) -> None:
        frame = await database_sync_to_async(turn_page)(int(payload["meeting"]), int(payload["page"]))
        await fanout.apublish(room_group(frame["meeting"]), frame)

    def open_vote(consumer: Any, meeting_id: int, title: str) -> dict[str, Any]:
        vote = Vote.objects.create(meeting_id=meeting_id, title=title, opened_by=consumer.user)
        return vote_frame(vote)

    async def vote_open(consumer: Any, payload: dict[str, Any]) -> None:
        frame = await database_sync_to_async(open_vote)(consumer, int(payload["meeting"]), payload["title"])
        await fanout.apublish(room_group(frame["meeting"]), frame)

    def cast_ballot(consumer: Any, vote_id: int, choice: str) -> dict[str, Any]:
        with transaction.atomic():
            vote = Vote.objects.select_for_update().get(pk=vote_id)
            Ballot.objects.create(vote=vote, voter=consumer.user, choice=choice)
            Vote.objects.filter(pk=vote_id).update(**{f"count_{choice}": F(f"count_{choice}") + 1})
            vote.refresh_from_db()
        return vote_frame(vote)

    async def vote_cast(consumer: Any, payload: dict[str, Any]) -> None:
        frame = await database_sync_to_async(cast_ballot)(consumer, int(payload["vote"]), payload["choice"])
        await fanout.apublish(room_group(frame["meeting"]), frame)

    def close_vote(vote_id: int) -> dict[str, Any]:
        Vote.objects.filter(pk=vote_id).update(status=VoteStatus.CLOSED)
        return vote_frame(Vote.objects.get(pk=vote_id))

    async def vote_close(consumer: Any, payload: dict[str, Any]) -> None:
        frame = await database_sync_to_async(close_vote)(int(payload["vote"]))
        await fanout.apublish(room_group(frame["meeting"]), frame)

    return {"meeting.join": join, "meeting.turn": turn, "meeting.vote.open": vote_open,
            "meeting.vote.cast": vote_cast, "meeting.vote.close": vote_close}  # fmt: skip


if os.environ.get("ROOM_BENCH_ROLE") == "room-server" and os.environ.get("ROOM_BENCH_PROFILE"):
    # Where a server's time goes: cProfile of its main thread (the reactor and every consumer),
    # written when daphne exits (ROOM_BENCH_PROFILE=<file>, one process).
    import atexit
    import cProfile

    _profile = cProfile.Profile()
    _profile.enable()
    atexit.register(lambda: _profile.dump_stats(os.environ["ROOM_BENCH_PROFILE"]))

if os.environ.get("ROOM_BENCH_ROLE") == "room-server":
    from officeapp.asgi import application as room_application  # noqa: F401  (django.setup())
    from officeapp.notify import fanout
    from officeapp.registries import socket_handlers

    # The fan-out's send path to measure (officeapp.notify.fanout.SEND_PATH): "asgi" is base_send.
    fanout.SEND_PATH = os.environ.get("ROOM_BENCH_SEND") or fanout.SEND_PATH

    if "meeting.join" not in socket_handlers:
        for _kind, _handler in _stand_in_handlers().items():
            socket_handlers.register(_kind, _handler)


# --- commands run in subprocesses ---------------------------------------------------------------
def _command_setup(participants: int) -> None:
    """An agency, a department of `participants` users with a session each, a meeting in progress
    hosted and organised by the first, an Rsvp (参加) for each of the others. Prints JSON."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from meetings.models import Material, Meeting, MeetingKind, MeetingStatus, Reply, Rsvp
    from officeapp.blobs.models import Blob
    from officeapp.org.models import Agency, AgencyLevel, Department, User
    from officeapp.registries import socket_handlers
    from tests.bench.chat_clients import session_key_for

    agency = Agency.objects.create(
        name="压测厅", short_name="压测", level=AgencyLevel.PROVINCE, code="ROOMBENCH"
    )
    department = Department.objects.create(agency=agency, name="会务处", code="ROOMBENCH-1")
    password = make_password(None)
    User.objects.bulk_create(
        [
            User(username=f"roombench{i:05d}", real_name=f"参会{i}", password=password, department=department)
            for i in range(participants)
        ],
        batch_size=500,
    )
    people = list(User.objects.filter(username__startswith="roombench").order_by("id"))
    host = people[0]
    now = timezone.now()
    meeting = Meeting.objects.create(
        agency=agency,
        title="三百人视频会议",
        kind=MeetingKind.VIDEO if hasattr(MeetingKind, "VIDEO") else MeetingKind.OFFICE,
        starts_at=now - timezone.timedelta(minutes=5),
        ends_at=now + timezone.timedelta(hours=3),
        online=True,
        host=host,
        organiser=host,
        status=MeetingStatus.LIVE,
        noticed_at=now - timezone.timedelta(days=1),
        live_started_at=now - timezone.timedelta(minutes=5),
    )
    # The material the host turns pages of (its file is never read here).
    digest = hashlib.sha256(b"room-bench").hexdigest()
    blob = Blob.objects.create(sha256=digest, size=1, content_type="application/pdf", key=f"bench/{digest}")
    material = Material.objects.create(
        meeting=meeting, blob=blob, title="会议材料", filename="材料.pdf", page_count=10**6, uploaded_by=host
    )
    Meeting.objects.filter(pk=meeting.pk).update(live_material=material)
    Rsvp.objects.bulk_create(
        [Rsvp(meeting=meeting, user=u, reply=Reply.ATTEND, replied_at=now) for u in people[1:]],
        batch_size=500,
    )
    sessions = [[user.pk, session_key_for(user)] for user in people]
    room = "meetings.live" if "meeting.join" in socket_handlers else "STAND-IN (bench-only handlers)"
    sys.stdout.write(json.dumps({"sessions": sessions, "meeting": meeting.pk, "room": room}))


def _command_drive_bare(first: int, count: int, interval: float, frame_text: str) -> None:
    """Send `count` copies of the frame numbered from `first` through a plain group_send to the
    bare consumers' group, one every `interval` s."""
    import django

    django.setup()
    from officeapp.notify.push import send_to_groups

    frame = json.loads(frame_text)
    started = time.monotonic()
    for k in range(count):
        send_to_groups(
            [
                (
                    BARE_GROUP,
                    {"type": "bare.message", "frame": dict(frame, n=first + k, sent_at=time.monotonic())},
                )
            ]
        )
        time.sleep(max(0.0, started + (k + 1) * interval - time.monotonic()))


# --- the benchmark side -------------------------------------------------------------------------
def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLK_TCK


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# Skipped, with this reason, only where Redis is not configured.
NEEDS_REDIS = "the live room is measured on the Redis layer: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)"


def _throwaway_database(stack: ExitStack, tmp: str) -> str:
    """A fresh PostgreSQL database beside DATABASE_URL's when that is PostgreSQL, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp}/bench.sqlite3"
    import psycopg

    server, _, _ = url.rpartition("/")
    name = f"officeapp_room_bench_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return f"{server}/{name}"


@pytest.fixture(scope="module")
def bench_env() -> Iterator[dict[str, str]]:
    if not os.environ.get("REDIS_URL"):
        pytest.skip(reason=NEEDS_REDIS)
    with tempfile.TemporaryDirectory(prefix="room-bench-") as tmp, ExitStack() as stack:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "officeapp.settings",
            "DATABASE_URL": _throwaway_database(stack, tmp),
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
    return json.loads(_run({**bench_env, "ROOM_BENCH_ROLE": ""}, __file__, "setup", str(PARTICIPANTS)))


async def _paced(count: int, action: Any) -> None:
    started = time.monotonic()
    for k in range(count):
        await action(k)
        await asyncio.sleep(max(0.0, started + (k + 1) / RATE - time.monotonic()))


async def _room_run(
    ports: list[int], pids: list[int], keys: list[str], meeting: int, first_page: int
) -> dict[str, float]:
    """One run in the real room: join, page turns, a vote. Returns its figures."""
    n = len(keys)
    crowd = RoomCrowd("room")
    crowd.expected_count = n
    await crowd.open(ports, keys)
    figures: dict[str, float] = {}
    try:
        # Everyone joins at once.
        started = time.monotonic()
        for i in range(n):
            await crowd.send(i, {"type": "meeting.join", "meeting": meeting})
        await crowd.until(lambda: all(crowd.all_present_at), 300, "every client sees 300 present")
        await crowd.until(lambda: all(crowd.state_at), 60, "every client has its state")
        figures["all_present_s"] = max(crowd.all_present_at) - started
        figures["state_p50_ms"] = statistics.median(t - started for t in crowd.state_at) * 1000
        figures["state_p99_ms"] = sorted(crowd.state_at)[round(0.99 * (n - 1))] * 1000 - started * 1000
        await asyncio.sleep(1.0)  # the presence storm has settled

        # Page turns by the host (socket 0).
        count = max(1, int(RATE * SECONDS))
        pages = list(range(first_page, first_page + count))
        cpu = _cpu_seconds(pids)

        async def turn(k: int) -> None:
            crowd.turns.sent[pages[k]] = await crowd.send(
                0, {"type": "meeting.turn", "meeting": meeting, "page": pages[k]}
            )

        await _paced(count, turn)
        await crowd.until(lambda: crowd.turns.complete(pages, n), 60, "every turn at every client")
        figures["turn_cpu_us"] = (_cpu_seconds(pids) - cpu) * 1e6 / (count * n)
        for key, value in crowd.turns.figures(pages, n).items():
            figures[f"turn_{key}"] = value

        # A vote: opened by the host, `count` ballots from as many participants.
        await crowd.send(
            0, {"type": "meeting.vote.open", "meeting": meeting, "title": "压测表决", "anonymous": False}
        )
        await crowd.until(
            lambda: any(v >= n for v in crowd.votes_open.values()), 30, "the vote opened everywhere"
        )
        vote_id = max(crowd.votes_open)
        tallies = [(vote_id, k + 1) for k in range(count)]
        cpu = _cpu_seconds(pids)

        async def cast(k: int) -> None:
            sent = await crowd.send(
                1 + k, {"type": "meeting.vote.cast", "meeting": meeting, "vote": vote_id, "choice": "for"}
            )
            crowd.tallies.sent[tallies[k]] = sent

        await _paced(count, cast)
        await crowd.until(lambda: crowd.tallies.complete(tallies, n), 60, "every tally at every client")
        figures["vote_cpu_us"] = (_cpu_seconds(pids) - cpu) * 1e6 / (count * n)
        for key, value in crowd.tallies.figures(tallies, n).items():
            figures[f"vote_{key}"] = value
        await crowd.send(0, {"type": "meeting.vote.close", "meeting": meeting, "vote": vote_id})
        await asyncio.sleep(0.5)
        figures["errors"] = float(len(crowd.errors))
    finally:
        samples = dict(crowd.samples)
        await crowd.close()
    _SAMPLES.update(samples)
    await asyncio.sleep(2.0)  # presence rows of the closed sockets are gone before the next run
    return figures


_SAMPLES: dict[str, str] = {}


async def _baseline_run(
    ports: list[int], pids: list[int], keys: list[str], send: Any, first: int
) -> dict[str, float]:
    """One run of a baseline: the turn frame RATE a second, then the vote frame, to every socket."""
    n = len(keys)
    crowd = RoomCrowd("stamped")
    await crowd.open(ports, keys)
    figures: dict[str, float] = {}
    try:
        await asyncio.sleep(1.0)
        count = max(1, int(RATE * SECONDS))
        for name, frame_type, start in (
            ("turn", "meeting.turned", first),
            ("vote", "meeting.vote", first + count),
        ):
            numbers = list(range(start, start + count))
            cpu = _cpu_seconds(pids)
            await send(json.loads(_SAMPLES[frame_type]), start, count, 1 / RATE)
            await crowd.until(
                lambda numbers=numbers: crowd.stamped.complete(numbers, n), 60, f"every {name} frame"
            )
            figures[f"{name}_cpu_us"] = (_cpu_seconds(pids) - cpu) * 1e6 / (count * n)
            for key, value in crowd.stamped.figures(numbers, n).items():
                figures[f"{name}_{key}"] = value
    finally:
        await crowd.close()
    return figures


def _bare_sender(env: dict[str, str]) -> Any:
    async def send(frame: dict[str, Any], first: int, count: int, interval: float) -> None:
        process = await asyncio.create_subprocess_exec(
            PYTHON, __file__, "drive-bare", str(first), str(count), str(interval), json.dumps(frame),
            cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await process.communicate()
        if process.returncode:
            raise RuntimeError(err.decode()[-3000:])

    return send


def _raw_sender(control: Any) -> Any:
    async def send(frame: dict[str, Any], first: int, count: int, interval: float) -> None:
        await control.send(json.dumps({"first": first, "count": count, "interval": interval, "frame": frame}))
        assert await control.recv() == "done"

    return send


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def test_300_participants_in_one_live_room_against_bare_channels_and_raw_broadcast(
    bench_env: dict[str, str], world: dict[str, Any]
) -> None:
    keys = [key for _, key in world["sessions"][:PARTICIPANTS]]
    meeting = world["meeting"]
    results: dict[str, dict[str, float]] = {}
    loads: list[str] = [_load()]
    room_env = {**bench_env, "ROOM_BENCH_ROLE": "room-server"}
    application = "tests.bench.test_meeting_room_bench:room_application"

    async def room(processes: int, send: str, label: int) -> None:
        env = {**room_env, "ROOM_BENCH_SEND": send}
        with ExitStack() as stack:
            servers = [stack.enter_context(daphne(env, application)) for _ in range(processes)]
            ports, pids = [port for port, _ in servers], [p.pid for _, p in servers]
            runs = [
                await _room_run(ports, pids, keys, meeting, 1 + 1000 * (label * 10 + r)) for r in range(RUNS)
            ]
        results[f"live room, {processes} daphne, {send}"] = _medians(runs)
        loads.append(_load())

    async def bare() -> None:
        env = {**bench_env, "CHAT_BENCH_ROLE": "bare-server"}
        with daphne(env, "tests.bench.test_chat_fanout_bench:bare_application") as (port, process):
            send = _bare_sender(bench_env)
            runs = [await _baseline_run([port], [process.pid], keys, send, 1 + 1000 * r) for r in range(RUNS)]
        results["bare channels group_send, 1 daphne"] = _medians(runs)
        loads.append(_load())

    async def raw() -> None:
        from websockets.asyncio.client import connect as ws_connect

        port = free_port()
        process = subprocess.Popen([PYTHON, CHAT_BENCH, "raw-server", str(port)], cwd=ROOT, env=bench_env)
        try:
            wait_for_port(port, "raw websockets server")
            async with ws_connect(f"ws://127.0.0.1:{port}/control", max_queue=None) as control:
                send = _raw_sender(control)
                runs = [
                    await _baseline_run([port], [process.pid], keys, send, 1 + 1000 * r) for r in range(RUNS)
                ]
            results["raw websockets broadcast"] = _medians(runs)
        finally:
            stop(process)
        loads.append(_load())

    for send in SENDS:
        for processes in PROCESSES:
            asyncio.run(room(processes, send, len(results)))
    asyncio.run(bare())
    asyncio.run(raw())
    _print(results, world["room"], len(keys), loads)


def _print(results: dict[str, dict[str, float]], room: str, n: int, loads: list[str]) -> None:
    print()
    print(
        f"live meeting room ({room}), Redis layer, {n} participants each with a socket; {RATE:g} turns or "
        f"ballots/s ({RATE * n:.0f} deliveries/s) for {SECONDS:g} s; medians of {RUNS} runs; load {' → '.join(loads)}"
    )
    rooms = [name for name in results if name.startswith("live room")]
    for name in rooms:
        r = results[name]
        print(
            f"{name}: all {n} present after {r['all_present_s']:.2f} s; own state p50 {r['state_p50_ms']:.0f} ms, "
            f"p99 {r['state_p99_ms']:.0f} ms; error frames {r['errors']:.0f}"
        )
    head = (
        f"{'path':<36}{'first p50':>10}{'p50 ms':>8}{'p99 ms':>8}{'last p99':>10}{'fan-out p99':>13}{'lost':>6}"
        f"{'CPU µs/delivery':>17}"
    )
    for what in ("turn", "vote"):
        print(
            f"-- {'page turn (meeting.turn → meeting.turned)' if what == 'turn' else 'vote tally (meeting.vote.cast → meeting.vote)'}"
        )
        print(head)
        for name, r in results.items():
            print(
                f"{name:<36}{r[f'{what}_first_p50']:>10.1f}{r[f'{what}_p50']:>8.1f}{r[f'{what}_p99']:>8.1f}{r[f'{what}_last_p99']:>10.1f}"
                f"{r[f'{what}_fanout_p99']:>13.1f}{r[f'{what}_lost']:>6.0f}{r[f'{what}_cpu_us']:>17.1f}"
            )
        bare = results["bare channels group_send, 1 daphne"][f"{what}_p99"]
        raw = results["raw websockets broadcast"][f"{what}_p99"]
        for name in rooms:
            p99, service = results[name][f"{what}_p99"], results[name][f"{what}_first_p50"]
            print(
                f"{name}: p99 / bare = {p99 / bare:.2f} (target ≤ 1), p99 / raw = {p99 / raw:.2f} (target ≤ 2); "
                f"without the service's median time (first p50): {(p99 - service) / raw:.2f} × raw"
            )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "officeapp.settings")
    command = sys.argv[1]
    if command == "setup":
        _command_setup(int(sys.argv[2]))
    elif command == "drive-bare":
        _command_drive_bare(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    else:
        raise SystemExit(f"unknown command {command}")
