"""How a notification reaches an open browser, at both scales.

`notify()` writes Notification rows in the caller's transaction and, after commit, `group_send`s
each row to the recipient's group `user.<id>`; every socket of that user (one per tab, on /ws/)
has joined that group.

With REDIS_URL set, the channel layer is channels-redis (`RedisPubSubChannelLayer`): a group_send
from any process — a daphne server, the django-q2 worker, a management command — reaches every
socket in every daphne process. The relay below is off.

With no REDIS_URL (the embedded default) the layer is channels' `InMemoryChannelLayer`, which only
reaches sockets of the process that sends. A notification written by the worker would push into
the worker's own memory and reach nobody. So each server process runs a relay: started lazily by
the first socket that connects (one per process and event loop), stopped when its last socket
closes. Every RELAY_POLL_SECONDS (0.5 s) it reads Notification rows with an id above its cursor
(the primary-key index; bounded batches) and `group_send`s those whose recipient has a socket in
this process, so a row committed by any process reaches an open browser within about a second.
Rows pushed twice (once by the in-process on_commit push, once by the relay) are de-duplicated by
id in the consumer and again in the browser (socket.js).

The cursor only moves past rows older than RELAY_SETTLE_SECONDS: a transaction that took an id
early but commits late (PostgreSQL without Redis) is still picked up; newer rows are re-read each
poll and skipped by id. A transaction open longer than that is not relayed live; the browser gets
the row when it next (re)connects, because the client's `hello` asks for every id it has not seen.

This module also keeps the per-process list of open sockets and refreshes their presence keys
(officeapp.notify.presence) every HEARTBEAT_SECONDS.

Redis restarting (any network layer): a group_send published while this process's pub/sub
subscription was down is lost (channels-redis subscribes again later, or, in some versions, never:
then every socket already open stays deaf for good). While sockets are open, a watchdog probes every
PROBE_SECONDS: it reads each Redis server's run_id (new at every restart) and sends a message to a
channel of this process that must come back within PROBE_TIMEOUT_SECONDS. A new run_id, a lost probe
or an error means pushes may have been lost: the process flushes the shared layer (the next socket
subscribes afresh) and closes every local socket with CLOSE_RECONNECT. The browser reconnects at once (socket.js: any code but 4401) and its `hello`
returns every notification it missed, once and in order. Chat's hub watches its own layer instance
the same way (chat/hub.py). The in-memory layer cannot lose anything and has no watchdog.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from officeapp.notify import presence
from officeapp.notify.models import Notification

logger = logging.getLogger(__name__)

RELAY_POLL_SECONDS = 0.5
RELAY_SETTLE_SECONDS = 10.0
RELAY_BATCH = 500
RELAY_MAX_BATCHES = 10
PROBE_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 2.0
# "Service restart, come back now" (1012 in the application range, which daphne lets us send):
# socket.js reconnects on every code but 4401, and its hello fills the gap.
CLOSE_RECONNECT = 4012


def relay_enabled() -> bool:
    """The relay is needed exactly when the layer cannot cross processes."""
    return isinstance(get_channel_layer(), InMemoryChannelLayer)


def _layer_hosts() -> list[Any]:
    """The Redis servers of the channel layer (channels-redis's "hosts"); none for other layers."""
    config = settings.CHANNEL_LAYERS.get(DEFAULT_CHANNEL_LAYER, {}).get("CONFIG") or {}
    return list(config.get("hosts") or [])


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


@dataclass
class LocalConnection:
    connection_id: str
    user_id: int
    presence_key: str | None
    # Closes the socket with a code (the consumer's close); None for a connection with no socket.
    close: Callable[..., Awaitable[None]] | None = None


def _max_notification_id() -> int:
    return Notification.objects.aggregate(m=Max("id"))["m"] or 0


def _rows_after(floor: int) -> list[Notification]:
    rows: list[Notification] = []
    cursor = floor
    for _ in range(RELAY_MAX_BATCHES):
        batch = list(Notification.objects.filter(id__gt=cursor).order_by("id")[:RELAY_BATCH])
        rows.extend(batch)
        if len(batch) < RELAY_BATCH:
            break
        cursor = batch[-1].pk
    return rows


class ProcessSockets:
    """The sockets open in this process, their presence heartbeat and (in-memory layer) the relay."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.connections: dict[str, LocalConnection] = {}
        self.users: Counter[int] = Counter()
        self._heartbeat: asyncio.Task[None] | None = None
        self._relay: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._probe_channel: str | None = None
        self._servers: list[Any] | None = None
        self._server_ids: tuple[str, ...] | None = None
        self.resets = 0

    @property
    def relay_running(self) -> bool:
        return self._relay is not None and not self._relay.done()

    async def arrive(
        self, user_id: int, close: Callable[..., Awaitable[None]] | None = None
    ) -> LocalConnection:
        connection = LocalConnection(uuid.uuid4().hex, user_id, None, close)
        connection.presence_key = await presence.claim(user_id, connection.connection_id)
        self.connections[connection.connection_id] = connection
        self.users[user_id] += 1
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = self.loop.create_task(self._beat())
        if not relay_enabled() and (self._watchdog is None or self._watchdog.done()):
            self._watchdog = self.loop.create_task(self._watch())
        if relay_enabled() and not self.relay_running:
            # The cursor is read before the socket is accepted, so a row committed from now on is
            # either relayed or (if older) returned by the client's hello.
            floor = await database_sync_to_async(_max_notification_id)()
            self._relay = self.loop.create_task(self._run_relay(floor))
        return connection

    async def leave(self, connection: LocalConnection) -> None:
        if self.connections.pop(connection.connection_id, None) is None:
            return
        self.users[connection.user_id] -= 1
        if self.users[connection.user_id] <= 0:
            del self.users[connection.user_id]
        if connection.presence_key:
            await presence.release(connection.presence_key, connection.connection_id)
        if not self.connections:
            # Nothing left to serve: stop, so an idle process polls nothing (restarted by the next socket).
            for task in (self._heartbeat, self._relay, self._watchdog):
                if task is not None and task is not asyncio.current_task():
                    task.cancel()
            self._heartbeat = self._relay = self._watchdog = None

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(presence.HEARTBEAT_SECONDS)
            try:
                for connection in list(self.connections.values()):
                    if connection.presence_key is None:  # all slots were taken; one may be free now
                        connection.presence_key = await presence.claim(
                            connection.user_id, connection.connection_id
                        )
                await presence.refresh(
                    {c.presence_key: c.connection_id for c in self.connections.values() if c.presence_key}
                )
            except Exception:  # a cache hiccup must not end the heartbeat
                logger.exception("presence heartbeat failed")

    async def _watch(self) -> None:
        # The servers the sockets subscribed on: a restart from now on is noticed at the next probe.
        self._server_ids = None
        with suppress(Exception):
            self._server_ids = await self.server_ids()
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            if not self.connections or await self._probe():
                continue
            logger.warning(
                "notification sockets: layer subscription lost, closing %d sockets", len(self.connections)
            )
            await self.reset()

    async def server_ids(self) -> tuple[str, ...]:
        """The run_id of each Redis server of the layer: a restart changes it."""
        if self._servers is None:
            from channels_redis.utils import create_pool, decode_hosts
            from redis import asyncio as aioredis

            self._servers = [
                aioredis.Redis(connection_pool=create_pool(h)) for h in decode_hosts(_layer_hosts())
            ]
        return tuple([str((await server.info("server"))["run_id"]) for server in self._servers])

    async def _probe(self) -> bool:
        """True when the Redis servers are the ones of the last probe and a message sent to this
        process's own channel comes back in time."""
        layer = get_channel_layer()
        token = uuid.uuid4().hex
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                ids, known = await self.server_ids(), self._server_ids
                self._server_ids = ids
                if known is not None and ids != known:
                    return False  # restarted between two probes: what was published meanwhile is lost
                if self._probe_channel is None:
                    self._probe_channel = await layer.new_channel("notify.probe.")
                await layer.send(self._probe_channel, {"type": "notify.probe", "token": token})
                while (await layer.receive(self._probe_channel)).get("token") != token:
                    pass  # a late answer to an earlier probe
        except Exception:  # down, timed out or refused: all the same to the sockets
            return False
        return True

    async def reset(self) -> None:
        """Make the layer new (the next socket subscribes again) and send every local socket back to
        reconnect; what was pushed meanwhile comes with the browser's hello."""
        self.resets += 1
        self._probe_channel = None
        try:
            await get_channel_layer().flush()  # closes the dead connection; nothing is lost by it
        except Exception:
            logger.exception("could not flush the channel layer")
        for connection in list(self.connections.values()):
            if connection.close is None:
                continue
            try:
                await connection.close(code=CLOSE_RECONNECT)
            except Exception:
                logger.exception("could not close a socket for reconnecting")

    async def _run_relay(self, floor: int) -> None:
        layer = get_channel_layer()
        relayed: set[int] = set()
        settle = timedelta(seconds=RELAY_SETTLE_SECONDS)
        while True:
            await asyncio.sleep(RELAY_POLL_SECONDS)
            try:
                rows = await database_sync_to_async(_rows_after)(floor)
            except Exception:  # the database may be briefly locked or restarting: try again next tick
                logger.exception("notification relay poll failed")
                continue
            cutoff = timezone.now() - settle
            settled = True
            for row in rows:
                if row.pk not in relayed:
                    relayed.add(row.pk)
                    if row.recipient_id in self.users:
                        await layer.group_send(user_group(row.recipient_id), row.as_frame())
                if settled and row.created_at <= cutoff:
                    floor = row.pk
                else:
                    settled = False
            relayed = {pk for pk in relayed if pk > floor}


_process_sockets: ProcessSockets | None = None


def process_sockets() -> ProcessSockets:
    """The one ProcessSockets of this process (per event loop: a test runs each case in a fresh loop)."""
    global _process_sockets
    loop = asyncio.get_running_loop()
    if _process_sockets is None or _process_sockets.loop is not loop or loop.is_closed():
        _process_sockets = ProcessSockets(loop)
    return _process_sockets
