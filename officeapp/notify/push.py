"""Sending frames to socket groups from synchronous code (the on_commit callbacks of services).

A network layer (channels-redis) is driven from one private event loop per process, on a daemon
thread, so its connection is opened once and kept: `async_to_sync` from a thread without a loop
(the worker, a management command) would create a loop, and a fresh Redis connection, per push.
The in-memory layer's queues belong to the server's own loop, so it is reached with
`async_to_sync`, which hands the call back to that loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

PUSH_TIMEOUT_SECONDS = 5.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _push_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        # After a fork (django-q2 forks its workers) the parent's loop thread does not exist here.
        if _loop is None or _loop.is_closed() or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="notify-push", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def send_to_groups(frames: list[tuple[str, dict[str, Any]]]) -> None:
    """group_send each (group, frame) in order. Failures are logged, not raised: the change is
    committed, and a client that missed a frame catches up with `hello` when it reconnects."""
    layer = get_channel_layer()
    if layer is None or not frames:
        return

    async def send_all() -> None:
        for group, frame in frames:
            await layer.group_send(group, frame)

    try:
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(send_all)()
        else:
            asyncio.run_coroutine_threadsafe(send_all(), _push_loop()).result(timeout=PUSH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("notification push failed")
