"""The live meeting room over the one socket /ws/: the handlers of its frames (protocol in
meetings.live_services and the issue 8 contract; frames are built there).

  meeting.join {meeting}         access (Http404 → the usual not-found frame), then this socket
                                 joins the room's fan-out group, then its presence row is written
                                 and the whole state comes back at once (meeting.state): a socket
                                 that reconnects sends meeting.join again and is up to date.
  meeting.leave {meeting}
  meeting.turn {meeting, agenda_item?, material?, page?}          host
  meeting.hand {meeting, raised}
  meeting.hand.decide {meeting, hand, allow}                      host
  meeting.mute_all {meeting, muted}                               host
  meeting.remove {meeting, user}                                  host
  meeting.end {meeting}                                           host
  meeting.chat {meeting, body, client_id}
  meeting.vote.open {meeting, title, anonymous}                   host
  meeting.vote.cast {meeting, vote, choice}
  meeting.vote.close {meeting, vote}                              host

A refusal (MeetingError) is answered with {"type": "error", "message": <中文>, "meeting": id,
"request": <the frame's type>}; the socket stays open.

Stale presence. A presence row is deleted when its socket closes (close callback). A process that
crashes deletes nothing, so each process runs a heartbeat while it holds live-room sockets: every
PRESENCE_HEARTBEAT_SECONDS one UPDATE refreshes `seen_at` of its own sockets' rows, and one sweep
deletes rows nobody refreshed for PRESENCE_STALE_AFTER (three beats) and publishes "left" for their
people. Readers ignore rows older than that anyway, so a dead process's sockets drop out of the
room within three minutes even before a sweep runs. Why not the alternatives: a client heartbeat
costs a frame and a write per socket per beat (300 writes a minute in a full room, and the
benchmark's raw clients would have to send it); "the process's own list at startup" finds nothing
when the crashed process never restarts, and with several daphne processes no process can tell
which rows of others are dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.http import Http404

from meetings import access, live_services
from meetings.errors import MeetingError
from meetings.groups import room_group
from meetings.models import Meeting
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.notify import fanout
from officeapp.registries import socket_handlers

logger = logging.getLogger(__name__)


def _meeting_id(payload: dict[str, Any]) -> int:
    pk = access.parse_id(payload.get("meeting"))
    if pk is None:
        raise Http404(NOT_FOUND_MESSAGE)
    return pk


async def _refuse(consumer: Any, payload: dict[str, Any], message: str) -> None:
    await consumer.send_json(
        {
            "type": "error",
            "message": message,
            "meeting": payload.get("meeting"),
            "request": payload.get("type"),
        }
    )


# --- presence: join, leave, close ---------------------------------------------------------------


def _enter(user: Any, meeting_id: int, channel: str) -> dict[str, Any]:
    meeting = access.get_meeting_for(user, meeting_id)
    state = live_services.enter_room(meeting, actor=user, channel=channel)
    _check_in(meeting, user)
    return state


def _check_in(meeting: Meeting, user: Any) -> None:
    """Entering the live room is a check-in (meetings.checkin, helper C's area: idempotent)."""
    try:
        from meetings import checkin
    except ImportError:
        return
    check_in_live = getattr(checkin, "check_in_live", None)
    if check_in_live is None:
        return
    # The host or organiser may have no Rsvp: nothing to check in then.
    with contextlib.suppress(MeetingError):
        check_in_live(meeting, actor=user)


def _may_enter(user: Any, meeting_id: int) -> None:
    live_services.get_room_for(user, meeting_id)


def _state_again(user: Any, meeting_id: int) -> dict[str, Any] | None:
    """The room's state for a socket whose fan-out was just re-subscribed; None when the person may
    no longer be in the room (removed, the meeting ended meanwhile)."""
    try:
        meeting = live_services.get_room_for(user, meeting_id)
    except (Http404, MeetingError):
        return None
    return live_services.room_state(meeting, user)


async def _send_state_again(consumer: Any, group: str, *, meeting_id: int) -> None:
    """on_reset of the room's fan-out (a Redis restart, D35): what may have been published while the
    subscription was down is in the database, so the socket gets the whole state again at once."""
    state = await database_sync_to_async(_state_again)(consumer.user, meeting_id)
    if state is None:
        await _leave(consumer, meeting_id)
        return
    await consumer.send_json(state)


async def handle_join(consumer: Any, payload: dict[str, Any]) -> None:
    meeting_id = _meeting_id(payload)
    try:
        # Access first, then the group, then the snapshot: a change published between the two is
        # delivered and the snapshot (with its version) is at least as new as anything before it.
        await database_sync_to_async(_may_enter)(consumer.user, meeting_id)
        group = room_group(meeting_id)
        await fanout.join(
            consumer, group, on_reset=functools.partial(_send_state_again, meeting_id=meeting_id)
        )
        try:
            state = await database_sync_to_async(_enter)(consumer.user, meeting_id, consumer.channel_name)
        except BaseException:
            await fanout.leave(consumer, group)
            raise
    except MeetingError as error:
        await _refuse(consumer, payload, error.message)
        return
    rooms: set[int] | None = getattr(consumer, "meeting_rooms", None)
    if rooms is None:
        rooms = consumer.meeting_rooms = set()
        consumer.close_callbacks.append(lambda: _on_close(consumer))
    rooms.add(meeting_id)
    _heartbeat().watch(consumer)
    await consumer.send_json(state)


async def _on_close(consumer: Any) -> None:
    for meeting_id in list(getattr(consumer, "meeting_rooms", ())):
        await _leave(consumer, meeting_id)
    _heartbeat().forget(consumer)


async def _leave(consumer: Any, meeting_id: int) -> None:
    getattr(consumer, "meeting_rooms", set()).discard(meeting_id)
    await fanout.leave(consumer, room_group(meeting_id))
    await database_sync_to_async(live_services.leave_room)(
        meeting_id, actor=consumer.user, channel=consumer.channel_name
    )


async def handle_leave(consumer: Any, payload: dict[str, Any]) -> None:
    meeting_id = _meeting_id(payload)
    if meeting_id in getattr(consumer, "meeting_rooms", ()):
        await _leave(consumer, meeting_id)


# --- everything else: one service call each ----------------------------------------------------

Action = Callable[[Meeting, Any, dict[str, Any]], Any]


def _run(user: Any, meeting_id: int, action: Action, payload: dict[str, Any]) -> None:
    meeting = access.get_meeting_for(user, meeting_id)
    action(meeting, user, payload)


def _handler(action: Action) -> Callable[[Any, dict[str, Any]], Awaitable[None]]:
    async def handle(consumer: Any, payload: dict[str, Any]) -> None:
        meeting_id = _meeting_id(payload)
        try:
            await database_sync_to_async(_run)(consumer.user, meeting_id, action, payload)
        except MeetingError as error:
            await _refuse(consumer, payload, error.message)

    return handle


def _page_fields(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: payload[key] for key in ("agenda_item", "material", "page") if key in payload}


ACTIONS: dict[str, Action] = {
    "meeting.turn": lambda m, u, p: live_services.turn(m, actor=u, **_page_fields(p)),
    "meeting.hand": lambda m, u, p: live_services.raise_hand(m, actor=u, raised=p.get("raised") is not False),
    "meeting.hand.decide": lambda m, u, p: live_services.decide_hand(
        m, actor=u, hand_id=p.get("hand"), allow=p.get("allow") is True
    ),
    "meeting.mute_all": lambda m, u, p: live_services.mute_all(m, actor=u, muted=p.get("muted") is not False),
    "meeting.remove": lambda m, u, p: live_services.remove_participant(m, actor=u, user_id=p.get("user")),
    "meeting.end": lambda m, u, p: live_services.end_meeting(m, actor=u),
    "meeting.chat": lambda m, u, p: live_services.send_message(
        m, actor=u, body=p.get("body"), client_id=p.get("client_id", "")
    ),
    "meeting.vote.open": lambda m, u, p: live_services.open_vote(
        m, actor=u, title=p.get("title"), anonymous=p.get("anonymous") is True
    ),
    "meeting.vote.cast": lambda m, u, p: live_services.cast_vote(
        m, actor=u, vote_id=p.get("vote"), choice=p.get("choice")
    ),
    "meeting.vote.close": lambda m, u, p: live_services.close_vote(m, actor=u, vote_id=p.get("vote")),
}


# --- the process heartbeat of presence rows (module docstring) -------------------------------------


class Heartbeat:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.consumers: dict[int, Any] = {}
        self.task: asyncio.Task[None] | None = None

    def watch(self, consumer: Any) -> None:
        self.consumers[id(consumer)] = consumer
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())

    def forget(self, consumer: Any) -> None:
        self.consumers.pop(id(consumer), None)
        if not self.consumers and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        while self.consumers:
            await asyncio.sleep(live_services.PRESENCE_HEARTBEAT_SECONDS)
            await self.beat()

    async def beat(self) -> None:
        channels = [c.channel_name for c in self.consumers.values() if getattr(c, "meeting_rooms", None)]
        try:
            await database_sync_to_async(live_services.touch_presences)(channels)
            await database_sync_to_async(live_services.sweep_stale_presences)()
        except Exception:
            logger.exception("live-room presence heartbeat failed")


_heartbeat_instance: Heartbeat | None = None


def _heartbeat() -> Heartbeat:
    global _heartbeat_instance
    loop = asyncio.get_running_loop()
    if _heartbeat_instance is None or _heartbeat_instance.loop is not loop or loop.is_closed():
        _heartbeat_instance = Heartbeat(loop)
    return _heartbeat_instance


def register() -> None:
    """Registrations into the lower apps' registries (called from MeetingsConfig.ready())."""
    from meetings.demo_live import build_live_demo
    from officeapp.registries import demo_builders

    socket_handlers.register("meeting.join", handle_join)
    socket_handlers.register("meeting.leave", handle_leave)
    for kind, action in ACTIONS.items():
        socket_handlers.register(kind, _handler(action))
    demo_builders.register("72-meetings-live", build_live_demo)
