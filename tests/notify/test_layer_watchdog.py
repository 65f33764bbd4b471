"""The per-process watchdog of a network channel layer (officeapp.notify.relay.ProcessSockets): a
probe that does not come back means the layer stopped listening (Redis restarted), so every local
socket is sent back to reconnect, after the layer was made new. A fake layer stands in for Redis;
the real thing is tested end to end in tests/reliability/test_notify_redis_restart.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from officeapp.notify import presence, relay


class FakeNetworkLayer:
    """A layer that delivers what is sent to a channel, until it goes deaf (a dead subscription)."""

    def __init__(self) -> None:
        self.queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.deaf = False
        self.flushes = 0
        self.delivered = 0

    async def new_channel(self, prefix: str = "specific.") -> str:
        name = f"{prefix}{len(self.queues)}"
        self.queues[name] = asyncio.Queue()
        return name

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if not self.deaf:
            self.delivered += 1
            self.queues[channel].put_nowait(message)

    async def receive(self, channel: str) -> dict[str, Any]:
        return await self.queues[channel].get()

    async def flush(self) -> None:
        self.flushes += 1
        self.queues = {}


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> FakeNetworkLayer:
    fake = FakeNetworkLayer()
    monkeypatch.setattr(relay, "get_channel_layer", lambda: fake)
    monkeypatch.setattr(relay, "PROBE_SECONDS", 0.01)
    monkeypatch.setattr(relay, "PROBE_TIMEOUT_SECONDS", 0.2)

    # Presence lives in the cache; what it does is not the subject here.
    async def claim(user_id: int, connection_id: str) -> str:
        return f"presence.{connection_id}"

    async def nothing(*args: Any) -> None:
        return None

    async def no_servers(self: Any) -> tuple[str, ...]:
        return ()

    monkeypatch.setattr(relay.ProcessSockets, "server_ids", no_servers)
    monkeypatch.setattr(presence, "claim", claim)
    monkeypatch.setattr(presence, "refresh", nothing)
    monkeypatch.setattr(presence, "release", nothing)
    return fake


async def until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_lost_probe_sends_every_open_socket_back_to_reconnect_on_a_fresh_layer(layer):
    sockets = relay.ProcessSockets(asyncio.get_running_loop())
    closed: list[tuple[int, Any]] = []

    def closer(user_id: int) -> Any:
        async def close(code: Any = None) -> None:
            closed.append((user_id, code))

        return close

    await sockets.arrive(1, closer(1))
    await sockets.arrive(2, closer(2))
    # Probes that come back close nothing.
    await until(lambda: layer.delivered >= 3)
    assert closed == []
    assert layer.flushes == 0

    layer.deaf = True
    await until(lambda: len(closed) == 2)
    assert sorted(closed) == [(1, relay.CLOSE_RECONNECT), (2, relay.CLOSE_RECONNECT)]
    assert layer.flushes == 1
    assert relay.CLOSE_RECONNECT != 4401  # socket.js stops for good on 4401

    # The layer hears again after the flush: the watchdog goes on probing a new channel, quietly.
    layer.deaf = False
    heard = layer.delivered
    await until(lambda: layer.delivered >= heard + 3)
    assert layer.flushes == 1
    assert len(closed) == 2
    for connection in list(sockets.connections.values()):
        await sockets.leave(connection)


async def test_a_redis_restart_between_two_probes_sends_every_open_socket_back(layer, monkeypatch):
    # The subscription came back by itself, but what was published before it did is lost.
    servers = ["first-run"]

    async def server_ids(self: Any) -> tuple[str, ...]:
        return (servers[0],)

    monkeypatch.setattr(relay.ProcessSockets, "server_ids", server_ids)
    sockets = relay.ProcessSockets(asyncio.get_running_loop())
    closed: list[Any] = []

    async def close(code: Any = None) -> None:
        closed.append(code)

    connection = await sockets.arrive(1, close)
    await until(lambda: layer.delivered >= 3)
    assert closed == []
    servers[0] = "second-run"
    await until(lambda: closed == [relay.CLOSE_RECONNECT])
    assert layer.flushes == 1
    # The new server is the baseline now: probes go on without closing again.
    heard = layer.delivered
    await until(lambda: layer.delivered >= heard + 3)
    assert closed == [relay.CLOSE_RECONNECT]
    await sockets.leave(connection)


async def test_the_in_memory_layer_runs_no_watchdog(layer, monkeypatch):
    monkeypatch.setattr(relay, "relay_enabled", lambda: True)
    monkeypatch.setattr(relay, "_max_notification_id", lambda: 0)
    monkeypatch.setattr(relay, "database_sync_to_async", lambda f: _as_async(f))
    monkeypatch.setattr(relay, "RELAY_POLL_SECONDS", 60)
    sockets = relay.ProcessSockets(asyncio.get_running_loop())

    async def close(code: Any = None) -> None:
        raise AssertionError("an in-memory layer loses nothing: no socket is sent away")

    connection = await sockets.arrive(1, close)
    assert sockets.relay_running
    assert sockets._watchdog is None
    assert layer.delivered == 0
    await sockets.leave(connection)


def _as_async(function: Any) -> Any:
    async def call(*args: Any) -> Any:
        return function(*args)

    return call
