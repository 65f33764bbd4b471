"""Per-process fan-out of one frame to many local sockets: one layer subscription per group and
daphne process, one pre-serialised text written to each local socket of the group.

The bare channels way (every socket joins the group with its own channel) costs a layer message,
a queue, a task wake-up and a JSON encoding per socket and per frame. Here a publish is ONE
group_send of text already serialised; each process that holds sockets of the group joined it
once, with one process channel read by one receive loop, and writes that same text to each of its
sockets. The live meeting room (meetings.live) uses it; chat keeps its own hub (chat.hub) for its
numbered, exactly-once message stream.

API (async ones from socket handlers, publish from sync code after commit):

    await join(consumer, "meeting.12")     # this socket now receives what is published to the group
    await leave(consumer, "meeting.12")    # (and every group is left when the socket closes)
    publish("meeting.12", frame)           # from transaction.on_commit or any sync code
    await apublish("meeting.12", frame)
    local_count("meeting.12")              # sockets of the group in this process
    drop_users("meeting.12", [uid])        # every process stops writing the group to these users

(first version: no Redis-restart watchdog yet — being hardened under issue 8)
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.layers import get_channel_layer

from officeapp.notify.push import send_to_groups

logger = logging.getLogger(__name__)

EVENT_TYPE = "fanout.text"


def serialise(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


class Fanout:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.sockets: dict[str, dict[int, Any]] = {}
        self._joins: dict[str, asyncio.Task[None]] = {}
        self._receiver: asyncio.Task[None] | None = None

    async def join(self, consumer: Any, group: str) -> None:
        sockets = self.sockets.setdefault(group, {})
        if id(consumer) not in sockets:
            sockets[id(consumer)] = consumer
            mine = getattr(consumer, "fanout_groups", None)
            if mine is None:
                mine = consumer.fanout_groups = set()
                consumer.close_callbacks.append(lambda: self.forget(consumer))
            mine.add(group)
        join = self._joins.get(group)
        if join is None or (join.done() and (join.cancelled() or join.exception() is not None)):
            self._joins[group] = self.loop.create_task(self._join(group))
        await asyncio.shield(self._joins[group])

    async def _join(self, group: str) -> None:
        if self.channel is None:
            self.channel = await self.layer.new_channel()
        await self.layer.group_add(group, self.channel)
        if self._receiver is None or self._receiver.done():
            self._receiver = self.loop.create_task(self._receive(self.channel))

    async def leave(self, consumer: Any, group: str) -> None:
        getattr(consumer, "fanout_groups", set()).discard(group)
        sockets = self.sockets.get(group)
        if not sockets or sockets.pop(id(consumer), None) is None or sockets:
            return
        del self.sockets[group]
        join = self._joins.pop(group, None)
        if join is not None and self.channel is not None:
            try:
                await join
                await self.layer.group_discard(group, self.channel)
            except Exception:
                logger.exception("fan-out could not leave %s", group)

    async def forget(self, consumer: Any) -> None:
        for group in list(getattr(consumer, "fanout_groups", ())):
            await self.leave(consumer, group)

    async def _receive(self, channel: str) -> None:
        while True:
            try:
                event = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("fan-out receive failed")
                await asyncio.sleep(0.5)
                continue
            await self.deliver(event)

    async def deliver(self, event: dict[str, Any]) -> None:
        sockets = self.sockets.get(event.get("group", ""))
        if not sockets:
            return
        dropped = event.get("drop_users")
        if dropped:
            gone = {int(u) for u in dropped}
            for consumer in [c for c in sockets.values() if getattr(c.user, "pk", None) in gone]:
                await self.leave(consumer, event["group"])
            return
        out = {"type": "websocket.send", "text": event["text"]}
        for consumer in list(sockets.values()):
            try:
                await consumer.base_send(out)
            except Exception:
                logger.exception("fan-out could not write to a socket")

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


async def join(consumer: Any, group: str) -> None:
    await process_fanout().join(consumer, group)


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
