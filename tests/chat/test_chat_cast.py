from __future__ import annotations

from chat import access
from tests.chat.chat_cast import ChatCast


def test_the_audit_administrator_never_chats_and_everyone_else_may(chat: ChatCast) -> None:
    assert not access.may_chat(chat.audit_admin)
    assert all(access.may_chat(person) for person in [chat.owner, *chat.members(), chat.outsider])
