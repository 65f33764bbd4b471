"""Real processes and real websocket clients for the chat fan-out benchmark and reliability tests:
daphne servers and a private redis-server started on free ports, and `websockets` clients of /ws/
that subscribe to a conversation the way the browser does (tests/bench/test_chat_fanout_bench.py,
tests/reliability/test_chat_*.py)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = str(Path(sys.executable).with_name("daphne"))
REDIS_SERVER = "/usr/bin/redis-server"
ORIGIN = "http://127.0.0.1:8000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start on port {port}")


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def daphne(env: dict[str, str], application: str = "officeapp.asgi:application") -> Iterator[tuple[int, Any]]:
    """A daphne process serving `application` on a free port: (port, Popen)."""
    port = free_port()
    process = subprocess.Popen(
        [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "--websocket_connect_timeout", "120", application],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if not os.environ.get("CHAT_BENCH_DEBUG") else None,
    )
    try:
        wait_for_port(port, f"daphne {application}")
        yield port, process
    finally:
        stop(process)


class RedisServer:
    """A redis-server of our own (never the machine's shared one), restartable on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, "redis-server")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()


# --- the Django side (call with Django set up): a group, and sending the way chat.services does ----
def make_group(owner: Any, members: list[Any], name: str = "跨厅工作组") -> int:
    from chat.models import Conversation, ConversationKind, MemberRole, Membership

    conversation = Conversation.objects.create(
        kind=ConversationKind.GROUP, name=name, created_by=owner, member_count=1 + len(members)
    )
    Membership.objects.create(conversation=conversation, user=owner, role=MemberRole.OWNER)
    Membership.objects.bulk_create([Membership(conversation=conversation, user=user) for user in members])
    return conversation.pk


def post(conversation_id: int, sender: Any, body: str, *, push: bool = True) -> int:
    """Commit one text message (lock the conversation, seq + 1) and, push=True, publish it after
    commit as chat.services does; returns its seq. push=False is a publish lost on the way."""
    from django.db import transaction
    from django.utils import timezone

    from chat import live
    from chat.frames import message_frame
    from chat.models import Conversation, Message

    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        conversation.last_seq += 1
        conversation.last_message_at = timezone.now()
        conversation.save(update_fields=["last_seq", "last_message_at"])
        message = Message.objects.create(
            conversation=conversation, seq=conversation.last_seq, sender=sender, body=body
        )
        if push:
            transaction.on_commit(
                lambda: live.publish(
                    conversation_id,
                    {
                        "type": "chat.message",
                        "conversation": conversation_id,
                        "message": message_frame(message),
                    },
                )
            )
    return message.seq


def remove(conversation_id: int, user: Any) -> None:
    """Take a member out and tell them, as chat.services.remove_member does."""
    from django.db import transaction
    from django.utils import timezone

    from chat import live
    from chat.models import Membership

    with transaction.atomic():
        Membership.objects.filter(conversation_id=conversation_id, user=user).update(left_at=timezone.now())
        frame = {"type": "chat.conversation", "event": "removed", "conversation": {"id": conversation_id}}
        transaction.on_commit(lambda: live.publish_to_users([user.pk], frame))


def session_key_for(user: Any) -> str:
    """A signed-in session of the user in the session store (the database), as after a login."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "officeapp.accounts.backends.LockoutAwareBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


def websockets_closed() -> type[Exception]:
    from websockets.exceptions import WebSocketException

    return WebSocketException


async def connect(port: int, session_key: str) -> Any:
    from websockets.asyncio.client import connect as ws_connect

    return await ws_connect(
        f"ws://127.0.0.1:{port}/ws/",
        origin=ORIGIN,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={session_key}"},
        open_timeout=60,
        max_queue=None,
        ping_interval=None,
    )


@dataclass
class ChatClient:
    """One browser tab: subscribes to a conversation, keeps every message it is given by seq (and
    counts repeats), asks for the next page on "more", and (reconnect=True) reconnects and
    subscribes again from its last seq when the socket drops."""

    port: int
    session_key: str
    conversation_id: int
    reconnect: bool = False
    last_seq: int = 0
    seqs: list[int] = field(default_factory=list)
    duplicates: int = 0
    reconnects: int = 0
    arrived: dict[int, float] = field(default_factory=dict)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _ws: Any = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._open()
        self._task = asyncio.create_task(self._run())

    async def _open(self) -> None:
        self.subscribed.clear()
        self._ws = await connect(self.port, self.session_key)
        await self._subscribe()

    async def _subscribe(self) -> None:
        await self._ws.send(
            json.dumps(
                {"type": "chat.subscribe", "conversations": {str(self.conversation_id): self.last_seq}}
            )
        )

    def _take(self, message: dict[str, Any], now: float) -> None:
        seq = int(message["seq"])
        if seq <= self.last_seq:
            self.duplicates += 1
            return
        self.seqs.append(seq)
        self.arrived[seq] = now
        self.last_seq = seq

    async def _run(self) -> None:
        while True:
            try:
                async for text in self._ws:
                    now = time.monotonic()
                    frame = json.loads(text)
                    kind = frame.get("type")
                    if kind == "chat.message":
                        self._take(frame["message"], now)
                    elif kind == "chat.catchup":
                        for message in frame["messages"]:
                            self._take(message, now)
                        if frame["more"]:
                            await self._subscribe()
                        else:
                            self.subscribed.set()
                    self.changed.set()
            except (OSError, ConnectionError, websockets_closed()):
                pass  # the socket dropped: reconnect below, or end
            if not self.reconnect:
                return
            while True:  # the server (or the layer under it) is back when a subscribe succeeds
                await asyncio.sleep(0.2)
                try:
                    await self._open()
                    self.reconnects += 1
                    break
                except (OSError, TimeoutError, websockets_closed()):
                    continue  # not back yet

    async def wait_for(self, seq: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.last_seq < seq:
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"client has seq {self.last_seq}, waited for {seq}")
            with suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    async def close(self) -> None:
        self.reconnect = False
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
