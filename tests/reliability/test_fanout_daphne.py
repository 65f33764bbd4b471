"""The fan-out's direct send path under a real daphne process (officeapp.notify.fanout.write).

The fan-out hands pre-framed websocket bytes to daphne's TCP transport itself (D32) instead of going
through each consumer's base_send. What a user would notice if that were wrong: frames missing,
out of order, cut, or mixed with the frames the consumer sends the usual way. So here one daphne
process serves the real application with two test-only socket handlers (registered by this module
when daphne imports it), clients join a fan-out group, and this process publishes small frames
around one frame larger than a socket write takes at once (so the kernel takes part of it and the
rest is queued): every client must get every frame, whole and in order, and a frame the consumer
sends itself in between must arrive between them. The server also says whether the direct path was
the one used, so the test cannot pass on the fallback alone.

Needs PostgreSQL (the daphne process reads the sessions this test commits) and REDIS_URL (the
publish crosses processes); each skips with its reason.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from tests.bench.chat_clients import connect, daphne, session_key_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

GROUP = "fanout.test.direct"
BIG = 300_000  # characters (900 kB): more than one socket send takes (Twisted sends 128 KiB at a time)

# Skipped, with these reasons, only where the services they need are not configured (CI has both).
NEEDS_POSTGRES = (
    "fan-out 跨进程测试需要 PostgreSQL（daphne 子进程读同一个测试数据库）：请设置 DATABASE_URL=postgres://…"
)
NEEDS_REDIS = "fan-out 跨进程测试需要 Redis 通道层：请设置 REDIS_URL=redis://127.0.0.1:6379/0"


if os.environ.get("FANOUT_TEST_ROLE") == "server":
    from officeapp.asgi import application as fanout_test_application  # noqa: F401  (django.setup())
    from officeapp.notify import fanout
    from officeapp.registries import socket_handlers

    async def _join(consumer: Any, payload: dict[str, Any]) -> None:
        await fanout.join(consumer, GROUP)
        direct = fanout._daphne_protocol(consumer) is not None
        await consumer.send_json({"type": "test.joined", "direct": direct})

    async def _say(consumer: Any, payload: dict[str, Any]) -> None:
        await consumer.send_json({"type": "test.said", "n": payload.get("n")})

    socket_handlers.register("fanout.test.join", _join)
    socket_handlers.register("fanout.test.say", _say)


@pytest.fixture
def server_env() -> dict[str, str]:
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
        "FANOUT_TEST_ROLE": "server",
    }


def test_published_frames_reach_every_socket_whole_and_in_order_around_a_large_one(cast, server_env):
    from officeapp.notify import fanout

    keys = [session_key_for(user) for user in (cast.clerk, cast.drafter, cast.dept_head)]
    application = "tests.reliability.test_fanout_daphne:fanout_test_application"
    with daphne(server_env, application) as (port, _):

        async def scenario() -> tuple[list[bool], list[list[dict[str, Any]]]]:
            sockets = [await connect(port, key) for key in keys]
            direct = []
            for ws in sockets:
                await ws.send(json.dumps({"type": "fanout.test.join"}))
                direct.append(json.loads(await asyncio.wait_for(ws.recv(), 30))["direct"])
            frames: list[dict[str, Any]] = [{"type": "test.small", "n": n} for n in range(1, 51)]
            frames.insert(25, {"type": "test.big", "n": 0, "body": "会" * BIG})
            for frame in frames[:30]:
                await sync_to_async(fanout.publish)(GROUP, frame)
            await asyncio.sleep(1.0)  # delivered (or queued) by now
            # The consumer's own frame (base_send) between published ones.
            await sockets[0].send(json.dumps({"type": "fanout.test.say", "n": "mine"}))
            await asyncio.sleep(0.5)
            for frame in frames[30:]:
                await sync_to_async(fanout.publish)(GROUP, frame)
            received: list[list[dict[str, Any]]] = []
            for ws in sockets:
                expected = len(frames) + (1 if ws is sockets[0] else 0)
                received.append([json.loads(await asyncio.wait_for(ws.recv(), 30)) for _ in range(expected)])
                await ws.close()
            await sync_to_async(connections.close_all, thread_sensitive=True)()
            return direct, received

        direct, received = asyncio.run(scenario())
    assert direct == [True, True, True]
    for got in received:
        published = [f for f in got if f["type"] in ("test.small", "test.big")]
        assert [f["n"] for f in published] == [*range(1, 26), 0, *range(26, 51)]
        assert len(published[25]["body"]) == BIG
    mine = [f["type"] for f in received[0]]
    assert mine.count("test.said") == 1
    said_at = mine.index("test.said")
    smalls_before = [f["n"] for f in received[0][:said_at] if f["type"] == "test.small"]
    assert smalls_before == list(range(1, 30))  # the 29 published before it, big one included
