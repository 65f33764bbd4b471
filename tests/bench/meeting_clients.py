"""Websocket clients of the live meeting room for the benchmark (tests/bench/test_meeting_room_bench.py):
a crowd of participants on /ws/ that join one room through the real protocol and record, per frame,
when it arrived; plus the same crowd's reading of stamped baseline frames (bare channels, raw
`websockets`). Processes and sessions come from tests/bench/chat_clients.py.

All clients live in one asyncio loop of the benchmark process, so a client's send time and every
client's arrival time are read from the same clock (time.monotonic(); the baselines' servers stamp
it into the frame, which works across processes because CLOCK_MONOTONIC is the host's)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from tests.bench.chat_clients import connect

# The send time a baseline server put into its frame (bare channels, raw broadcast).
STAMP = re.compile(r'"n":\s*(\d+),\s*"sent_at":\s*([0-9.]+)')
OPEN_AT_ONCE = 25  # handshakes in flight: daphne accepts them one by one anyway


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Arrivals:
    """key → [arrival time of each socket] and key → when it was sent (monotonic seconds)."""

    def __init__(self) -> None:
        self.at: dict[Any, list[float]] = {}
        self.sent: dict[Any, float] = {}

    def arrive(self, key: Any, now: float) -> None:
        self.at.setdefault(key, []).append(now)

    def complete(self, keys: list[Any], expected: int) -> bool:
        return all(len(self.at.get(k, ())) >= expected for k in keys)

    def figures(self, keys: list[Any], expected: int) -> dict[str, float]:
        """Latency from the send (ms) over every delivery, p99 of the last socket per frame, the
        fan-out alone (each arrival after the frame's first arrival), and deliveries lost."""
        every: list[float] = []
        last: list[float] = []
        spread: list[float] = []
        first_ms: list[float] = []
        for key in keys:
            times = self.at.get(key, [])
            if not times or key not in self.sent:
                continue
            sent, first = self.sent[key], min(times)
            every += [(t - sent) * 1000 for t in times]
            spread += [(t - first) * 1000 for t in times]
            first_ms.append((first - sent) * 1000)
            last.append((max(times) - sent) * 1000)
        got = sum(min(len(self.at.get(k, ())), expected) for k in keys)
        return {
            # The first arrival: the service's transaction and the publish, before any fan-out.
            "first_p50": statistics.median(first_ms) if first_ms else float("nan"),
            "p50": statistics.median(every) if every else float("nan"),
            "p99": pct(every, 0.99) if every else float("nan"),
            "last_p99": pct(last, 0.99) if last else float("nan"),
            "fanout_p99": pct(spread, 0.99) if spread else float("nan"),
            "lost": float(len(keys) * expected - got),
        }


class RoomCrowd:
    """One socket per participant. `mode` "room": frames of the live room (meeting.*), read with
    json; "stamped": baseline frames, read with a regex for their number and send time."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.meeting_id = 0
        # room: presence count seen by each socket, when it got its state and saw everyone.
        self.count: list[int] = []
        self.state_at: list[float] = []
        self.all_present_at: list[float] = []
        self.expected_count = 0
        self.turns = Arrivals()  # page → arrivals
        self.tallies = Arrivals()  # (vote id, ballots counted) → arrivals
        self.stamped = Arrivals()  # n → arrivals
        self.votes_open: dict[int, int] = {}  # vote id → sockets that saw it open
        self.errors: list[str] = []
        self.samples: dict[str, str] = {}  # frame type → one text as the room sent it
        self.changed = asyncio.Event()

    async def open(self, ports: list[int], keys: list[str]) -> None:
        gate = asyncio.Semaphore(OPEN_AT_ONCE)

        async def one(i: int, key: str) -> Any:
            async with gate:
                return await connect(ports[i % len(ports)], key)

        self.sockets = list(await asyncio.gather(*(one(i, key) for i, key in enumerate(keys))))
        n = len(self.sockets)
        self.count = [0] * n
        self.state_at = [0.0] * n
        self.all_present_at = [0.0] * n
        self.tasks = [asyncio.create_task(self._read(i, ws)) for i, ws in enumerate(self.sockets)]

    async def _read(self, i: int, ws: Any) -> None:
        reader = self._room_frame if self.mode == "room" else self._stamped_frame
        async for text in ws:
            reader(i, text, time.monotonic())
            self.changed.set()

    def _stamped_frame(self, i: int, text: str, now: float) -> None:
        found = STAMP.search(text)
        if found:
            n = int(found.group(1))
            self.stamped.arrive(n, now)
            self.stamped.sent.setdefault(n, float(found.group(2)))

    def _room_frame(self, i: int, text: str, now: float) -> None:
        frame = json.loads(text)
        kind = frame.get("type")
        if kind in ("meeting.turned", "meeting.vote") and kind not in self.samples:
            self.samples[kind] = text
        if kind == "meeting.turned":
            self.turns.arrive(int(frame["page"]), now)
        elif kind == "meeting.vote":
            vote = frame["vote"]
            # "voted": ballots counted so far (the split is hidden while an anonymous vote is open).
            counted = int(vote.get("voted") or 0)
            if vote.get("status") == "open" and counted == 0:
                self.votes_open[int(vote["id"])] = self.votes_open.get(int(vote["id"]), 0) + 1
            elif counted:
                self.tallies.arrive((int(vote["id"]), counted), now)
        elif kind == "meeting.presence":
            self._present(i, int(frame["count"]), now)
        elif kind == "meeting.state":
            self.state_at[i] = now
            self._present(i, len(frame.get("presence") or ()), now)
        elif kind == "error":
            self.errors.append(str(frame.get("message")))

    def _present(self, i: int, count: int, now: float) -> None:
        self.count[i] = count
        if self.expected_count and count >= self.expected_count and not self.all_present_at[i]:
            self.all_present_at[i] = now

    async def send(self, i: int, frame: dict[str, Any]) -> float:
        sent = time.monotonic()
        await self.sockets[i].send(json.dumps(frame, ensure_ascii=False))
        return sent

    async def until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"not within {timeout} s: {what} (errors: {self.errors[:3]})")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
