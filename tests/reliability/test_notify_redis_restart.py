"""Notifications across a Redis restart, with a real daphne process and a real websocket client.

channels-redis's pub/sub layer does not subscribe again after Redis restarts: without the watchdog
in officeapp.notify.relay, a tab already open stays deaf until daphne restarts. Here a redis-server of
our own (never the machine's shared one) carries the layer and the cache of one daphne process; it
is killed and started again on the same port while a client is connected. The client behaves like
socket.js (on a close other than 4401 it reconnects and sends its hello with the last id it has), and
a notification created after the restart must reach it exactly once, within seconds.

What a restart loses, measured here (redis-py 8.1, channels-redis 4.3): the daphne process's pub/sub
subscription comes back by itself about a second after Redis does, and whatever is published before
that is gone, so the watchdog notices the restart by Redis's new run_id and sends the tab back to
reconnect. And the first publish of a sender whose pooled connection went stale raises: the sender's
layer here retries a command once on a connection error (sender_layers, the configuration
settings.CHANNEL_LAYERS should have). The second test makes the layer stop delivering without a
restart (Redis paused past the probe timeout): the lost probe sends the tab back the same way.

Needs PostgreSQL (the daphne process reads the rows this test commits: SQLite test databases live in
memory) and REDIS_URL (redis-server must be there); each skips with its reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection, connections, transaction
from redis import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from officeapp.notify.relay import CLOSE_RECONNECT
from officeapp.notify.services import notify
from tests.bench.chat_clients import connect, daphne, redis_server, session_key_for, websockets_closed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CLOSE_UNAUTHENTICATED = 4401


def sender_layers(url: str) -> dict[str, Any]:
    """The channel layer of this (sending) process: a command on a stale connection is retried once."""
    host = {"address": url, "retry": Retry(NoBackoff(), 1), "retry_on_error": [RedisConnectionError]}
    return {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [host]}}
    }


# Skipped, with these reasons, only where the services they need are not configured (CI has both).
NEEDS_POSTGRES = "通知跨进程测试需要 PostgreSQL（子进程读同一个测试数据库）：请设置 DATABASE_URL=postgres://…"
NEEDS_REDIS = "Redis 重启测试只在 Redis 通道层下有意义：请设置 REDIS_URL=redis://127.0.0.1:6379/0"


@pytest.fixture
def server_env() -> dict[str, str]:
    """The environment of a daphne process sharing this test's (PostgreSQL) database."""
    if not (os.environ.get("DATABASE_URL", "").startswith("postgres") and connection.vendor == "postgresql"):
        pytest.skip(reason=NEEDS_POSTGRES)
    if not os.environ.get("REDIS_URL"):
        pytest.skip(reason=NEEDS_REDIS)
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


def create_notification(user: Any, title: str) -> int:
    with transaction.atomic():
        (row,) = notify([user], kind="tests.redis_restart", title=title)
    return int(row.pk)


create_notification_ = database_sync_to_async(create_notification)


@dataclass
class BellClient:
    """One browser tab as socket.js runs it: hello with the last id on every (re)connect, a
    notification kept once by id (repeats counted), reconnect on any close but 4401."""

    port: int
    session_key: str
    last_id: int | None = None
    ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    close_codes: list[int | None] = field(default_factory=list)
    reconnects: int = 0
    greeted: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _ws: Any = None
    _task: asyncio.Task[None] | None = None
    _stopped: bool = False

    async def start(self) -> None:
        await self._open()
        self._task = asyncio.create_task(self._run())

    async def _open(self) -> None:
        self.greeted.clear()
        self._ws = await connect(self.port, self.session_key)
        await self._ws.send(json.dumps({"type": "hello", "last_notification_id": self.last_id}))

    def _take(self, frame: dict[str, Any]) -> None:
        if frame["id"] in self.ids:
            self.duplicates += 1
            return
        self.ids.append(frame["id"])
        self.last_id = max(self.last_id or 0, frame["id"])

    async def _run(self) -> None:
        while not self._stopped:
            try:
                async for text in self._ws:
                    frame = json.loads(text)
                    if frame.get("type") == "notification":
                        self._take(frame)
                    elif frame.get("type") == "hello":
                        for row in frame["notifications"]:
                            self._take(row)
                        self.last_id = max(self.last_id or 0, frame["last_id"])
                        if frame["more"]:
                            await self._ws.send(
                                json.dumps({"type": "hello", "last_notification_id": self.last_id})
                            )
                        else:
                            self.greeted.set()
                    self.changed.set()
            except (OSError, ConnectionError, websockets_closed()):
                pass
            self.close_codes.append(self._ws.close_code)
            if self._stopped or self._ws.close_code == CLOSE_UNAUTHENTICATED:
                return
            while not self._stopped:  # socket.js backs off; a short fixed pause keeps the test quick
                await asyncio.sleep(0.2)
                try:
                    await self._open()
                    self.reconnects += 1
                    break
                except (OSError, TimeoutError, websockets_closed()):
                    continue  # refused while Redis is still down

    async def wait_for(self, notification_id: int, timeout: float) -> float:
        """Seconds until the notification arrived."""
        started = time.monotonic()
        async with asyncio.timeout(timeout):
            while notification_id not in self.ids:
                self.changed.clear()
                await self.changed.wait()
        return time.monotonic() - started

    async def close(self) -> None:
        self._stopped = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task


def test_notification_created_after_redis_restarts_reaches_an_open_tab_once(cast, server_env, settings):
    user = cast.clerk
    session_key = session_key_for(user)
    with redis_server() as redis:
        # This process (the one creating notifications) and the daphne process share our Redis.
        settings.CHANNEL_LAYERS = sender_layers(redis.url)
        with daphne({**server_env, "REDIS_URL": redis.url}) as (port, _):

            async def scenario() -> tuple[BellClient, list[int]]:
                client = BellClient(port, session_key)
                await client.start()
                await asyncio.wait_for(client.greeted.wait(), 30)
                before = await create_notification_(user, "Redis 重启之前")
                await client.wait_for(before, 10)
                redis.kill()
                await asyncio.sleep(0.5)  # Redis stays down a moment, as in a real restart
                redis.start()
                after = await create_notification_(user, "Redis 重启之后")
                await client.wait_for(after, 10)
                await client.close()
                await sync_to_async(connections.close_all, thread_sensitive=True)()
                return client, [before, after]

            client, created = asyncio.run(scenario())
    assert client.ids == created
    assert client.duplicates == 0
    assert client.close_codes[0] == CLOSE_RECONNECT  # the server noticed the restart and sent the tab back


def test_tab_on_a_layer_that_stopped_delivering_is_sent_back_and_gets_what_it_missed_once(
    cast, server_env, settings
):
    user = cast.clerk
    session_key = session_key_for(user)
    with redis_server() as redis:
        settings.CHANNEL_LAYERS = sender_layers(redis.url)
        with daphne({**server_env, "REDIS_URL": redis.url}) as (port, _):

            async def scenario() -> tuple[BellClient, list[int]]:
                client = BellClient(port, session_key)
                await client.start()
                await asyncio.wait_for(client.greeted.wait(), 30)
                before = await create_notification_(user, "暂停之前")
                await client.wait_for(before, 10)
                # Redis answers nobody for 6 s: longer than a probe may take (2 s) after the next one.
                await sync_to_async(Redis.from_url(redis.url).execute_command)("CLIENT", "PAUSE", 6000, "ALL")
                meanwhile = await create_notification_(user, "暂停期间")
                await client.wait_for(meanwhile, 20)
                await client.close()
                await sync_to_async(connections.close_all, thread_sensitive=True)()
                return client, [before, meanwhile]

            client, created = asyncio.run(scenario())
    assert client.ids == created
    # The server sent the tab back to reconnect (not the test, not a dropped connection).
    assert client.close_codes[0] == CLOSE_RECONNECT
    assert client.reconnects >= 1
