"""The message and conversation frames: what every recipient's client receives."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from chat.frames import MESSAGE_RELATED, conversation_frame, message_frame
from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message, MessageKind
from tests.chat.chat_cast import ChatCast

pytestmark = pytest.mark.django_db


def group_of(chat: ChatCast) -> Conversation:
    group = Conversation.objects.create(
        kind=ConversationKind.GROUP, name="预算协调组", member_count=2, last_seq=2
    )
    Membership.objects.create(conversation=group, user=chat.owner, role=MemberRole.OWNER)
    Membership.objects.create(conversation=group, user=chat.finance_member)
    return group


def test_a_text_message_frame_names_the_sender_and_their_agency(chat: ChatCast) -> None:
    group = group_of(chat)
    sent = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    Message.objects.create(
        conversation=group, seq=1, sender=chat.finance_member, body="收到", created_at=sent
    )
    message = Message.objects.select_related(*MESSAGE_RELATED).get(conversation=group, seq=1)

    frame = message_frame(message)

    assert frame["sender"] == {"id": chat.finance_member.pk, "name": "李国华", "agency": "省财政厅"}
    assert frame["body"] == "收到"
    assert frame["created_at"] == "2026-03-01T02:30:00Z"
    assert frame["kind"] == "text"
    assert frame["recalled"] is False
    json.dumps(frame)  # the frame goes on the wire as it is


def test_a_reply_quotes_an_excerpt_which_disappears_once_the_quoted_message_is_recalled(
    chat: ChatCast,
) -> None:
    group = group_of(chat)
    quoted = Message.objects.create(conversation=group, seq=1, sender=chat.owner, body="请各位周五前报送预算")
    Message.objects.create(
        conversation=group, seq=2, sender=chat.finance_member, body="好的", reply_to=quoted
    )
    reply = Message.objects.select_related(*MESSAGE_RELATED).get(conversation=group, seq=2)
    assert message_frame(reply)["reply_to"] == {
        "id": quoted.pk,
        "seq": 1,
        "sender_name": "林小梅",
        "excerpt": "请各位周五前报送预算",
    }

    Message.objects.filter(pk=quoted.pk).update(recalled_at=timezone.now(), body="")
    reply = Message.objects.select_related(*MESSAGE_RELATED).get(conversation=group, seq=2)
    assert message_frame(reply)["reply_to"]["excerpt"] == ""


def test_a_recalled_message_frame_carries_no_text_and_no_file(chat: ChatCast) -> None:
    group = group_of(chat)
    message = Message.objects.create(
        conversation=group,
        seq=1,
        sender=chat.owner,
        kind=MessageKind.FILE,
        body="附件说明",
        file_name="预算.pdf",
        file_size=10,
        recalled_at=timezone.now(),
        recalled_by=chat.owner,
    )
    frame = message_frame(message)
    assert frame["body"] == ""
    assert frame["file"] is None
    assert frame["recalled"] is True
    assert frame["recalled_by_admin"] is False


def test_a_forwarded_message_keeps_its_origin(chat: ChatCast) -> None:
    group = group_of(chat)
    message = Message.objects.create(
        conversation=group,
        seq=1,
        sender=chat.owner,
        body="转发的内容",
        origin_sender_name="陈志强",
        origin_conversation_name="综合处内部群",
    )
    assert message_frame(message)["forwarded"] == {
        "sender_name": "陈志强",
        "conversation_name": "综合处内部群",
    }


def test_a_system_message_has_no_sender(chat: ChatCast) -> None:
    group = group_of(chat)
    message = Message.objects.create(
        conversation=group,
        seq=1,
        kind=MessageKind.SYSTEM,
        body="林小梅 创建了群聊",
        data={"event": "created"},
    )
    frame = message_frame(message)
    assert frame["sender"] is None
    assert frame["data"] == {"event": "created"}


def test_conversation_frame_counts_unread_for_that_member(chat: ChatCast) -> None:
    group = group_of(chat)
    Message.objects.create(conversation=group, seq=1, sender=chat.owner, body="一")
    Message.objects.create(conversation=group, seq=2, sender=chat.owner, body="二")
    membership = Membership.objects.get(conversation=group, user=chat.finance_member)
    membership.last_read_seq = 1

    frame = conversation_frame(group, membership)

    assert frame["unread"] == 1
    assert frame["name"] == "预算协调组"
    assert frame["last_message"]["body"] == "二"
    assert frame["dissolved"] is False
