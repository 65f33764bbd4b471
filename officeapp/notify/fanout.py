"""Per-process fan-out of one frame to many local sockets: one layer subscription per group and
daphne process, one pre-serialised text written to each local socket of the group.

The bare channels way (every socket joins the group with its own channel) costs a layer message,
a queue, a task wake-up and a JSON encoding per socket and per frame. Here a publish is ONE
group_send of text already serialised; each process that holds sockets of the group joined it
once, with one process channel read by one receive loop, and writes that same text to each of its
sockets. The live meeting room (meetings.live) uses it; chat's hub (chat.hub) is built on the same
`GroupReader` and adds its numbered, exactly-once message stream.

API (async ones from socket handlers, publish from sync code after commit):

    await join(consumer, "meeting.12")     # this socket now receives what is published to the group
    await join(consumer, "meeting.12", on_reset=send_state)   # … and is repaired after a reset
    await leave(consumer, "meeting.12")    # (and every group is left when the socket closes)
    publish("meeting.12", frame)           # from transaction.on_commit or any sync code
    await apublish("meeting.12", frame)
    local_count("meeting.12")              # sockets of the group in this process
    drop_users("meeting.12", [uid])        # every process stops writing the group to these users

Redis restarting (any network layer; D31): channels-redis's pub/sub layer loses what is published
while its subscription is down, and depending on the version never subscribes again. So the
process's GroupReader reads through a layer instance of its own (flushing it disturbs nobody
else) and, while it has groups, a watchdog checks every PROBE_SECONDS that a probe sent to its own
channel comes back within PROBE_TIMEOUT_SECONDS and that each Redis server's run_id is unchanged
(a restart shorter than the probe interval is only seen that way). Otherwise it flushes its layer,
takes a new channel, joins every group again and repairs what may have been missed:

- the fan-out (this module): each local socket of a group gets what its join asked for —
  `on_reset(consumer, group)` awaited (the app sends its current state again: the live room sends
  meeting.state, so nobody has to ask), or, when the join gave none, the frame
  {"type": "fanout.reset", "group": g}, which tells the client to ask for the state itself
  (the live room's client answers it with meeting.join);
- chat's hub: a catch-up from the database for every subscription (by seq).

The in-memory layer cannot lose anything and has no watchdog. Besides this, the notification
sockets' own watchdog (officeapp.notify.relay) closes every socket with 4012 on a Redis restart, and
the browser's reconnect joins again: the repair here also covers a fan-out subscription that died
alone (its own connection), which that watchdog cannot see.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer
from django.conf import settings

from officeapp.notify.push import send_to_groups

logger = logging.getLogger(__name__)

EVENT_TYPE = "fanout.text"
PROBE_TYPE = "fanout.probe"
RESET_TYPE = "fanout.reset"
PROBE_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 2.0

# Awaited per socket after a reset of the group's subscription: (consumer, group).
ResetCallback = Callable[[Any, str], Awaitable[None]]


def serialise(frame: dict[str, Any]) -> str:
    """The one JSON text of a frame, written as is to every socket."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def own_layer() -> Any:
    """The in-memory layer is shared (a publish must reach this very object); a network layer is a
    private instance, so that a reader may flush and reconnect it without touching the consumers'."""
    shared = get_channel_layer()
    if isinstance(shared, InMemoryChannelLayer):
        return shared
    return channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)


def _redis_hosts(layer: Any) -> list[Any]:
    """The Redis servers of a channels-redis layer (none for other layers)."""
    hosts = getattr(layer, "hosts", None)
    if hosts is None:  # RedisPubSubChannelLayer keeps them on its shards
        hosts = [getattr(shard, "host", None) for shard in getattr(layer, "_shards", ())]
    return [h for h in hosts or () if h is not None]


# How `write` reaches a socket: "direct" (pre-framed bytes handed to daphne's TCP transport, the
# default), "prepared" (autobahn's sendPreparedMessage: framed once, written through autobahn and
# Twisted), or "asgi" (each consumer's base_send, the way every channels consumer sends). The
# benchmarks switch it to measure the paths side by side (tests/bench/test_meeting_room_bench.py);
# a deployment chooses it with FANOUT_SEND_PATH (D36).
SEND_PATH: str = settings.FANOUT_SEND_PATH
_NOT_DAPHNE = object()


async def write(consumers: list[Any], text: str) -> list[Any]:
    """Write one text frame to each socket; returns the sockets that could not be written to.

    Why not just `consumer.base_send` for each: under daphne that costs, per socket, the session
    middleware's and daphne's send coroutines, autobahn's framing and logging, and — most of it —
    Twisted's buffered write, which registers the socket with epoll, sends on the next reactor turn
    and unregisters it (two epoll_ctl calls and a callback per socket; docs/decisions.md D32 has
    the profile). So the frame is framed once (autobahn's PreparedMessage, made for broadcasting)
    and, where daphne's protocol is reachable and its transport is a plain TCP connection with
    nothing queued, the bytes are sent at once with the transport's own writeSomeData (what Twisted
    itself calls when the socket is writable), the rest (if the kernel took less) queued with
    transport.write. Anything else — another server, TLS, compression, a socket still sending, a
    test's fake consumer — goes through base_send as before, so order per socket is kept: bytes
    only skip the queue when the queue is empty."""
    failed: list[Any] = []
    prepared: Any = None
    out = {"type": "websocket.send", "text": text}
    for consumer in consumers:
        daphne = _daphne_protocol(consumer) if SEND_PATH != "asgi" else None
        if daphne is not None:
            if prepared is None:
                prepared = _prepare(text)
            try:
                sent = _send_prepared(*daphne, prepared)
            except Exception:
                logger.exception("fan-out could not write to a socket")
                failed.append(consumer)
                continue
            if sent:
                continue
        try:
            await consumer.base_send(out)
        except Exception:
            logger.exception("fan-out could not write to a socket")
            failed.append(consumer)
    return failed


def _prepare(text: str) -> Any:
    from autobahn.websocket.protocol import PreparedMessage

    # A server's frames are not masked; doNotCompress keeps the pre-framed bytes (daphne does
    # not negotiate permessage-deflate; a socket that did is sent the usual way below).
    return PreparedMessage(text.encode(), False, False, True)


def _daphne_protocol(consumer: Any) -> tuple[Any, Any] | None:
    """(daphne's Server, the socket's WebSocketProtocol) behind a consumer (looked up once per
    socket), or None.

    channels hands the consumer the server's send, `partial(Server.handle_reply, protocol)`,
    possibly wrapped by its session middleware (which does nothing for websocket.send): unwrap
    that and take the protocol argument. Nothing of daphne is patched."""
    found = consumer.__dict__.get("_fanout_protocol", None)
    if found is None:
        found = consumer.__dict__["_fanout_protocol"] = _find_protocol(getattr(consumer, "base_send", None))
    return None if found is _NOT_DAPHNE else found


def _find_protocol(send: Any) -> Any:
    try:
        from autobahn.twisted.websocket import WebSocketServerProtocol
        from daphne.server import Server
    except ImportError:
        return _NOT_DAPHNE
    for _ in range(4):  # the session middleware's send, then the server's
        if isinstance(send, functools.partial):
            break
        send = getattr(getattr(send, "__self__", None), "real_send", None)
    if not (isinstance(send, functools.partial) and send.args):
        return _NOT_DAPHNE
    server, protocol = getattr(send.func, "__self__", None), send.args[0]
    if not (
        isinstance(server, Server)
        and getattr(send.func, "__name__", "") == "handle_reply"
        and isinstance(protocol, WebSocketServerProtocol)
    ):
        return _NOT_DAPHNE
    return server, protocol


def _send_prepared(server: Any, protocol: Any, prepared: Any) -> bool:
    """Send the pre-framed message on the protocol; False when this socket must take base_send."""
    connection = server.connections.get(protocol)
    if connection is None or connection.get("disconnected"):
        return True  # what daphne's handle_reply does too: a closed socket gets nothing
    if (
        protocol.state != protocol.STATE_OPEN
        or protocol.send_queue
        or protocol._perMessageCompress is not None
    ):
        return False
    if SEND_PATH == "prepared":
        protocol.sendPreparedMessage(prepared)
        return True
    from twisted.internet.tcp import Connection

    transport = protocol.transport
    data: bytes = prepared.payloadHybi
    if not isinstance(transport, Connection) or getattr(transport, "TLS", False):
        protocol.sendPreparedMessage(prepared)
        return True
    if not transport.connected or transport.disconnecting:
        return True
    if transport.dataBuffer or transport._tempDataLen:
        transport.write(data)  # bytes still queued go first
        return True
    written = transport.writeSomeData(data)
    if isinstance(written, BaseException):
        raise ConnectionError("the connection was lost")
    if written < len(data):
        transport.write(data[written:])
    return True


class GroupReader:
    """One process channel in a set of layer groups, read by one receive loop, with the Redis
    watchdog (network layers). Subclasses handle what arrives (`handle`) and repair what a reset
    may have lost (`after_rejoin`). Idle (no group) means no channel, no loop, no watchdog."""

    name = "fan-out"

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.layer = own_layer()
        self.channel: str | None = None
        self._joins: dict[str, asyncio.Task[None]] = {}
        self._receiver: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._channel_lock = asyncio.Lock()
        self._probe_back = asyncio.Event()
        self._servers: list[Any] | None = None
        self._server_ids: tuple[str, ...] | None = None
        self.resets = 0

    # --- groups ---------------------------------------------------------------------------------
    async def join_group(self, group: str) -> None:
        """Join the group once per process (every caller waits for that join: a frame published
        after it is not missed). A join that failed (the layer was down) is tried again."""
        join = self._joins.get(group)
        if join is None or (join.done() and (join.cancelled() or join.exception() is not None)):
            join = self._joins[group] = self.loop.create_task(self._join(group))
        await asyncio.shield(join)

    async def _join(self, group: str) -> None:
        async with self._channel_lock:  # two first joins must not take two channels
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self._server_ids = None
        await self.layer.group_add(group, self.channel)
        if self._receiver is None or self._receiver.done():
            self._receiver = self.loop.create_task(self._receive(self.channel))
        if not isinstance(self.layer, InMemoryChannelLayer) and (
            self._watchdog is None or self._watchdog.done()
        ):
            self._watchdog = self.loop.create_task(self._watch())

    async def leave_group(self, group: str) -> None:
        """The last local socket of the group went: the process leaves it (and stops when idle)."""
        join = self._joins.pop(group, None)
        channel = self.channel
        if not self._joins:
            self._stop()
        if join is not None and channel is not None:
            try:
                await join
                await self.layer.group_discard(group, channel)
            except Exception:
                logger.exception("%s could not leave %s", self.name, group)

    def _stop(self) -> None:
        for task in (self._receiver, self._watchdog):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        self._receiver = self._watchdog = None
        self.channel = None

    # --- the layer → handle() ----------------------------------------------------------------------
    async def _receive(self, channel: str) -> None:
        while True:
            try:
                event = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # the layer's connection may be restarting: keep listening
                logger.exception("%s receive failed", self.name)
                await asyncio.sleep(0.5)
                continue
            if event.get("type") == PROBE_TYPE:
                self._probe_back.set()
                continue
            try:
                await self.handle(event)
            except Exception:
                logger.exception("%s delivery failed", self.name)

    async def handle(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

    # --- the watchdog (network layers) -----------------------------------------------------------
    async def _watch(self) -> None:
        with suppress(Exception):
            self._server_ids = await self._read_server_ids()
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            if await self.probe():
                continue
            logger.warning("%s: layer subscription lost, joining again", self.name)
            try:
                await self.rejoin()
            except Exception:  # the layer is still down: probe (and try) again next time
                logger.exception("%s could not join again yet", self.name)

    async def _read_server_ids(self) -> tuple[str, ...]:
        """The run_id of each Redis server of the layer: a restart changes it."""
        if self._servers is None:
            from channels_redis.utils import create_pool
            from redis import asyncio as aioredis

            self._servers = [aioredis.Redis(connection_pool=create_pool(h)) for h in _redis_hosts(self.layer)]
        return tuple([str((await server.info("server"))["run_id"]) for server in self._servers])

    async def probe(self) -> bool:
        """True when a probe sent to the process channel comes back in time and the Redis servers
        are the ones of the last probe (a restart between two probes loses what was published)."""
        channel = self.channel
        if channel is None:
            return True
        self._probe_back.clear()
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                ids, known = await self._read_server_ids(), self._server_ids
                self._server_ids = ids
                if known is not None and ids != known:
                    return False
                await self.layer.send(channel, {"type": PROBE_TYPE})
                await self._probe_back.wait()
        except Exception:  # down, timed out or refused: all the same to the sockets
            return False
        return True

    async def rejoin(self) -> None:
        """A new subscription: flush our own layer instance (closes its dead connection), a new
        channel in every group, then `after_rejoin` repairs what was published meanwhile."""
        if self._receiver is not None:
            self._receiver.cancel()
            self._receiver = None
        await self.layer.flush()
        with suppress(Exception):  # the servers this subscription is on, for the next probes
            self._server_ids = await self._read_server_ids()
        channel = await self.layer.new_channel()
        for group in list(self._joins):
            await self.layer.group_add(group, channel)
        self.channel = channel
        self._receiver = self.loop.create_task(self._receive(channel))
        self.resets += 1
        await self.after_rejoin()

    async def after_rejoin(self) -> None:
        """What was published while the subscription was dead is lost on the layer."""


class Fanout(GroupReader):
    """Group name → this process's sockets of the group; each published text written to each."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.sockets: dict[str, dict[int, Any]] = {}
        self.on_reset: dict[str, dict[int, ResetCallback]] = {}

    async def join(self, consumer: Any, group: str, on_reset: ResetCallback | None = None) -> None:
        sockets = self.sockets.setdefault(group, {})
        if id(consumer) not in sockets:
            sockets[id(consumer)] = consumer
            mine = getattr(consumer, "fanout_groups", None)
            if mine is None:
                mine = consumer.fanout_groups = set()
                consumer.close_callbacks.append(lambda: self.forget(consumer))
            mine.add(group)
        if on_reset is not None:
            self.on_reset.setdefault(group, {})[id(consumer)] = on_reset
        await self.join_group(group)

    async def leave(self, consumer: Any, group: str) -> None:
        getattr(consumer, "fanout_groups", set()).discard(group)
        self.on_reset.get(group, {}).pop(id(consumer), None)
        sockets = self.sockets.get(group)
        if not sockets or sockets.pop(id(consumer), None) is None or sockets:
            return
        del self.sockets[group]
        self.on_reset.pop(group, None)
        await self.leave_group(group)

    async def forget(self, consumer: Any) -> None:
        for group in list(getattr(consumer, "fanout_groups", ())):
            await self.leave(consumer, group)

    async def handle(self, event: dict[str, Any]) -> None:
        group = event.get("group", "")
        sockets = self.sockets.get(group)
        if not sockets:
            return
        dropped = event.get("drop_users")
        if dropped:
            gone = {int(u) for u in dropped}
            for consumer in [c for c in sockets.values() if getattr(c.user, "pk", None) in gone]:
                await self.leave(consumer, group)
            return
        for consumer in await write(list(sockets.values()), event["text"]):
            await self.leave(consumer, group)

    # The receive loop's entry point under its first name (kept for callers and tests).
    deliver = handle

    async def after_rejoin(self) -> None:
        for group, sockets in list(self.sockets.items()):
            callbacks = self.on_reset.get(group, {})
            plain = [c for key, c in sockets.items() if key not in callbacks]
            await write(plain, serialise({"type": RESET_TYPE, "group": group}))
            for key, callback in list(callbacks.items()):
                consumer = sockets.get(key)
                if consumer is None:
                    continue
                try:
                    await callback(consumer, group)
                except Exception:
                    logger.exception("fan-out reset callback failed for %s", group)

    def local_count(self, group: str) -> int:
        return len(self.sockets.get(group, ()))


_fanout: Fanout | None = None


def process_fanout() -> Fanout:
    """The one Fanout of this process (per event loop: a test runs each case in a fresh loop)."""
    global _fanout
    loop = asyncio.get_running_loop()
    if _fanout is None or _fanout.loop is not loop or loop.is_closed():
        _fanout = Fanout(loop)
    return _fanout


async def join(consumer: Any, group: str, on_reset: ResetCallback | None = None) -> None:
    await process_fanout().join(consumer, group, on_reset)


async def leave(consumer: Any, group: str) -> None:
    await process_fanout().leave(consumer, group)


def local_count(group: str) -> int:
    return _fanout.local_count(group) if _fanout is not None else 0


async def apublish(group: str, frame: dict[str, Any]) -> None:
    await get_channel_layer().group_send(group, event_for(group, frame))


def event_for(group: str, frame: dict[str, Any]) -> dict[str, Any]:
    """The one layer message of a frame: its text, serialised once for every socket."""
    return {"type": EVENT_TYPE, "group": group, "text": serialise(frame)}


def drop_users(group: str, user_ids: list[int]) -> None:
    """Every process stops writing the group to these users' sockets (removed from a room)."""
    send_to_groups([(group, {"type": EVENT_TYPE, "group": group, "drop_users": [int(u) for u in user_ids]})])


def publish(group: str, frame: dict[str, Any]) -> None:
    """From sync code (on_commit): one group_send through the process's push loop."""
    send_to_groups([(group, event_for(group, frame))])
