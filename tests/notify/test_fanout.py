"""officeapp.notify.fanout: one publish reaches every local socket of the group, once; a socket that
closed, left, was dropped or cannot be written to gets nothing more; after the process's
subscription is made new (a Redis restart), every socket is told or repaired.

These run on the in-memory layer (forced below, whatever REDIS_URL says); the watchdog against a real Redis restart is in
tests/reliability/test_fanout_redis_restart.py."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from officeapp.notify import fanout


@pytest.fixture(autouse=True)
def in_memory_layer(settings: Any) -> None:
    """The in-memory layer whatever REDIS_URL says: these tests look into its groups, and a frame
    arrives within the sleep below; the Redis layer has its own tests (module docstring)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class FakeSocket:
    def __init__(self, user_id: int = 0) -> None:
        self.sent: list[str] = []
        self.close_callbacks: list[Any] = []
        self.user = SimpleNamespace(pk=user_id)

    async def base_send(self, message: dict[str, Any]) -> None:
        self.sent.append(message["text"])

    def frames(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.sent]


class BrokenSocket(FakeSocket):
    async def base_send(self, message: dict[str, Any]) -> None:
        raise ConnectionResetError("the peer went away")


@pytest.mark.asyncio
async def test_one_publish_reaches_every_joined_socket_once_and_not_one_that_left() -> None:
    sockets = [FakeSocket() for _ in range(5)]
    for socket in sockets:
        await fanout.join(socket, "meeting.1")
    await fanout.join(sockets[0], "meeting.2")
    await fanout.leave(sockets[4], "meeting.1")
    await fanout.apublish("meeting.1", {"type": "meeting.page", "page": 3})
    await asyncio.sleep(0.05)
    assert [json.loads(t) for t in sockets[0].sent] == [{"type": "meeting.page", "page": 3}]
    assert all(len(s.sent) == 1 for s in sockets[:4])
    assert sockets[4].sent == []
    assert fanout.local_count("meeting.1") == 4


@pytest.mark.asyncio
async def test_a_closed_socket_leaves_every_group() -> None:
    socket = FakeSocket()
    await fanout.join(socket, "meeting.7")
    await fanout.join(socket, "meeting.8")
    for callback in socket.close_callbacks:
        await callback()
    assert fanout.local_count("meeting.7") == 0 and fanout.local_count("meeting.8") == 0


@pytest.mark.asyncio
async def test_the_process_joins_a_group_once_with_one_channel_however_many_sockets_join_at_once() -> None:
    sockets = [FakeSocket() for _ in range(20)]
    await asyncio.gather(*(fanout.join(s, f"race.{i % 2}") for i, s in enumerate(sockets)))
    hub = fanout.process_fanout()
    layer = hub.layer
    assert list(layer.groups["race.0"]) == [hub.channel]
    assert list(layer.groups["race.1"]) == [hub.channel]


@pytest.mark.asyncio
async def test_the_last_socket_leaving_leaves_the_group_and_stops_reading() -> None:
    socket = FakeSocket()
    await fanout.join(socket, "meeting.3")
    hub = fanout.process_fanout()
    assert hub.channel is not None and hub.layer.groups.get("meeting.3")
    await fanout.leave(socket, "meeting.3")
    assert not hub.layer.groups.get("meeting.3")
    assert hub.channel is None and hub._receiver is None


@pytest.mark.asyncio
async def test_dropped_users_get_no_later_frame_while_the_others_do() -> None:
    removed, stays = FakeSocket(user_id=41), FakeSocket(user_id=42)
    await fanout.join(removed, "meeting.5")
    await fanout.join(stays, "meeting.5")
    await asyncio.to_thread(fanout.drop_users, "meeting.5", [41])
    await fanout.apublish("meeting.5", {"type": "meeting.turned", "page": 2})
    await asyncio.sleep(0.05)
    assert removed.sent == []
    assert stays.frames() == [{"type": "meeting.turned", "page": 2}]
    assert fanout.local_count("meeting.5") == 1


@pytest.mark.asyncio
async def test_a_socket_that_cannot_be_written_to_is_dropped_and_the_others_still_get_the_frame() -> None:
    broken, fine = BrokenSocket(), FakeSocket()
    await fanout.join(broken, "meeting.6")
    await fanout.join(fine, "meeting.6")
    await fanout.apublish("meeting.6", {"type": "meeting.muted", "muted": True})
    await fanout.apublish("meeting.6", {"type": "meeting.muted", "muted": False})
    await asyncio.sleep(0.05)
    assert [f["muted"] for f in fine.frames()] == [True, False]
    assert fanout.local_count("meeting.6") == 1


@pytest.mark.asyncio
async def test_after_a_new_subscription_each_socket_is_told_or_repaired_and_hears_what_comes_next() -> None:
    told, repaired, other_room = FakeSocket(1), FakeSocket(2), FakeSocket(3)
    repairs: list[tuple[FakeSocket, str]] = []

    async def send_state(consumer: Any, group: str) -> None:
        repairs.append((consumer, group))
        await consumer.base_send({"type": "websocket.send", "text": json.dumps({"type": "meeting.state"})})

    await fanout.join(told, "meeting.9")
    await fanout.join(repaired, "meeting.9", on_reset=send_state)
    await fanout.join(other_room, "meeting.10")
    hub = fanout.process_fanout()
    old_channel = hub.channel
    await hub.rejoin()  # what the watchdog does when a probe is lost or Redis restarted
    assert hub.channel != old_channel and hub.resets == 1
    assert told.frames() == [{"type": "fanout.reset", "group": "meeting.9"}]
    assert repaired.frames() == [{"type": "meeting.state"}]
    assert repairs == [(repaired, "meeting.9")]
    assert other_room.frames() == [{"type": "fanout.reset", "group": "meeting.10"}]
    await fanout.apublish("meeting.9", {"type": "meeting.turned", "page": 4})
    await asyncio.sleep(0.05)
    assert told.frames()[-1] == repaired.frames()[-1] == {"type": "meeting.turned", "page": 4}


@pytest.mark.asyncio
async def test_a_socket_that_left_is_not_repaired_after_a_new_subscription() -> None:
    calls: list[str] = []

    async def send_state(consumer: Any, group: str) -> None:
        calls.append(group)

    gone, stays = FakeSocket(1), FakeSocket(2)
    await fanout.join(gone, "meeting.11", on_reset=send_state)
    await fanout.join(stays, "meeting.11")
    await fanout.leave(gone, "meeting.11")
    await fanout.process_fanout().rejoin()
    assert calls == [] and gone.sent == []
    assert stays.frames() == [{"type": "fanout.reset", "group": "meeting.11"}]


@pytest.mark.asyncio
async def test_the_in_memory_layer_has_no_watchdog_because_it_cannot_lose_a_frame() -> None:
    await fanout.join(FakeSocket(), "meeting.12")
    hub = fanout.process_fanout()
    assert hub._receiver is not None and hub._watchdog is None
