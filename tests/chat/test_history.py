"""The read side: history pages, the conversation list, unread counts, receipts, bounded search."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import history
from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message, MessageKind
from tests.chat.chat_cast import ChatCast

pytestmark = pytest.mark.django_db


def make_group(owner: Any, members: list[Any], *, name: str = "跨部门工作组") -> Conversation:
    """A group written straight to the tables: these tests read, the services have their own tests."""
    conversation = Conversation.objects.create(
        kind=ConversationKind.GROUP, name=name, member_count=1 + len(members)
    )
    Membership.objects.create(conversation=conversation, user=owner, role=MemberRole.OWNER)
    for user in members:
        Membership.objects.create(conversation=conversation, user=user)
    return conversation


def add_messages(conversation: Conversation, sender: Any, count: int, *, body: str = "消息") -> list[Message]:
    start = conversation.last_seq
    now = timezone.now()
    rows = Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                seq=start + n,
                sender=sender,
                body=f"{body}{start + n}",
                created_at=now,
            )
            for n in range(1, count + 1)
        ]
    )
    conversation.last_seq = start + count
    conversation.last_message_at = now
    conversation.save(update_fields=["last_seq", "last_message_at"])
    return rows


def membership_of(conversation: Conversation, user: Any) -> Membership:
    return Membership.objects.select_related("conversation").get(conversation=conversation, user=user)


def test_newest_page_comes_first_and_older_pages_follow_without_gaps(chat: ChatCast) -> None:
    group = make_group(chat.owner, chat.members())
    add_messages(group, chat.owner, 120)
    membership = membership_of(group, chat.admin)

    page, more = history.messages_before(membership, None, limit=50)
    assert [m.seq for m in page] == list(range(71, 121))
    assert more

    seen = [m.seq for m in page]
    while more:
        page, more = history.messages_before(membership, page[0].seq, limit=50)
        seen = [m.seq for m in page] + seen
    assert seen == list(range(1, 121))


def test_catch_up_after_a_seq_returns_every_missed_message_once_in_order(chat: ChatCast) -> None:
    group = make_group(chat.owner, chat.members())
    add_messages(group, chat.owner, 450)
    membership = membership_of(group, chat.finance_member)

    received: list[int] = []
    last, more = 7, True
    while more:
        page, more = history.messages_after(membership, last, limit=200)
        received += [m.seq for m in page]
        last = page[-1].seq if page else last
    assert received == list(range(8, 451))


def test_a_member_who_joined_later_sees_history_only_from_joining_on(chat: ChatCast) -> None:
    group = make_group(chat.owner, [chat.admin])
    add_messages(group, chat.owner, 30)
    late = Membership.objects.create(
        conversation=group, user=chat.education_member, joined_seq=30, last_read_seq=30
    )
    add_messages(group, chat.owner, 5)
    late = membership_of(group, chat.education_member)

    page, more = history.messages_before(late, None)
    assert [m.seq for m in page] == [31, 32, 33, 34, 35]
    assert not more
    assert [m.seq for m in history.messages_after(late, 0)[0]] == [31, 32, 33, 34, 35]


def test_history_pages_read_a_fixed_number_of_queries_whatever_the_length(
    chat: ChatCast, django_assert_max_num_queries: Any
) -> None:
    group = make_group(chat.owner, chat.members())
    add_messages(group, chat.owner, 300)
    membership = membership_of(group, chat.admin)
    with django_assert_max_num_queries(1):
        history.messages_before(membership, 200, limit=50)
    with django_assert_max_num_queries(1):
        history.messages_after(membership, 10, limit=200)


def test_history_pages_never_use_offset_nor_count(chat: ChatCast) -> None:
    group = make_group(chat.owner, chat.members())
    add_messages(group, chat.owner, 80)
    membership = membership_of(group, chat.admin)
    with CaptureQueriesContext(connection) as queries:
        history.messages_before(membership, 60, limit=20)
        history.messages_after(membership, 5, limit=20)
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql


def test_conversation_list_puts_pinned_first_then_latest_activity(chat: ChatCast) -> None:
    older = make_group(chat.owner, [chat.admin], name="旧群")
    add_messages(older, chat.admin, 1)
    newer = make_group(chat.owner, [chat.finance_member], name="新群")
    add_messages(newer, chat.finance_member, 2)
    pinned = make_group(chat.owner, [chat.education_member], name="置顶群")
    Conversation.objects.filter(pk=pinned.pk).update(last_message_at=None)
    Membership.objects.filter(conversation=pinned, user=chat.owner).update(pinned=True)

    rows = history.conversation_rows(chat.owner)

    assert [r["name"] for r in rows] == ["置顶群", "新群", "旧群"]
    assert rows[0]["pinned"] is True
    assert rows[1]["unread"] == 2
    assert rows[1]["last_message"]["body"] == "消息2"
    assert rows[1]["last_message"]["sender"]["name"] == "李国华"


def test_a_direct_chat_is_listed_under_the_other_persons_name(chat: ChatCast) -> None:
    lo, hi = sorted([chat.owner.pk, chat.finance_member.pk])
    direct = Conversation.objects.create(
        kind=ConversationKind.DIRECT, direct_key=f"{lo}:{hi}", member_count=2
    )
    Membership.objects.create(conversation=direct, user=chat.owner)
    Membership.objects.create(conversation=direct, user=chat.finance_member)

    assert history.conversation_rows(chat.owner)[0]["name"] == "李国华"
    assert history.conversation_rows(chat.finance_member)[0]["name"] == "林小梅"


def test_conversation_list_and_unread_total_are_constant_in_queries(
    chat: ChatCast, django_assert_max_num_queries: Any
) -> None:
    for n in range(3):
        add_messages(make_group(chat.owner, [chat.admin], name=f"群{n}"), chat.admin, 2)
    with CaptureQueriesContext(connection) as few:
        history.conversation_rows(chat.owner)
    for n in range(3, 30):
        group = make_group(chat.owner, [chat.admin, chat.finance_member], name=f"群{n}")
        add_messages(group, chat.finance_member, 3)
    for other in (chat.admin, chat.finance_member, chat.education_member):
        lo, hi = sorted([chat.owner.pk, other.pk])
        direct = Conversation.objects.create(
            kind=ConversationKind.DIRECT, direct_key=f"{lo}:{hi}", member_count=2
        )
        Membership.objects.create(conversation=direct, user=chat.owner)
        Membership.objects.create(conversation=direct, user=other)
        add_messages(direct, other, 1)

    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        rows = history.conversation_rows(chat.owner)
    assert len(rows) == 33
    with django_assert_max_num_queries(1):
        assert history.unread_total(chat.owner) == 3 * 2 + 27 * 3 + 3


def test_unread_total_leaves_out_muted_conversations_and_read_messages(chat: ChatCast) -> None:
    loud = make_group(chat.owner, [chat.admin], name="工作群")
    add_messages(loud, chat.owner, 5)
    quiet = make_group(chat.owner, [chat.admin], name="闲聊群")
    add_messages(quiet, chat.owner, 7)
    Membership.objects.filter(conversation=quiet, user=chat.admin).update(muted=True)
    Membership.objects.filter(conversation=loud, user=chat.admin).update(last_read_seq=3)

    assert history.unread_total(chat.admin) == 2


def test_conversations_left_are_not_listed(chat: ChatCast) -> None:
    group = make_group(chat.owner, [chat.admin])
    add_messages(group, chat.owner, 4)
    Membership.objects.filter(conversation=group, user=chat.admin).update(left_at=timezone.now())

    assert history.conversation_rows(chat.admin) == []
    assert history.unread_total(chat.admin) == 0


def test_receipts_list_who_read_and_who_did_not_without_the_sender_or_later_members(chat: ChatCast) -> None:
    group = make_group(chat.owner, [chat.admin, chat.finance_member])
    (message,) = add_messages(group, chat.owner, 1)
    Membership.objects.filter(conversation=group, user=chat.admin).update(last_read_seq=1)
    Membership.objects.create(conversation=group, user=chat.education_member, joined_seq=1, last_read_seq=1)

    receipts = history.read_receipts(message)

    assert receipts["read"] == [chat.admin]
    assert receipts["unread"] == [chat.finance_member]


def test_search_finds_text_newest_first_but_never_recalled_or_system_messages(chat: ChatCast) -> None:
    group = make_group(chat.owner, [chat.admin])
    add_messages(group, chat.owner, 3, body="预算表")
    add_messages(group, chat.owner, 2, body="会议纪要")
    Message.objects.filter(conversation=group, seq=2).update(recalled_at=timezone.now(), body="")
    Message.objects.create(conversation=group, seq=6, kind=MessageKind.SYSTEM, body="预算表群已改名")
    Conversation.objects.filter(pk=group.pk).update(last_seq=6)

    found = history.search_in(membership_of(group, chat.admin), "预算")

    assert [m.seq for m in found] == [3, 1]
    assert history.search_in(membership_of(group, chat.admin), "   ") == []


def test_search_scans_only_the_newest_window_of_a_conversation(chat: ChatCast, monkeypatch: Any) -> None:
    monkeypatch.setattr(history, "SEARCH_WINDOW", 10)
    group = make_group(chat.owner, [chat.admin])
    add_messages(group, chat.owner, 30, body="通知")

    found = history.search_in(membership_of(group, chat.admin), "通知")

    assert [m.seq for m in found] == list(range(30, 20, -1))


def test_file_of_a_recalled_message_is_no_longer_served(chat: ChatCast) -> None:
    from officeapp.blobs.models import Blob

    blob = Blob.objects.create(sha256="a" * 64, size=3, content_type="application/pdf", key="k/" + "a" * 64)
    group = make_group(chat.owner, [chat.admin])
    message = Message.objects.create(
        conversation=group,
        seq=1,
        sender=chat.owner,
        kind=MessageKind.FILE,
        blob=blob,
        file_name="a.pdf",
        file_size=3,
    )
    assert history.file_blob_for(message) == blob

    message.recalled_at = timezone.now()
    assert history.file_blob_for(message) is None
