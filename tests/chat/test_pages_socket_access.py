"""The socket half of chat's permission matrix (tests/security/matrix_chat.py holds the HTTP half):
through the project's real ASGI application, a stranger and a removed member try every chat event
on /ws/ — subscribe, typing, read — and get the 404 error frame each time, change nothing, and hear
nothing of the conversation afterwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from chat import services
from chat.models import Conversation, Membership
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.asgi import application
from tests.chat.chat_cast import ChatCast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]

ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture
async def close_thread_connections() -> Any:
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all, thread_sensitive=True)()


@pytest.fixture
def socket_for(client: Any) -> Callable[[Any], Awaitable[WebsocketCommunicator]]:
    def sign_in(user: Any) -> str:
        client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        client.cookies.clear()
        return key

    async def open_socket(user: Any) -> WebsocketCommunicator:
        key = await database_sync_to_async(sign_in)(user)
        headers = [(b"origin", ORIGIN), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())]
        socket = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        return socket

    return open_socket


def _group(chat: ChatCast) -> tuple[int, int]:
    """The working group (education_member removed from it) and its last seq."""
    group = services.create_group(actor=chat.owner, name="跨厅工作组", members=chat.members())
    services.send_text(group, actor=chat.owner, body="第一条")
    services.remove_member(group, chat.education_member, actor=chat.owner)
    group.refresh_from_db()
    return group.pk, group.last_seq


@database_sync_to_async
def read_marks(cid: int, user: Any) -> list[int]:
    return list(
        Membership.objects.filter(conversation_id=cid, user=user).values_list("last_read_seq", flat=True)
    )


async def frames_of(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame


@pytest.mark.parametrize("who", ["outsider", "education_member"])
async def test_a_non_member_can_neither_subscribe_type_nor_mark_read_over_the_socket(
    chat: ChatCast, socket_for: Callable[[Any], Awaitable[WebsocketCommunicator]], who: str
) -> None:
    # given: a member listening, and the stranger (or the removed member) on a socket of their own
    cid, last_seq = await database_sync_to_async(_group)(chat)
    member = await socket_for(chat.finance_member)
    await member.send_json_to({"type": "chat.subscribe", "conversations": {str(cid): last_seq}})
    assert (await frames_of(member, "chat.catchup"))["conversation"] == cid
    intruder_user = getattr(chat, who)
    marks_before = await read_marks(cid, intruder_user)
    intruder = await socket_for(intruder_user)

    # when / then: each event is answered with the 404 of a missing conversation
    attempts: list[dict[str, Any]] = [
        {"type": "chat.subscribe", "conversations": {str(cid): 0}},
        {"type": "chat.subscribe", "all": True, "since": {str(cid): 0}},
        {"type": "chat.typing", "conversation": cid},
        {"type": "chat.read", "conversation": cid, "seq": last_seq},
    ]
    for attempt in attempts[:1] + attempts[2:]:
        await intruder.send_json_to(attempt)
        answer = await frames_of(intruder, "error")
        assert answer["message"] == NOT_FOUND_MESSAGE, attempt
    # "all" subscribes to the user's own conversations only: nothing of this one comes back.
    await intruder.send_json_to(attempts[1])

    # then: nothing changed, the member heard no typing, and the intruder hears nothing of what follows
    assert await member.receive_nothing(timeout=0.5)
    await database_sync_to_async(services.send_text)(
        await database_sync_to_async(Conversation.objects.get)(pk=cid),
        actor=chat.owner,
        body="只给成员看",
    )
    assert (await frames_of(member, "chat.message"))["message"]["body"] == "只给成员看"
    while not await intruder.receive_nothing(timeout=0.5):
        frame = await intruder.receive_json_from(timeout=1)
        assert frame.get("conversation") != cid and "只给成员看" not in str(frame), frame
    assert await read_marks(cid, intruder_user) == marks_before
    await member.disconnect()
    await intruder.disconnect()
