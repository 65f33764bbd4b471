"""The "channel_layer" health check: a real group_send → receive round trip on the configured layer."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

ROUND_TRIP_TIMEOUT = 2.0


def check_channel_layer() -> None:
    """Raises when the layer cannot carry a message to a group member within the timeout."""
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("未配置 channel layer")
    nonce = uuid.uuid4().hex

    async def round_trip() -> None:
        channel = await layer.new_channel()
        group = f"health.{nonce}"
        await layer.group_add(group, channel)
        try:
            await layer.group_send(group, {"type": "health.ping", "nonce": nonce})
            message = await asyncio.wait_for(layer.receive(channel), timeout=ROUND_TRIP_TIMEOUT)
        finally:
            await layer.group_discard(group, channel)
        if message.get("nonce") != nonce:
            raise RuntimeError("channel layer 返回了错误的消息")

    async_to_sync(round_trip)()
