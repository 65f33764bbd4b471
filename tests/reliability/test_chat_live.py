"""Chat across real daphne processes on the Redis channel layer.

1. Two daphne processes on the configured Redis (REDIS_URL): a message committed by a third process
   (this test process, as a worker or another server would) reaches the websocket clients of both;
   a member removed is dropped by both processes before the next message.
2. Redis restarting during a conversation: a redis-server of our own (never the machine's shared
   one) under one daphne process; it is killed while messages are sent and started again. The client
   (reconnecting when its socket drops, subscribing again from its last seq, as the browser does)
   ends with every message exactly once and in order.

Both need PostgreSQL (the daphne processes read the test database this test writes, committed:
SQLite test databases live in memory) and the first needs REDIS_URL; each skips with its reason.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection, connections

from tests.bench.chat_clients import (
    ChatClient,
    daphne,
    make_group,
    post,
    redis_server,
    remove,
    session_key_for,
)
from tests.chat.chat_cast import ChatCast, build_chat_cast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

post_ = database_sync_to_async(post)


async def close_connections() -> None:
    """The database connection of asgiref's thread would outlive the test and block dropping the
    test database."""
    await sync_to_async(connections.close_all, thread_sensitive=True)()


# Skipped, with this reason, only where PostgreSQL is not configured (CI has it).
NEEDS_POSTGRES = (
    "chat 多进程测试需要 PostgreSQL（子进程读写同一个测试数据库）：请设置 DATABASE_URL=postgres://…"
)


@pytest.fixture
def chat(cast: Any) -> ChatCast:
    return build_chat_cast(cast)


@pytest.fixture
def server_env() -> dict[str, str]:
    """The environment of a daphne process sharing this test's (PostgreSQL) database."""
    if not (os.environ.get("DATABASE_URL", "").startswith("postgres") and connection.vendor == "postgresql"):
        pytest.skip(reason=NEEDS_POSTGRES)
    params = connection.settings_dict
    url = f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "officeapp.settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEBSOCKET_ALLOWED_ORIGINS": "http://127.0.0.1:8000",
        "LOG_LEVEL": "ERROR",
    }


def people(chat: Any) -> tuple[int, dict[str, str]]:
    conversation_id = make_group(chat.owner, chat.members())
    keys = {
        name: session_key_for(getattr(chat, name)) for name in ("admin", "finance_member", "education_member")
    }
    return conversation_id, keys


def test_message_sent_in_one_process_reaches_clients_of_two_daphne_processes(chat, server_env):
    if not os.environ.get("REDIS_URL"):
        pytest.skip(reason="多个 daphne 进程之间靠 Redis 通道层：请设置 REDIS_URL=redis://127.0.0.1:6379/0")
    conversation_id, keys = people(chat)
    with daphne(server_env) as (first_port, _), daphne(server_env) as (second_port, _):

        async def scenario() -> tuple[ChatClient, ChatClient, ChatClient]:
            on_first = ChatClient(first_port, keys["admin"], conversation_id)
            on_second = ChatClient(second_port, keys["finance_member"], conversation_id)
            removed = ChatClient(second_port, keys["education_member"], conversation_id)
            for client in (on_first, on_second, removed):
                await client.start()
                await asyncio.wait_for(client.subscribed.wait(), 30)
            seq = await post_(conversation_id, chat.owner, "两个进程都收到")
            await on_first.wait_for(seq, 10)
            await on_second.wait_for(seq, 10)
            await removed.wait_for(seq, 10)
            await database_sync_to_async(remove)(conversation_id, chat.education_member)
            after = await post_(conversation_id, chat.owner, "移除之后")
            await on_first.wait_for(after, 10)
            await on_second.wait_for(after, 10)
            await asyncio.sleep(0.5)  # time enough for a frame that should not come
            for client in (on_first, on_second, removed):
                await client.close()
            await close_connections()
            return on_first, on_second, removed

        on_first, on_second, removed = asyncio.run(scenario())
    assert on_first.seqs == on_second.seqs == [1, 2]
    assert removed.seqs == [1]
    assert on_first.duplicates == on_second.duplicates == 0


def test_redis_restarting_mid_conversation_loses_and_doubles_nothing(chat, server_env, settings):
    conversation_id, keys = people(chat)
    with redis_server() as redis:
        # This process (the sender) and the daphne process both use our own Redis.
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [redis.url]},
            }
        }
        env = {**server_env, "REDIS_URL": redis.url}
        with daphne(env) as (port, _):

            async def scenario() -> ChatClient:
                client = ChatClient(port, keys["finance_member"], conversation_id, reconnect=True)
                await client.start()
                await asyncio.wait_for(client.subscribed.wait(), 30)
                await client.wait_for(await post_(conversation_id, chat.owner, "一"), 10)
                redis.kill()
                for body in ("二（Redis 停止期间）", "三（Redis 停止期间）"):
                    await post_(conversation_id, chat.admin, body)
                await asyncio.sleep(1.0)
                redis.start()
                last = 0
                for body in ("四（Redis 恢复之后）", "五"):
                    last = await post_(conversation_id, chat.owner, body)
                await client.wait_for(last, 30)
                await client.close()
                await close_connections()
                return client

            client = asyncio.run(scenario())
    assert client.seqs == [1, 2, 3, 4, 5]
    assert client.duplicates == 0
