"""officeapp.notify.fanout: one publish reaches every local socket of the group, once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from officeapp.notify import fanout


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.close_callbacks: list[Any] = []

    async def base_send(self, message: dict[str, Any]) -> None:
        self.sent.append(message["text"])


@pytest.mark.asyncio
async def test_one_publish_reaches_every_joined_socket_once_and_not_one_that_left() -> None:
    sockets = [FakeSocket() for _ in range(5)]
    for socket in sockets:
        await fanout.join(socket, "meeting.1")
    await fanout.join(sockets[0], "meeting.2")
    await fanout.leave(sockets[4], "meeting.1")
    await fanout.apublish("meeting.1", {"type": "meeting.page", "page": 3})
    await asyncio.sleep(0.05)
    assert [json.loads(t) for t in sockets[0].sent] == [{"type": "meeting.page", "page": 3}]
    assert all(len(s.sent) == 1 for s in sockets[:4])
    assert sockets[4].sent == []
    assert fanout.local_count("meeting.1") == 4


@pytest.mark.asyncio
async def test_a_closed_socket_leaves_every_group() -> None:
    socket = FakeSocket()
    await fanout.join(socket, "meeting.7")
    await fanout.join(socket, "meeting.8")
    for callback in socket.close_callbacks:
        await callback()
    assert fanout.local_count("meeting.7") == 0 and fanout.local_count("meeting.8") == 0
