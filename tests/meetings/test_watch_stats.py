"""The organiser's live statistics over /ws/ ("meeting.stats.watch"), driven through the project's
real ASGI application: the organiser gets the figures at once and again when a participant
replies (through the real meetings.services after commit); anyone else gets the not-found frame
and nothing afterwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from meetings import services
from meetings.models import Meeting, MeetingKind, Reply
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.asgi import application
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]

ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture
def socket_headers(client: Any) -> Callable[[Any], Awaitable[list[tuple[bytes, bytes]]]]:
    def sign_in(user: Any) -> str:
        client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        client.cookies.clear()
        return key

    async def headers(user: Any) -> list[tuple[bytes, bytes]]:
        key = await database_sync_to_async(sign_in)(user)
        return [(b"origin", ORIGIN), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())]

    return headers


@pytest.fixture
async def close_thread_connections() -> Any:
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all, thread_sensitive=True)()


def noticed_meeting(m: MeetingsCast) -> int:
    meeting = services.create_meeting(
        actor=m.organiser,
        title="防汛工作部署会",
        kind=MeetingKind.VIDEO,
        starts_at=m.at(9),
        ends_at=m.at(10),
        host=m.host,
        online=True,
    )
    services.set_invitees(meeting, actor=m.organiser, people=[m.participant, m.colleague])
    services.send_notice(meeting, actor=m.organiser)
    return meeting.pk


noticed_ = database_sync_to_async(noticed_meeting)


@database_sync_to_async
def reply_(meeting_id: int, user: Any, choice: str, reason: str = "") -> None:
    services.reply(Meeting.objects.get(pk=meeting_id), actor=user, reply=choice, reason=reason)


async def open_socket(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def next_frame(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame


async def test_organiser_sees_the_figures_and_non_repliers_change_when_someone_replies(
    meetings: MeetingsCast, socket_headers: Any
) -> None:
    m = meetings
    meeting_id = await noticed_(m)
    socket = await open_socket(await socket_headers(m.organiser))

    await socket.send_json_to({"type": "meeting.stats.watch", "meeting": meeting_id})
    first = await next_frame(socket, "meeting.stats")
    assert first["meeting"] == meeting_id
    assert first["stats"]["silent"] == 2 and first["stats"]["attend"] == 0
    assert [p["name"] for p in first["silent_people"]] == ["林小梅", "陈志强"]

    await reply_(meeting_id, m.participant, Reply.ATTEND)
    second = await next_frame(socket, "meeting.stats")
    assert second["stats"]["attend"] == 1 and second["stats"]["silent"] == 1
    assert [p["name"] for p in second["silent_people"]] == ["陈志强"]

    await reply_(meeting_id, m.colleague, Reply.LEAVE, "出差")
    third = await next_frame(socket, "meeting.stats")
    assert third["stats"]["leave"] == 1 and third["stats"]["expected"] == 1
    assert third["silent_people"] == []
    await socket.disconnect()


async def test_participant_and_stranger_cannot_watch_and_get_nothing_later(
    meetings: MeetingsCast, socket_headers: Any
) -> None:
    m = meetings
    meeting_id = await noticed_(m)
    for user in (m.participant, m.outsider):
        socket = await open_socket(await socket_headers(user))
        await socket.send_json_to({"type": "meeting.stats.watch", "meeting": meeting_id})
        refused = await socket.receive_json_from(timeout=5)
        assert refused["type"] == "error" and refused["message"] == NOT_FOUND_MESSAGE
        await socket.send_json_to({"type": "meeting.stats.watch", "meeting": "abc"})
        assert (await socket.receive_json_from(timeout=5))["message"] == NOT_FOUND_MESSAGE
        await reply_(meeting_id, m.colleague if user == m.participant else m.participant, Reply.ATTEND)
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
