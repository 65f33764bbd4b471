"""The per-process fan-out of chat frames: one layer subscription per conversation and process,
one pre-serialised text written to each local socket.

Each daphne process (per event loop) keeps one Hub: conversation id → the local sockets subscribed
to it. On the first local subscriber the hub joins the conversation's group `chat.c.<id>` with ONE
process channel (channel_layer.new_channel()) read by ONE receive loop. A publish (chat.live) is one
group_send of the frame already serialised to JSON text; the loop writes that same text to every
local socket of the conversation: no layer message per socket, no json.dumps per socket. This is
what keeps a 300-member group fast (tests/bench/test_chat_fanout_bench.py); the bare channels way
(every socket in the group with its own channel) costs a queue, a task wake-up and a dispatch per
socket and per frame.

Exactly once and in order, per socket and conversation (`Subscription.last_seq`):
- catch-up (chat.subscribe) joins the live fan-out FIRST, then reads history; live frames that
  arrive meanwhile are buffered and flushed afterwards, those with seq ≤ the last one sent dropped;
- a live message whose seq is not last_seq + 1 (a publish lost while Redis restarted, two senders'
  publishes crossing) starts a catch-up from the database for that socket instead of a hole;
- frames without a seq (typing, read, recall, conversation changes) go out as they come.

Redis restarting: the hub is a GroupReader (officeapp.notify.fanout): it reads through a layer
instance of its own, and a watchdog probes it every 2 s (a probe to its own channel must come back,
Redis's run_id must be unchanged). A lost probe or a new run_id makes it flush its layer, take a new
channel, join its conversations' groups again and fill every socket's hole from the database
(frames published meanwhile are lost on the layer, not in the database). The in-memory layer cannot
lose anything and has no watchdog.

Membership loss: a "drop" event through the conversation group (chat.live.drop_members, sent by
publish_to_users for a "removed" conversation frame) makes every hub forget that user's sockets
before it writes any later frame; catch-up re-checks membership each time it reads.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from django.http import Http404

from chat import access, frames, history
from officeapp.notify.fanout import GroupReader, serialise, write

logger = logging.getLogger(__name__)

CATCHUP_PAGE = 200


def conversation_group(conversation_id: int) -> str:
    return f"chat.c.{int(conversation_id)}"


@dataclass(eq=False)
class Subscription:
    """One socket's subscription to one conversation."""

    consumer: Any
    user_id: int
    conversation_id: int
    last_seq: int
    # Not None while a catch-up runs: live (seq, text) frames wait here in arrival order.
    buffer: list[tuple[int | None, str]] | None = None
    # A catch-up page was full: the client asks again ("more"), so numbered frames wait till then.
    paused: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    active: bool = True


def _page(user: Any, conversation_id: int, after_seq: int, limit: int) -> tuple[list[dict], bool, int] | None:
    """One page of catch-up as message frames, re-checking membership; None when not a member."""
    try:
        membership = access.get_membership_for(user, conversation_id)
    except Http404:
        return None
    # A client claiming more than there is (or less than it may see) reads from what is real.
    after = min(max(int(after_seq), membership.joined_seq), membership.conversation.last_seq)
    rows, more = history.messages_after(membership, after, limit)
    floor = membership.joined_seq
    return [frames.message_frame(m, hide_before=floor) for m in rows], more, (rows[-1].seq if rows else after)


class Hub(GroupReader):
    """Conversation id → this process's subscriptions; the layer, receive loop and Redis watchdog
    are officeapp.notify.fanout's GroupReader (shared with the live meeting room), the seq logic
    is here."""

    name = "chat hub"

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.subscriptions: dict[int, dict[int, Subscription]] = {}

    # --- sockets coming and going -----------------------------------------------------------
    def subscription(self, consumer: Any, conversation_id: int) -> Subscription | None:
        return self.subscriptions.get(conversation_id, {}).get(id(consumer))

    async def subscribe(self, consumer: Any, conversation_id: int, last_seq: int) -> Subscription:
        """Join the live fan-out (the process joins the group once); returns the socket's
        subscription, in catch-up state (frames buffered) until `catch_up` flushes it."""
        subs = self.subscriptions.setdefault(conversation_id, {})
        sub = subs.get(id(consumer))
        if sub is None:
            sub = Subscription(consumer, consumer.user.pk, conversation_id, last_seq, buffer=[])
            subs[id(consumer)] = sub
            mine = getattr(consumer, "chat_subscriptions", None)
            if mine is None:
                mine = consumer.chat_subscriptions = {}
                consumer.close_callbacks.append(lambda: self.forget(consumer))
            mine[conversation_id] = sub
        # Every subscriber waits for the group join: a frame published after that is not missed.
        await self.join_group(conversation_group(conversation_id))
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        sub.active = False
        getattr(sub.consumer, "chat_subscriptions", {}).pop(sub.conversation_id, None)
        subs = self.subscriptions.get(sub.conversation_id)
        if subs is None or subs.get(id(sub.consumer)) is not sub:
            return
        del subs[id(sub.consumer)]
        if not subs:
            del self.subscriptions[sub.conversation_id]
            await self.leave_group(conversation_group(sub.conversation_id))

    async def forget(self, consumer: Any) -> None:
        """The socket closed: all of its subscriptions go."""
        for sub in list(getattr(consumer, "chat_subscriptions", {}).values()):
            await self.unsubscribe(sub)

    async def after_rejoin(self) -> None:
        # What was published while the subscription was dead is only in the database now.
        for subs in list(self.subscriptions.values()):
            for sub in list(subs.values()):
                self.loop.create_task(self.catch_up(sub, page_only=False))

    # --- the layer → the sockets ------------------------------------------------------------
    async def handle(self, event: dict[str, Any]) -> None:
        subs = self.subscriptions.get(int(event.get("conversation") or 0))
        if not subs:
            return
        dropped = event.get("drop_users")
        if dropped:
            gone = set(dropped)
            for sub in [s for s in subs.values() if s.user_id in gone]:
                await self.unsubscribe(sub)
            return
        text: str = event["text"]
        seq: int | None = event.get("seq")
        skip_user = event.get("except_user")
        ready: list[Subscription] = []
        for sub in list(subs.values()):
            if sub.user_id == skip_user or not sub.active:
                continue
            if sub.buffer is not None:
                sub.buffer.append((seq, text))
                continue
            if seq is not None:
                if sub.paused or seq <= sub.last_seq:
                    continue
                if seq > sub.last_seq + 1:
                    # A hole: read it from the database for this socket, this frame after it.
                    sub.buffer = [(seq, text)]
                    self.loop.create_task(self.catch_up(sub, page_only=False))
                    continue
                sub.last_seq = seq
            ready.append(sub)
        failed = await write([sub.consumer for sub in ready], text)
        for sub in [s for s in ready if s.consumer in failed]:
            await self.unsubscribe(sub)

    # The receive loop's entry point under its first name (kept for callers and tests).
    deliver = handle

    # --- catch-up -----------------------------------------------------------------------------
    async def catch_up(self, sub: Subscription, *, page_only: bool, rewind_to: int | None = None) -> bool:
        """Send what the socket missed after sub.last_seq as chat.catchup frames, then the buffered
        live frames in order, once; False (and the subscription gone) when no longer a member.

        page_only (the client's chat.subscribe): one page; if it is full ("more") the socket's
        numbered live frames wait for the client's next subscribe. Otherwise (a hole in the live
        stream) pages until the hole is filled."""
        async with sub.lock:
            if not sub.active:
                return False
            if sub.buffer is None:
                sub.buffer = []
            if rewind_to is not None:
                sub.last_seq = rewind_to
            sub.paused = False
            first = True
            while True:
                page = await database_sync_to_async(_page)(
                    sub.consumer.user, sub.conversation_id, sub.last_seq, CATCHUP_PAGE
                )
                if page is None:
                    await self.unsubscribe(sub)
                    sub.buffer = None
                    return False
                messages, more, last = page
                progressed = last > sub.last_seq
                if messages or (first and page_only):
                    await sub.consumer.send(
                        text_data=serialise(
                            {
                                "type": "chat.catchup",
                                "conversation": sub.conversation_id,
                                "messages": messages,
                                "more": more,
                                "last_seq": last,
                            }
                        )
                    )
                first = False
                sub.last_seq = last
                if more:
                    if page_only:
                        sub.paused = True
                        sub.buffer = None
                        return True
                    continue
                if await self._flush(sub, progressed):
                    sub.buffer = None
                    return True

    async def _flush(self, sub: Subscription, progressed: bool) -> bool:
        """Write the buffered frames; False when a hole remains (read the database again)."""
        assert sub.buffer is not None
        while sub.buffer:
            seq, text = sub.buffer[0]
            if seq is not None:
                if seq <= sub.last_seq:
                    sub.buffer.pop(0)
                    continue
                # A hole the last read could not fill cannot be filled: go on rather than loop.
                if seq > sub.last_seq + 1 and progressed:
                    return False
                sub.last_seq = seq
            sub.buffer.pop(0)
            await sub.consumer.send(text_data=text)
        return True


_hub: Hub | None = None


def process_hub() -> Hub:
    """The one Hub of this process (per event loop: a test runs each case in a fresh loop)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop or loop.is_closed():
        _hub = Hub(loop)
    return _hub
