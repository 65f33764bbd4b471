"""Chat over /ws/, driven through the project's real ASGI application (origin check, session auth,
router) on whichever channel layer the settings chose (in-memory, or Redis when REDIS_URL is set):
subscribe and catch up, live messages once and in order, paging, holes, membership loss, typing;
then the same fed by the real chat.services (send, read, remove)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from chat import hub, services
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.asgi import application
from tests.bench.chat_clients import make_group, post, remove

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


make_group_ = database_sync_to_async(make_group)
post_ = database_sync_to_async(post)


async def open_socket(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def subscribe(socket: WebsocketCommunicator, conversation_id: int, last_seq: int) -> dict[str, Any]:
    await socket.send_json_to({"type": "chat.subscribe", "conversations": {str(conversation_id): last_seq}})
    return await socket.receive_json_from(timeout=5)


def seqs(catchup: dict[str, Any]) -> list[int]:
    return [m["seq"] for m in catchup["messages"]]


async def next_frame(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame


# --- tests ---------------------------------------------------------------------------------------
async def test_member_catches_up_on_what_was_missed_then_gets_new_messages_live(chat, socket_headers):
    cid = await make_group_(chat.owner, chat.members())
    for body in ("一", "二", "三"):
        await post_(cid, chat.owner, body)
    socket = await open_socket(await socket_headers(chat.finance_member))

    catchup = await subscribe(socket, cid, 1)
    assert catchup["type"] == "chat.catchup" and catchup["conversation"] == cid
    assert seqs(catchup) == [2, 3] and [m["body"] for m in catchup["messages"]] == ["二", "三"]
    assert catchup["more"] is False and catchup["last_seq"] == 3

    await post_(cid, chat.admin, "四")
    frame = await socket.receive_json_from(timeout=5)
    assert frame["type"] == "chat.message" and frame["message"]["seq"] == 4
    assert frame["message"]["body"] == "四"
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_outsider_cannot_subscribe_and_sees_nothing_of_the_conversation(chat, socket_headers):
    cid = await make_group_(chat.owner, chat.members())
    await post_(cid, chat.owner, "内部讨论")
    socket = await open_socket(await socket_headers(chat.outsider))

    reply = await subscribe(socket, cid, 0)
    assert reply == {"type": "error", "message": NOT_FOUND_MESSAGE, "conversation": cid}
    missing = await subscribe(socket, 999999, 0)
    assert missing == {"type": "error", "message": NOT_FOUND_MESSAGE, "conversation": 999999}
    await post_(cid, chat.owner, "仍是内部讨论")
    await socket.send_json_to({"type": "chat.typing", "conversation": cid})
    assert (await socket.receive_json_from(timeout=5))["message"] == NOT_FOUND_MESSAGE
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_message_committed_during_catch_up_arrives_once_and_in_order(chat, socket_headers, monkeypatch):
    cid = await make_group_(chat.owner, chat.members())
    await post_(cid, chat.owner, "一")
    read_page = hub._page
    calls = 0

    def page_while_others_send(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            post(cid, chat.admin, "二")  # committed and published after subscribing, before the read
            page = read_page(*args)  # … so it is in the page AND in the live buffer
            post(cid, chat.admin, "三")  # committed after the read: only live
            return page
        return read_page(*args)

    monkeypatch.setattr(hub, "_page", page_while_others_send)
    socket = await open_socket(await socket_headers(chat.education_member))

    catchup = await subscribe(socket, cid, 0)
    assert seqs(catchup) == [1, 2]
    third = await socket.receive_json_from(timeout=5)
    assert third["type"] == "chat.message" and third["message"]["seq"] == 3
    await post_(cid, chat.owner, "四")
    assert (await socket.receive_json_from(timeout=5))["message"]["seq"] == 4
    assert await socket.receive_nothing(timeout=0.3)  # "二" was not sent a second time
    await socket.disconnect()


async def test_a_long_absence_is_caught_up_page_by_page_without_a_gap(chat, socket_headers):
    cid = await make_group_(chat.owner, chat.members())

    def many() -> None:
        for n in range(hub.CATCHUP_PAGE + 30):
            post(cid, chat.owner, f"第{n + 1}条", push=False)

    await database_sync_to_async(many)()
    socket = await open_socket(await socket_headers(chat.admin))

    first = await subscribe(socket, cid, 0)
    assert first["more"] is True and seqs(first) == list(range(1, hub.CATCHUP_PAGE + 1))
    # A message sent before the client asks for the next page is not pushed out of order…
    newest = await post_(cid, chat.finance_member, "最新")
    assert await socket.receive_nothing(timeout=0.3)
    # … it comes, in its place, with the next page.
    second = await subscribe(socket, cid, first["last_seq"])
    assert second["more"] is False
    assert seqs(second) == list(range(hub.CATCHUP_PAGE + 1, newest + 1))
    after = await post_(cid, chat.owner, "之后")
    assert (await socket.receive_json_from(timeout=5))["message"]["seq"] == after == newest + 1
    await socket.disconnect()


async def test_a_message_whose_push_was_lost_is_filled_in_before_the_next_one(chat, socket_headers):
    cid = await make_group_(chat.owner, chat.members())
    socket = await open_socket(await socket_headers(chat.finance_member))
    assert seqs(await subscribe(socket, cid, 0)) == []

    lost = await post_(cid, chat.owner, "推送丢失", push=False)
    await post_(cid, chat.owner, "下一条")
    # The next message reveals the hole: both come from the database, in order, once each.
    filled = await socket.receive_json_from(timeout=5)
    assert filled["type"] == "chat.catchup" and seqs(filled) == [lost, lost + 1]
    assert await socket.receive_nothing(timeout=0.3)
    third = await post_(cid, chat.admin, "再一条")
    assert (await socket.receive_json_from(timeout=5))["message"]["seq"] == third == lost + 2
    await socket.disconnect()


async def test_removed_member_stops_getting_the_conversation_at_once(chat, socket_headers):
    cid = await make_group_(chat.owner, chat.members())
    staying = await open_socket(await socket_headers(chat.admin))
    removed = await open_socket(await socket_headers(chat.education_member))
    await subscribe(staying, cid, 0)
    await subscribe(removed, cid, 0)

    await database_sync_to_async(remove)(cid, chat.education_member)
    await post_(cid, chat.owner, "移除之后的消息")

    assert (await staying.receive_json_from(timeout=5))["message"]["body"] == "移除之后的消息"
    notice = await removed.receive_json_from(timeout=5)
    assert notice["type"] == "chat.conversation" and notice["event"] == "removed"
    assert await removed.receive_nothing(timeout=0.5)
    # Asking again is refused like any stranger.
    assert (await subscribe(removed, cid, 0))["message"] == NOT_FOUND_MESSAGE
    await staying.disconnect()
    await removed.disconnect()


async def test_typing_reaches_the_others_once_a_second_at_most_and_not_the_typist(chat, socket_headers):
    cid = await make_group_(chat.owner, chat.members())
    typist = await open_socket(await socket_headers(chat.finance_member))
    other = await open_socket(await socket_headers(chat.owner))
    await subscribe(typist, cid, 0)
    await subscribe(other, cid, 0)

    for _ in range(5):
        await typist.send_json_to({"type": "chat.typing", "conversation": cid})
    frame = await other.receive_json_from(timeout=5)
    assert frame == {
        "type": "chat.typing",
        "conversation": cid,
        "user": chat.finance_member.pk,
        "name": str(chat.finance_member),
    }
    assert await other.receive_nothing(timeout=0.5)
    assert await typist.receive_nothing(timeout=0.1)
    await typist.disconnect()
    await other.disconnect()


async def test_unsubscribed_and_closed_sockets_get_no_more_frames(chat, socket_headers):
    cid = await make_group_(chat.owner, chat.members())
    socket = await open_socket(await socket_headers(chat.admin))
    await subscribe(socket, cid, 0)
    await socket.send_json_to({"type": "chat.unsubscribe", "conversations": [cid]})
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "pong"  # the unsubscribe was handled
    await post_(cid, chat.owner, "退订之后")
    assert await socket.receive_nothing(timeout=0.5)

    await subscribe(socket, cid, 1)
    await socket.disconnect()
    assert hub.process_hub().subscriptions == {}


async def test_one_process_joins_a_conversation_group_once_for_all_its_sockets(chat, socket_headers):
    cid = await make_group_(chat.owner, chat.members())
    sockets = [await open_socket(await socket_headers(user)) for user in [chat.owner, *chat.members()]]
    for socket in sockets:
        await subscribe(socket, cid, 0)
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        assert list(layer.groups[hub.conversation_group(cid)]) == [hub.process_hub().channel]
    assert len(hub.process_hub().subscriptions[cid]) == 4

    seq = await post_(cid, chat.owner, "大家好")
    for socket in sockets:
        frame = await socket.receive_json_from(timeout=5)
        assert frame["message"]["seq"] == seq
    for socket in sockets:
        await socket.disconnect()


async def test_subscribe_all_catches_up_every_conversation_of_the_user(chat, socket_headers):
    first = await make_group_(chat.owner, [chat.finance_member])
    second = await make_group_(chat.admin, [chat.finance_member])
    not_mine = await make_group_(chat.owner, [chat.admin])
    await post_(first, chat.owner, "甲")
    await post_(second, chat.admin, "乙")
    await post_(second, chat.admin, "丙")
    await post_(not_mine, chat.owner, "不是你的")
    socket = await open_socket(await socket_headers(chat.finance_member))

    await socket.send_json_to({"type": "chat.subscribe", "all": True, "since": {str(second): 1}})
    replies = {}
    while not await socket.receive_nothing(timeout=0.5):
        reply = await socket.receive_json_from(timeout=5)
        assert reply["type"] == "chat.catchup"
        replies[reply["conversation"]] = seqs(reply)
    # (the cast's 部门群 is among them too)
    assert replies[first] == [1] and replies[second] == [2] and not_mine not in replies
    await socket.disconnect()


async def test_malformed_subscribe_is_answered_in_chinese(chat, socket_headers):
    socket = await open_socket(await socket_headers(chat.owner))
    await socket.send_json_to({"type": "chat.subscribe", "conversations": [1, 2]})
    reply = await socket.receive_json_from(timeout=5)
    assert reply["type"] == "error" and "conversations" in reply["message"]
    await socket.send_json_to({"type": "chat.subscribe", "conversations": {"abc": 0}})
    assert (await socket.receive_json_from(timeout=5))["message"] == NOT_FOUND_MESSAGE
    await asyncio.sleep(0)
    await socket.disconnect()


# --- fed by the real services (chat.services) ------------------------------------------------------
async def open_subscribed(headers: list[tuple[bytes, bytes]], conversation_id: int) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    await socket.send_json_to({"type": "chat.subscribe", "conversations": {str(conversation_id): 0}})
    while (await socket.receive_json_from(timeout=5))["type"] != "chat.catchup":
        pass
    return socket


async def next_of(socket: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame


@database_sync_to_async
def new_group(chat: Any) -> Any:
    return services.create_group(actor=chat.owner, name="三厅联合工作组", members=chat.members())


async def test_text_sent_through_the_service_reaches_every_subscribed_member(chat, socket_headers):
    group = await new_group(chat)
    sockets = [await open_subscribed(await socket_headers(u), group.pk) for u in chat.members()]

    sent = await database_sync_to_async(services.send_text)(group, actor=chat.owner, body="明早九点碰头")
    for socket in sockets:
        frame = await next_of(socket, "chat.message")
        assert frame["message"]["seq"] == sent.seq and frame["message"]["body"] == "明早九点碰头"
    for socket in sockets:
        await socket.disconnect()


async def test_reading_over_the_socket_moves_the_read_mark_and_tells_the_others(chat, socket_headers):
    group = await new_group(chat)
    sent = await database_sync_to_async(services.send_text)(group, actor=chat.owner, body="请审阅")
    reader = await open_subscribed(await socket_headers(chat.finance_member), group.pk)
    sender = await open_subscribed(await socket_headers(chat.owner), group.pk)

    await reader.send_json_to({"type": "chat.read", "conversation": group.pk, "seq": sent.seq})
    frame = await next_of(sender, "chat.read")
    assert frame == {
        "type": "chat.read",
        "conversation": group.pk,
        "user": chat.finance_member.pk,
        "seq": sent.seq,
    }

    def read_mark() -> int:
        return group.memberships.get(user=chat.finance_member).last_read_seq

    assert await database_sync_to_async(read_mark)() == sent.seq
    await reader.disconnect()
    await sender.disconnect()


async def test_a_stranger_cannot_mark_a_conversation_read(chat, socket_headers):
    group = await new_group(chat)
    socket = WebsocketCommunicator(application, "/ws/", headers=await socket_headers(chat.outsider))
    assert (await socket.connect(timeout=5))[0]
    await socket.send_json_to({"type": "chat.read", "conversation": group.pk, "seq": 1})
    assert (await socket.receive_json_from(timeout=5))["message"] == NOT_FOUND_MESSAGE
    await socket.disconnect()


async def test_member_removed_by_an_admin_hears_nothing_more_of_the_group(chat, socket_headers):
    group = await new_group(chat)
    staying = await open_subscribed(await socket_headers(chat.admin), group.pk)
    removed = await open_subscribed(await socket_headers(chat.education_member), group.pk)

    await database_sync_to_async(services.remove_member)(group, chat.education_member, actor=chat.owner)
    notice = await next_of(removed, "chat.conversation")
    assert notice["event"] == "removed"
    later = await database_sync_to_async(services.send_text)(group, actor=chat.owner, body="移除之后的安排")

    assert (await next_of(staying, "chat.message"))["message"]["seq"] in (later.seq - 1, later.seq)
    while True:
        frame = await removed.receive_json_from(timeout=1) if not await removed.receive_nothing(0.5) else None
        if frame is None:
            break
        assert frame["type"] != "chat.message" or frame["message"]["seq"] < later.seq
    await staying.disconnect()
    await removed.disconnect()
