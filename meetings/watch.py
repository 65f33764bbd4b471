"""The organiser's live statistics over /ws/: {"type": "meeting.stats.watch", "meeting": id}.

Only someone who may manage the meeting (organiser, the agency's 会议管理员) subscribes; anyone
else — and a meeting that does not exist — gets the same not-found error frame. The socket joins
the fan-out group meetings.groups.stats_group(id) and gets the current figures at once; every
change of replies or check-ins pushes fresh ones (meetings.stats.push_stats, after commit).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.http import Http404

from meetings import access
from meetings.groups import stats_group
from meetings.stats import stats_frame
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.notify import fanout


def _managed_meeting_id(user: Any, meeting_id: Any) -> int:
    meeting = access.get_meeting_for(user, meeting_id)
    if not access.can_manage_meeting(user, meeting):
        raise Http404(NOT_FOUND_MESSAGE)
    return meeting.pk


async def _send_stats(consumer: Any, group: str) -> None:
    """The current figures; also after a fan-out reset (a Redis restart may have lost pushes)."""
    meeting_id = int(group.split(".")[1])
    await consumer.send_json(await database_sync_to_async(stats_frame)(meeting_id))


async def handle_watch(consumer: Any, payload: dict[str, Any]) -> None:
    meeting_id = await database_sync_to_async(_managed_meeting_id)(consumer.user, payload.get("meeting"))
    group = stats_group(meeting_id)
    await fanout.join(consumer, group, on_reset=_send_stats)
    await _send_stats(consumer, group)


async def handle_unwatch(consumer: Any, payload: dict[str, Any]) -> None:
    meeting_id = access.parse_id(payload.get("meeting"))
    if meeting_id is not None:
        await fanout.leave(consumer, stats_group(meeting_id))


def register() -> None:
    from officeapp.registries import socket_handlers

    socket_handlers.register("meeting.stats.watch", handle_watch)
    socket_handlers.register("meeting.stats.unwatch", handle_unwatch)
