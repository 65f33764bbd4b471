"""Chat over the one socket /ws/: what services push after commit, and the socket handlers.

Pushing (from services, in transaction.on_commit):
- publish(conversation_id, frame): the frame is serialised ONCE and sent as ONE layer message to
  the conversation's group `chat.c.<id>`; each daphne process holding sockets of that conversation
  joined the group with one process channel (chat.hub) and writes that same text to each of them.
- publish_to_users(user_ids, frame): through each user's own group `user.<id>` ("push"), for news
  about a conversation they are not subscribed to (added, removed). A "chat.conversation" frame with
  event "removed" also tells every process to drop those users' subscriptions to it at once.

Protocol (client → server over /ws/; server → client frames are JSON text, each with a "type"):

  {"type": "chat.subscribe", "conversations": {"<id>": <last seq the client has>, ...}}
  {"type": "chat.subscribe", "all": true, "since": {"<id>": <last seq>, ...}}
      every conversation of the user; one not in "since" is caught up from its newest page
      → per conversation: membership checked, live fan-out joined, then
        {"type": "chat.catchup", "conversation": id, "messages": [message frames ascending],
         "more": bool, "last_seq": n}
        "more": true → the client subscribes again with {"<id>": last_seq}; live messages of
        that conversation wait until then. Then live frames follow, each seq exactly once and in
        order on this socket (the client de-duplicates by seq too).
      → not a member: {"type": "error", "message": NOT_FOUND_MESSAGE, "conversation": id}
  {"type": "chat.unsubscribe", "conversations": [ids]}
  {"type": "chat.typing", "conversation": id}        at most one a second per socket; relayed
      to the other members' subscribed sockets as {"type": "chat.typing", "conversation": id,
      "user": uid, "name": str}
  {"type": "chat.read", "conversation": id, "seq": n}   services.mark_read (which pushes chat.read)

Live frames (built by chat.services / chat.frames): chat.message {"conversation", "message"},
chat.recalled {"conversation", "message"}, chat.read {"conversation", "user", "seq"},
chat.typing, chat.conversation {"conversation", "event": added|updated|removed|dissolved}.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.http import Http404

from chat import access, hub
from chat.errors import ChatError
from chat.hub import conversation_group, serialise
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.notify.push import send_to_groups
from officeapp.notify.relay import user_group
from officeapp.registries import socket_handlers

logger = logging.getLogger(__name__)

# Conversation frames after which the user's sockets no longer get the conversation.
DROP_EVENTS = frozenset({"removed", "left"})


def fanout_event(conversation_id: int, frame: dict[str, Any]) -> dict[str, Any]:
    """The one layer message of a frame: its text, and the seq the hubs order and de-duplicate by
    (only new messages carry one; a recall re-sends an old message and must not be dropped)."""
    seq = None
    if frame.get("type") == "chat.message":
        seq = int(frame["message"]["seq"])
    return {"type": "chat.fanout", "conversation": int(conversation_id), "seq": seq, "text": serialise(frame)}


def publish(conversation_id: int, frame: dict[str, Any]) -> None:
    """Send a frame to every subscribed socket of the conversation (call from on_commit)."""
    send_to_groups([(conversation_group(conversation_id), fanout_event(conversation_id, frame))])


def publish_to_users(user_ids: Iterable[int], frame: dict[str, Any]) -> None:
    """Send a frame to every socket of each user, subscribed or not (call from on_commit)."""
    user_ids = [int(uid) for uid in user_ids]
    sends: list[tuple[str, dict[str, Any]]] = []
    conversation_id = _conversation_id_of(frame)
    if frame.get("type") == "chat.conversation" and frame.get("event") in DROP_EVENTS and conversation_id:
        # First: no process writes another frame of it to them, whatever comes next.
        sends.append((conversation_group(conversation_id), _drop_event(conversation_id, user_ids)))
    sends += [(user_group(uid), {"type": "push", "frame": frame}) for uid in user_ids]
    send_to_groups(sends)


def drop_members(conversation_id: int, user_ids: Iterable[int]) -> None:
    """Every process stops writing the conversation to these users' sockets (removed, left)."""
    send_to_groups([(conversation_group(conversation_id), _drop_event(conversation_id, user_ids))])


def _drop_event(conversation_id: int, user_ids: Iterable[int]) -> dict[str, Any]:
    return {
        "type": "chat.fanout",
        "conversation": int(conversation_id),
        "drop_users": [int(u) for u in user_ids],
    }


def _conversation_id_of(frame: dict[str, Any]) -> int | None:
    conversation = frame.get("conversation")
    value = conversation.get("id") if isinstance(conversation, dict) else conversation
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


# --- socket handlers (officeapp.registries.socket_handlers) -----------------------------------------
TYPING_INTERVAL_SECONDS = 1.0
SUBSCRIBE_MAX_CONVERSATIONS = 500


def _seq(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= access.MAX_ID:
        return None
    return value


def _conversation_id(value: Any) -> int | None:
    return access.parse_id(value)


def _is_member(user: Any, conversation_id: int) -> bool:
    return access.current_memberships(user).filter(conversation_id=conversation_id).exists()


def _all_conversations(user: Any) -> dict[int, int]:
    """Every current conversation of the user → the seq a client that has nothing starts after
    (the newest page: at most one catch-up page back)."""
    rows = access.current_memberships(user).values_list(
        "conversation_id", "conversation__last_seq", "joined_seq"
    )[:SUBSCRIBE_MAX_CONVERSATIONS]
    return {cid: max(joined, last - hub.CATCHUP_PAGE) for cid, last, joined in rows}


async def _not_found(consumer: Any, conversation_id: Any) -> None:
    await consumer.send_json({"type": "error", "message": NOT_FOUND_MESSAGE, "conversation": conversation_id})


async def handle_subscribe(consumer: Any, payload: dict[str, Any]) -> None:
    if payload.get("all") is True:
        since = payload.get("since") if isinstance(payload.get("since"), dict) else {}
        wanted = await database_sync_to_async(_all_conversations)(consumer.user)
        for key, value in since.items():
            cid, seq = _conversation_id(key), _seq(value)
            if cid in wanted and seq is not None:
                wanted[cid] = seq
        checked = True
    else:
        asked = payload.get("conversations")
        if not isinstance(asked, dict) or not asked or len(asked) > SUBSCRIBE_MAX_CONVERSATIONS:
            await consumer.send_error("chat.subscribe 需要 conversations：{会话编号: 已有的最后序号}。")
            return
        wanted = {}
        for key, value in asked.items():
            cid, seq = _conversation_id(key), _seq(value)
            if cid is None or seq is None:
                await _not_found(consumer, key)
                continue
            wanted[cid] = seq
        checked = False
    the_hub = hub.process_hub()
    for cid, seq in wanted.items():
        # Access first; then the live fan-out; then history (catch_up re-checks membership).
        if not checked and not await database_sync_to_async(_is_member)(consumer.user, cid):
            await _not_found(consumer, cid)
            continue
        sub = await the_hub.subscribe(consumer, cid, seq)
        if not await the_hub.catch_up(sub, page_only=True, rewind_to=seq):
            await _not_found(consumer, cid)


async def handle_unsubscribe(consumer: Any, payload: dict[str, Any]) -> None:
    asked = payload.get("conversations")
    if not isinstance(asked, list):
        await consumer.send_error("chat.unsubscribe 需要 conversations：[会话编号]。")
        return
    the_hub = hub.process_hub()
    for value in asked:
        cid = _conversation_id(value)
        sub = the_hub.subscription(consumer, cid) if cid is not None else None
        if sub is not None:
            await the_hub.unsubscribe(sub)


async def handle_typing(consumer: Any, payload: dict[str, Any]) -> None:
    cid = _conversation_id(payload.get("conversation"))
    if cid is None:
        raise Http404(NOT_FOUND_MESSAGE)
    now = time.monotonic()
    if now - getattr(consumer, "chat_typed_at", -TYPING_INTERVAL_SECONDS) < TYPING_INTERVAL_SECONDS:
        return  # at most one a second per socket: the others' indicators last longer than that
    if hub.process_hub().subscription(consumer, cid) is None and not await database_sync_to_async(_is_member)(
        consumer.user, cid
    ):
        raise Http404(NOT_FOUND_MESSAGE)
    consumer.chat_typed_at = now
    user = consumer.user
    frame = {"type": "chat.typing", "conversation": cid, "user": user.pk, "name": str(user)}
    event = {**fanout_event(cid, frame), "except_user": user.pk}
    await get_channel_layer().group_send(conversation_group(cid), event)


def _mark_read(user: Any, conversation_id: Any, seq: int) -> None:
    from chat import services

    conversation = access.get_conversation_for(user, conversation_id)
    services.mark_read(conversation, actor=user, seq=seq)


async def handle_read(consumer: Any, payload: dict[str, Any]) -> None:
    cid, seq = _conversation_id(payload.get("conversation")), _seq(payload.get("seq"))
    if cid is None:
        raise Http404(NOT_FOUND_MESSAGE)
    if seq is None:
        await consumer.send_error("chat.read 需要 seq：非负整数。")
        return
    try:
        await database_sync_to_async(_mark_read)(consumer.user, cid, seq)
    except ChatError as error:
        await consumer.send_error(error.message)


def register() -> None:
    """Registrations into officeapp's registries, called once from ChatConfig.ready()."""
    socket_handlers.register("chat.subscribe", handle_subscribe)
    socket_handlers.register("chat.unsubscribe", handle_unsubscribe)
    socket_handlers.register("chat.typing", handle_typing)
    socket_handlers.register("chat.read", handle_read)
