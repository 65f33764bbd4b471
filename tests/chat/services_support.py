"""What the chat service tests share: a group of the cast, and the pushes a service made after commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from chat import services
from chat.models import Conversation
from tests.chat.chat_cast import ChatCast


@dataclass
class Pushes:
    """Frames handed to chat.live after commit: (conversation id, frame) and (user ids, frame)."""

    to_conversations: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    to_users: list[tuple[list[int], dict[str, Any]]] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [frame for _, frame in self.to_conversations if frame["type"] == kind]

    def users_told(self, event: str) -> set[int]:
        return {uid for ids, frame in self.to_users if frame.get("event") == event for uid in ids}

    def clear(self) -> None:
        self.to_conversations.clear()
        self.to_users.clear()


@pytest.fixture
def pushes(monkeypatch: Any) -> Pushes:
    from chat import live

    seen = Pushes()
    monkeypatch.setattr(live, "publish", lambda cid, frame: seen.to_conversations.append((cid, frame)))
    monkeypatch.setattr(live, "publish_to_users", lambda ids, frame: seen.to_users.append((list(ids), frame)))
    return seen


@pytest.fixture
def no_worker(monkeypatch: Any) -> list[tuple[str, tuple[Any, ...]]]:
    """Tasks queued for the worker, recorded instead of queued."""
    import django_q.tasks

    queued: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(
        django_q.tasks, "async_task", lambda func, *args, **kwargs: queued.append((func, args))
    )
    return queued


def working_group(chat: ChatCast, *, name: str = "跨部门预算工作组") -> Conversation:
    """owner's group with admin (made a group admin), finance_member and education_member."""
    group = services.create_group(actor=chat.owner, name=name, members=chat.members())
    services.set_admin(group, chat.admin, actor=chat.owner, admin=True)
    group.refresh_from_db()
    return group
