"""The one websocket, /ws/: one per browser tab, authenticated by the session.

Connect: the origin was checked by OriginValidator (WEBSOCKET_ALLOWED_ORIGINS) and the user
resolved by AuthMiddlewareStack before we run; a socket without a live session is accepted and
closed at once with code 4401, so the browser sees why and stops reconnecting. The socket joins
`user.<id>` and leaves every group it joined when it closes.

Frames from the server (JSON, each with a "type"):
  notification          one notification (fields of Notification.as_frame)
  hello                 reply to the client's hello: {"notifications": [...] (ascending ids),
                        "more": bool, "last_id": int, "unread": int}
  notifications.read    {"ids": [..] or "all", "unread": int}: another tab (or this one) read some
  pong                  reply to {"type": "ping"}
  error                 {"message": "<中文>"}; the connection stays open
  … plus whatever registered handlers send.

Frames from the client:
  {"type": "hello", "last_notification_id": N}  every notification of the user with id > N, in
        order, at most HELLO_LIMIT per reply ("more": true means ask again with the new last id);
        N null means "I have seen nothing yet": only last_id and unread come back.
  {"type": "ping"}
  {"type": "<event>", ...}  routed to officeapp.registries.socket_handlers["<event>"].

Registering a handler (from an app's AppConfig.ready()):

    async def subscribe_meeting(consumer: SocketConsumer, payload: dict) -> None:
        meeting = await database_sync_to_async(meetings_access.get_meeting_for)(consumer.user, payload.get("id"))
        await consumer.join_group(f"meeting.{meeting.pk}")  # access first, then the group

    socket_handlers.register("meeting.subscribe", subscribe_meeting)

A handler receives the consumer (`consumer.user`, `await consumer.send_json(...)`,
`await consumer.join_group(name)`, `await consumer.leave_group(name)`, `await consumer.send_error(msg)`,
`consumer.close_callbacks.append(async_fn)`: awaited without arguments when the socket closes)
and the client's frame as `payload`. It must check access itself before joining a group. An
Http404/PermissionDenied it raises becomes the usual "not found" error frame; any other exception
is logged and answered with a generic error frame; the socket stays open either way. Group
messages whose "type" the consumer has no method for are not delivered, so an app that pushes its
own event types to a group forwards them with the generic type "push" ({"type": "push", "frame": {...}}).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.http import Http404

from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.accounts.middleware import session_fully_signed_in
from officeapp.notify.access import unread_count_for, visible_notifications
from officeapp.notify.relay import LocalConnection, process_sockets, user_group
from officeapp.registries import socket_handlers

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
HELLO_LIMIT = 100
# Ids recently sent on this socket: the relay and the on_commit push may both deliver a row.
SEEN_WINDOW = 512
MAX_FRAME_BYTES = 64 * 1024


def _session_is_live(scope: dict[str, Any]) -> bool:
    user = scope.get("user")
    session = scope.get("session")
    if user is None or not user.is_authenticated or session is None:
        return False
    # The page rules, applied once at connect: timeouts, "sign out everywhere", the second factor
    # and the first password change (an administrator without TOTP gets no socket either).
    return session_fully_signed_in(session, user)


def _replay(user: Any, last_id: int | None) -> dict[str, Any]:
    qs = visible_notifications(user)
    latest = qs.order_by("-id").values_list("id", flat=True).first() or 0
    unread = unread_count_for(user)
    if last_id is None:
        return {"type": "hello", "notifications": [], "more": False, "last_id": latest, "unread": unread}
    rows = list(qs.filter(id__gt=last_id).order_by("id")[: HELLO_LIMIT + 1])
    more = len(rows) > HELLO_LIMIT
    rows = rows[:HELLO_LIMIT]
    return {
        "type": "hello",
        "notifications": [row.as_frame() for row in rows],
        "more": more,
        "last_id": rows[-1].pk if rows else max(last_id, 0),
        "unread": unread,
    }


# What officeapp.registries.socket_handlers holds (see the module docstring).
SocketHandler = Callable[["SocketConsumer", dict[str, Any]], Awaitable[None]]


class SocketConsumer(AsyncJsonWebsocketConsumer):
    user: Any
    connection: LocalConnection | None = None

    async def connect(self) -> None:
        self.groups_joined: set[str] = set()
        self.close_callbacks: list[Callable[[], Awaitable[None]]] = []
        self.seen_ids: OrderedDict[int, None] = OrderedDict()
        if not await database_sync_to_async(_session_is_live)(self.scope):
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = self.scope["user"]
        try:
            self.connection = await process_sockets().arrive(self.user.pk, self.close)
            await self.join_group(user_group(self.user.pk))
        except Exception:
            # The layer or cache is down (Redis restarting): refuse the handshake, so the browser
            # backs off and tries again, and keep no half-registered socket in this process.
            logger.warning("socket refused: the channel layer is unavailable", exc_info=True)
            if self.connection is not None:
                await process_sockets().leave(self.connection)
                self.connection = None
            await self.close()
            return
        # Accepted only now: the client's hello (and anything pushed) comes after the group join.
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for callback in getattr(self, "close_callbacks", ()):
            try:
                await callback()
            except Exception:
                logger.exception("socket close callback failed")
        for group in list(getattr(self, "groups_joined", ())):
            await self.leave_group(group)
        if self.connection is not None:
            await process_sockets().leave(self.connection)
            self.connection = None

    # --- for registered handlers ------------------------------------------------------------
    async def join_group(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def leave_group(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined.discard(group)

    async def send_error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})

    # --- from the browser -------------------------------------------------------------------
    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if self.connection is None:
            return  # closing: an unauthenticated socket gets nothing
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self.send_error("消息格式无效：只接受 JSON 文本。")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("消息格式无效：只接受 JSON 文本。")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if not isinstance(kind, str) or not kind:
            await self.send_error("消息缺少类型（type）。")
            return
        if kind == "hello":
            await self._hello(content)
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            handler: SocketHandler | None = socket_handlers.get(kind)
            if handler is None:
                await self.send_error(f"未知的消息类型：{kind[:40]}")
                return
            try:
                await handler(self, content)
            except (Http404, PermissionDenied):
                await self.send_error(NOT_FOUND_MESSAGE)
            except Exception:
                logger.exception("socket handler %s failed", kind)
                await self.send_error("处理失败，请稍后重试。")

    async def _hello(self, content: dict[str, Any]) -> None:
        raw = content.get("last_notification_id")
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int) or raw < 0):
            await self.send_error("last_notification_id 必须是非负整数。")
            return
        reply = await database_sync_to_async(_replay)(self.user, raw)
        for frame in reply["notifications"]:
            self._remember(frame["id"])
        await self.send_json(reply)

    def _remember(self, notification_id: int) -> bool:
        """True when the id is new on this socket."""
        if notification_id in self.seen_ids:
            return False
        self.seen_ids[notification_id] = None
        if len(self.seen_ids) > SEEN_WINDOW:
            self.seen_ids.popitem(last=False)
        return True

    # --- from the channel layer (group messages; "a.b" calls a_b) ----------------------------
    async def notification(self, event: dict[str, Any]) -> None:
        if self._remember(event["id"]):
            await self.send_json(event)

    async def notifications_read(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    async def push(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])

    async def session_end(self, event: dict[str, Any]) -> None:
        """group_send(user_group(id), {"type": "session.end"}) after "sign out everywhere"."""
        await self.close(code=CLOSE_UNAUTHENTICATED)
