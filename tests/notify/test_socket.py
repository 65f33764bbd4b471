"""The /ws/ socket, driven through the project's real ASGI application (origin check, session auth,
router), on whichever channel layer the settings chose (in-memory, or Redis when REDIS_URL is set)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from officeapp.asgi import application
from officeapp.notify import presence, services
from officeapp.notify.consumers import HELLO_LIMIT
from officeapp.notify.models import Notification
from officeapp.notify.relay import relay_enabled
from officeapp.registries import socket_handlers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]


async def open_socket(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def say_hello(communicator: WebsocketCommunicator, last_id: int | None) -> dict[str, Any]:
    await communicator.send_json_to({"type": "hello", "last_notification_id": last_id})
    return await communicator.receive_json_from(timeout=5)


notify = database_sync_to_async(services.notify)


async def test_anonymous_socket_is_closed_with_4401():
    communicator = WebsocketCommunicator(application, "/ws/", headers=[(b"origin", b"http://127.0.0.1:8000")])
    await communicator.connect(timeout=5)
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_socket_from_a_foreign_origin_is_refused(cast, socket_headers):
    headers = await socket_headers(cast.drafter, origin=b"https://evil.example")
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert not connected
    await communicator.disconnect()


async def test_socket_without_origin_is_refused(cast, socket_headers):
    headers = [h for h in await socket_headers(cast.drafter) if h[0] != b"origin"]
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert not connected
    await communicator.disconnect()


async def test_socket_of_a_session_signed_out_everywhere_is_closed(cast, socket_headers):
    headers = await socket_headers(cast.drafter)
    session_key = headers[1][1].decode().split("=", 1)[1]

    def sign_out_everywhere() -> None:
        from django.conf import settings
        from django.utils.module_loading import import_string

        SessionStore = import_string(settings.SESSION_ENGINE + ".SessionStore")  # noqa: N806
        # The session policy middleware stamps each session with the user's epoch; "sign out
        # everywhere" bumps the epoch, so the stamp no longer matches.
        store = SessionStore(session_key=session_key)
        store["officeapp_epoch"] = cast.drafter.session_epoch
        store.save()
        cast.drafter.session_epoch += 1
        cast.drafter.save(update_fields=["session_epoch"])

    await database_sync_to_async(sign_out_everywhere)()
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    await communicator.connect(timeout=5)
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_notification_reaches_the_recipients_open_socket_after_commit(cast, socket_headers):
    communicator = await open_socket(await socket_headers(cast.dept_head))
    rows = await notify(
        [cast.dept_head], kind="documents.review", title="请审核《值班安排》", actor=cast.drafter
    )
    frame = await communicator.receive_json_from(timeout=2)
    assert frame["type"] == "notification"
    assert frame["id"] == rows[0].pk
    assert frame["title"] == "请审核《值班安排》"
    # Delivered once, even where the relay also sees the row.
    await asyncio.sleep(1.2)
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_another_users_notification_does_not_reach_my_socket(cast, socket_headers):
    communicator = await open_socket(await socket_headers(cast.outsider))
    await notify([cast.dept_head], kind="documents.review", title="不是给你的")
    assert await communicator.receive_nothing(timeout=1.2)
    await communicator.disconnect()


async def test_reconnect_with_last_id_receives_exactly_the_missed_ones_in_order(cast, socket_headers):
    headers = await socket_headers(cast.leader)
    first = await open_socket(headers)
    seen = await notify([cast.leader], kind="x.y", title="看到的")
    assert (await first.receive_json_from(timeout=2))["id"] == seen[0].pk
    await first.disconnect()

    missed = []
    for title in ("错过一", "错过二", "错过三"):
        missed += await notify([cast.leader], kind="x.y", title=title)
    await notify([cast.clerk], kind="x.y", title="别人的")

    second = await open_socket(headers)
    reply = await say_hello(second, seen[0].pk)
    assert reply["type"] == "hello"
    assert [n["id"] for n in reply["notifications"]] == [n.pk for n in missed]
    assert [n["title"] for n in reply["notifications"]] == ["错过一", "错过二", "错过三"]
    assert reply["more"] is False
    assert reply["last_id"] == missed[-1].pk
    assert reply["unread"] == 4
    await second.disconnect()


async def test_hello_is_bounded_and_says_there_is_more(cast, socket_headers):
    def many() -> list[int]:
        Notification.objects.bulk_create(
            [Notification(recipient=cast.clerk, kind="x.y", title=f"n{i}") for i in range(HELLO_LIMIT + 5)]
        )
        return list(
            Notification.objects.filter(recipient=cast.clerk).order_by("id").values_list("id", flat=True)
        )

    ids = await database_sync_to_async(many)()
    communicator = await open_socket(await socket_headers(cast.clerk))
    reply = await say_hello(communicator, 0)
    assert [n["id"] for n in reply["notifications"]] == ids[:HELLO_LIMIT]
    assert reply["more"] is True
    rest = await say_hello(communicator, reply["last_id"])
    assert [n["id"] for n in rest["notifications"]] == ids[HELLO_LIMIT:]
    assert rest["more"] is False
    await communicator.disconnect()


async def test_first_hello_without_a_last_id_returns_only_the_cursor_and_count(cast, socket_headers):
    rows = await notify([cast.clerk], kind="x.y", title="旧通知")
    communicator = await open_socket(await socket_headers(cast.clerk))
    await communicator.receive_nothing(timeout=0.1)
    reply = await say_hello(communicator, None)
    assert reply == {"type": "hello", "notifications": [], "more": False, "last_id": rows[0].pk, "unread": 1}
    await communicator.disconnect()


@pytest.mark.parametrize("bad", [-1, "12", 1.5, True])
async def test_hello_with_a_bad_last_id_gets_an_error_in_chinese(cast, socket_headers, bad):
    communicator = await open_socket(await socket_headers(cast.clerk))
    reply = await say_hello(communicator, bad)
    assert reply == {"type": "error", "message": "last_notification_id 必须是非负整数。"}
    await communicator.disconnect()


async def test_unknown_type_gets_an_error_and_the_socket_stays_open(cast, socket_headers):
    communicator = await open_socket(await socket_headers(cast.drafter))
    await communicator.send_json_to({"type": "no.such.event"})
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "error",
        "message": "未知的消息类型：no.such.event",
    }
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"no": "type"}'])
async def test_malformed_frames_get_an_error_and_the_socket_stays_open(cast, socket_headers, text):
    communicator = await open_socket(await socket_headers(cast.drafter))
    await communicator.send_to(text_data=text)
    frame = await communicator.receive_json_from(timeout=2)
    assert frame["type"] == "error"
    assert frame["message"] in ("消息格式无效：只接受 JSON 文本。", "消息缺少类型（type）。")
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


async def test_registered_socket_handler_gets_its_payload_and_can_join_a_group(cast, socket_headers):
    received: list[tuple[Any, dict[str, Any]]] = []

    async def subscribe(consumer: Any, payload: dict[str, Any]) -> None:
        received.append((consumer.user.pk, payload))
        await consumer.join_group("test.room.1")
        await consumer.send_json({"type": "test.subscribed", "room": payload["room"]})

    socket_handlers.register("test.subscribe", subscribe)
    try:
        communicator = await open_socket(await socket_headers(cast.drafter))
        await communicator.send_json_to({"type": "test.subscribe", "room": 1})
        assert await communicator.receive_json_from(timeout=2) == {"type": "test.subscribed", "room": 1}
        assert received == [(cast.drafter.pk, {"type": "test.subscribe", "room": 1})]
        await communicator.send_json_to({"type": "ping"})  # ordering barrier: the join has happened
        await communicator.receive_json_from(timeout=2)
        from channels.layers import get_channel_layer

        await get_channel_layer().group_send(
            "test.room.1", {"type": "push", "frame": {"type": "room.news", "n": 1}}
        )
        assert await communicator.receive_json_from(timeout=2) == {"type": "room.news", "n": 1}
        await communicator.disconnect()
    finally:
        socket_handlers.unregister("test.subscribe")


async def test_handler_refusing_access_answers_not_found(cast, socket_headers):
    from django.http import Http404

    async def forbidden(consumer: Any, payload: dict[str, Any]) -> None:
        raise Http404

    socket_handlers.register("test.forbidden", forbidden)
    try:
        communicator = await open_socket(await socket_headers(cast.outsider))
        await communicator.send_json_to({"type": "test.forbidden"})
        assert await communicator.receive_json_from(timeout=2) == {
            "type": "error",
            "message": "未找到该对象，或您无权查看。",
        }
        await communicator.disconnect()
    finally:
        socket_handlers.unregister("test.forbidden")


async def test_open_socket_makes_the_user_online_until_it_closes(cast, socket_headers):
    is_online = database_sync_to_async(presence.is_online)
    assert not await is_online(cast.supervisor.pk)
    first = await open_socket(await socket_headers(cast.supervisor))
    second = await open_socket(await socket_headers(cast.supervisor))
    assert await is_online(cast.supervisor.pk)
    await first.disconnect()
    assert await is_online(cast.supervisor.pk)  # the other tab is still open
    await second.disconnect()
    assert not await is_online(cast.supervisor.pk)


@pytest.mark.skipif(not relay_enabled(), reason="the relay runs only with the in-memory layer (no REDIS_URL)")
async def test_relay_delivers_a_row_written_by_another_process_within_two_seconds(cast, socket_headers):
    communicator = await open_socket(await socket_headers(cast.office_secretary))
    # What the worker does in its own process: a committed row whose push went to the worker's memory.
    row = await database_sync_to_async(Notification.objects.create)(
        recipient=cast.office_secretary, kind="worker.done", title="后台生成完成"
    )
    started = time.monotonic()
    frame = await communicator.receive_json_from(timeout=2)
    assert time.monotonic() - started < 2
    assert frame["id"] == row.pk and frame["title"] == "后台生成完成"
    await communicator.disconnect()


@pytest.mark.skipif(relay_enabled(), reason="checks the Redis layer: runs when REDIS_URL is set")
async def test_push_from_any_process_crosses_the_redis_layer(cast, socket_headers):
    communicator = await open_socket(await socket_headers(cast.office_secretary))
    from channels_redis.pubsub import RedisPubSubChannelLayer

    # A second layer instance stands for another process (the worker) with its own Redis connection.
    from django.conf import settings

    other = RedisPubSubChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    await other.group_send(
        f"user.{cast.office_secretary.pk}", {"type": "notification", "id": 10**9, "title": "x"}
    )
    frame = await communicator.receive_json_from(timeout=2)
    assert frame["id"] == 10**9
    await other.flush()
    await communicator.disconnect()


@pytest.mark.skipif(not relay_enabled(), reason="the relay runs only with the in-memory layer (no REDIS_URL)")
async def test_relay_delivers_a_row_that_commits_after_a_newer_one(cast, socket_headers):
    communicator = await open_socket(await socket_headers(cast.office_secretary))

    def create(**fields: Any) -> Notification:
        return Notification.objects.create(recipient=cast.office_secretary, kind="worker.done", **fields)

    base = await database_sync_to_async(
        lambda: Notification.objects.order_by("-id").values_list("id", flat=True).first()
    )()
    newer = await database_sync_to_async(create)(id=(base or 0) + 2, title="先提交的新行")
    assert (await communicator.receive_json_from(timeout=2))["id"] == newer.pk
    # A transaction that took the lower id earlier commits only now: the cursor has not passed it.
    older = await database_sync_to_async(create)(id=(base or 0) + 1, title="后提交的旧行")
    assert (await communicator.receive_json_from(timeout=2))["id"] == older.pk
    await communicator.disconnect()


async def test_heartbeat_renews_presence_that_would_expire(cast, socket_headers, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(presence, "HEARTBEAT_SECONDS", 0.1)
    communicator = await open_socket(await socket_headers(cast.supervisor))
    await database_sync_to_async(cache.delete_many)(
        presence.presence_keys(cast.supervisor.pk)
    )  # as if expired
    assert not await database_sync_to_async(presence.is_online)(cast.supervisor.pk)
    await asyncio.sleep(0.5)
    assert await database_sync_to_async(presence.is_online)(cast.supervisor.pk)
    await communicator.disconnect()
    assert not await database_sync_to_async(presence.is_online)(cast.supervisor.pk)
