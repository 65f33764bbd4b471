"""Sending, replying, mentioning, recalling, forwarding and reading messages (chat.services)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.http import Http404
from django.test import override_settings
from django.utils import timezone

from chat import history, services
from chat.errors import ChatError
from chat.models import Membership, Message, MessageKind
from officeapp.audit.models import AuditEvent
from officeapp.notify.models import Notification
from officeapp.outbox.models import OutboxEvent
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import Pushes, no_worker, pushes, working_group

__all__ = ["no_worker", "pushes"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_counters() -> None:
    cache.clear()


def test_messages_get_seq_one_after_another_and_the_sender_has_read_their_own(chat: ChatCast) -> None:
    group = working_group(chat)
    start = group.last_seq

    first = services.send_text(group, actor=chat.owner, body="各位好")
    second = services.send_text(group, actor=chat.finance_member, body="收到")

    assert (first.seq, second.seq) == (start + 1, start + 2)
    group.refresh_from_db()
    assert group.last_seq == start + 2
    assert Membership.objects.get(conversation=group, user=chat.finance_member).last_read_seq == start + 2
    assert Membership.objects.get(conversation=group, user=chat.owner).last_read_seq == start + 1
    assert history.unread_total(chat.owner) == 1


def test_a_new_message_is_pushed_after_commit_with_one_frame_and_an_outbox_row(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    pushes.clear()

    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_text(group, actor=chat.finance_member, body="预算表已上传", client_id="c-1")

    (frame,) = pushes.of_type("chat.message")
    assert frame["conversation"] == group.pk
    assert frame["message"]["seq"] == message.seq
    assert frame["message"]["body"] == "预算表已上传"
    assert frame["message"]["client_id"] == "c-1"
    assert frame["message"]["sender"]["agency"] == "省财政厅"
    assert OutboxEvent.objects.filter(topic="chat.message", object_id=str(message.pk)).exists()


def test_nothing_is_pushed_when_the_send_is_refused(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    pushes.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ChatError):
        services.send_text(group, actor=chat.owner, body="   ")
    assert pushes.to_conversations == []


def test_a_retried_send_returns_the_stored_message_instead_of_a_second_one(chat: ChatCast) -> None:
    group = working_group(chat)

    first = services.send_text(group, actor=chat.owner, body="明早九点开会", client_id="phone-42")
    retry = services.send_text(group, actor=chat.owner, body="明早九点开会", client_id="phone-42")

    assert retry.pk == first.pk
    assert Message.objects.filter(conversation=group, client_id="phone-42").count() == 1


def test_another_person_may_use_the_same_client_id(chat: ChatCast) -> None:
    group = working_group(chat)
    mine = services.send_text(group, actor=chat.owner, body="一", client_id="same")
    theirs = services.send_text(group, actor=chat.admin, body="二", client_id="same")
    assert mine.pk != theirs.pk


@pytest.mark.parametrize(
    ("body", "refusal"),
    [("", "消息不能为空。"), ("   \n ", "消息不能为空。"), ("字" * 11, "消息过长：最多 10 个字。")],
)
@override_settings(CHAT_MESSAGE_MAX_CHARS=10)
def test_an_empty_or_too_long_message_is_refused_in_chinese(chat: ChatCast, body: str, refusal: str) -> None:
    group = working_group(chat)
    before = group.last_seq
    with pytest.raises(ChatError) as refused:
        services.send_text(group, actor=chat.owner, body=body)
    assert refused.value.message == refusal
    group.refresh_from_db()
    assert group.last_seq == before


def test_an_outsider_cannot_send_and_gets_the_same_404_as_for_a_missing_conversation(chat: ChatCast) -> None:
    group = working_group(chat)
    with pytest.raises(Http404):
        services.send_text(group, actor=chat.outsider, body="我也想说两句")
    assert not Message.objects.filter(conversation=group, sender=chat.outsider).exists()


def test_the_audit_admin_never_chats(chat: ChatCast) -> None:
    with pytest.raises(Http404):
        services.open_direct(chat.owner, actor=chat.audit_admin)


@override_settings(CHAT_SEND_RATE=(3, 60))
def test_sending_too_fast_is_refused_but_a_retry_of_a_stored_message_is_not(chat: ChatCast) -> None:
    group = working_group(chat)
    for n in range(3):
        services.send_text(group, actor=chat.finance_member, body=f"第{n}条", client_id=f"c{n}")

    with pytest.raises(ChatError) as refused:
        services.send_text(group, actor=chat.finance_member, body="第四条")
    assert refused.value.message == "发送过于频繁，请稍后再试。"
    assert services.send_text(group, actor=chat.finance_member, body="第0条", client_id="c0").body == "第0条"
    # Somebody else is not slowed down by it.
    services.send_text(group, actor=chat.owner, body="慢一点")


def test_a_reply_quotes_a_message_of_the_same_conversation_only(chat: ChatCast) -> None:
    group = working_group(chat)
    other = services.create_group(actor=chat.admin, name="另一个群", members=[chat.finance_member])
    question = services.send_text(group, actor=chat.owner, body="谁负责报表？")
    elsewhere = services.send_text(other, actor=chat.admin, body="别处的话")

    answer = services.send_text(group, actor=chat.finance_member, body="我来", reply_to=question)
    assert answer.reply_to_id == question.pk
    with pytest.raises(ChatError) as refused:
        services.send_text(group, actor=chat.finance_member, body="我来", reply_to=elsewhere)
    assert refused.value.message == "引用的消息不存在。"


def test_a_mention_notifies_the_mentioned_member_only_never_an_outsider_and_never_with_the_text(
    chat: ChatCast,
) -> None:
    group = working_group(chat)
    Notification.objects.all().delete()

    message = services.send_text(
        group,
        actor=chat.owner,
        body="@李国华 请核对机密数字 42",
        mentions=[chat.finance_member.pk, chat.outsider.pk],
    )

    notes = list(Notification.objects.filter(kind="chat.mention"))
    assert [n.recipient_id for n in notes] == [chat.finance_member.pk]
    assert notes[0].title == "林小梅 在「跨部门预算工作组」中@了你"
    assert notes[0].url == f"/chat/c/{group.pk}/#m{message.seq}"
    assert "42" not in notes[0].title + notes[0].body
    assert message.mentions == [chat.finance_member.pk]


def test_mention_all_by_an_admin_notifies_every_member_but_the_sender_and_those_who_muted(
    chat: ChatCast,
) -> None:
    group = working_group(chat)
    services.set_member_options(group, actor=chat.education_member, muted=True)
    Notification.objects.all().delete()

    services.send_text(group, actor=chat.admin, body="@所有人 下午三点开会", mention_all=True)

    told = set(Notification.objects.filter(kind="chat.mention").values_list("recipient_id", flat=True))
    assert told == {chat.owner.pk, chat.finance_member.pk}


def test_a_muted_member_is_still_told_of_a_direct_mention(chat: ChatCast) -> None:
    group = working_group(chat)
    services.set_member_options(group, actor=chat.education_member, muted=True)
    Notification.objects.all().delete()

    services.send_text(group, actor=chat.owner, body="@孙敏 看一下", mentions=[chat.education_member.pk])

    assert Notification.objects.filter(kind="chat.mention", recipient=chat.education_member).exists()


def test_mention_all_by_a_plain_member_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    with pytest.raises(ChatError) as refused:
        services.send_text(group, actor=chat.finance_member, body="@所有人 看这里", mention_all=True)
    assert refused.value.message == "只有群主和管理员可以@所有人。"


def test_the_sender_recalls_within_two_minutes_and_everyone_sees_the_marker(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.finance_member, body="发错群了")
    pushes.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.recall(message, actor=chat.finance_member)

    message.refresh_from_db()
    assert message.is_recalled and message.body == ""
    (frame,) = pushes.of_type("chat.recalled")
    assert frame["message"]["recalled"] is True and frame["message"]["body"] == ""
    assert frame["message"]["recalled_by_admin"] is False
    event = AuditEvent.objects.get(action="chat.message.recall")
    assert "发错群了" not in str(event.details)
    assert OutboxEvent.objects.filter(topic="chat.message.recalled", object_id=str(message.pk)).exists()
    membership = Membership.objects.select_related("conversation").get(conversation=group, user=chat.owner)
    assert history.search_in(membership, "发错") == []


def test_the_sender_cannot_recall_after_two_minutes_but_a_group_admin_can(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.finance_member, body="三分钟前的话")
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=3))

    with pytest.raises(ChatError) as refused:
        services.recall(message, actor=chat.finance_member)
    assert refused.value.message == "消息发送已超过2分钟，不能撤回。"

    recalled = services.recall(message, actor=chat.admin)
    assert recalled.is_recalled
    assert recalled.recalled_by_id == chat.admin.pk


def test_a_member_cannot_recall_someone_elses_message(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="群主的话")
    with pytest.raises(ChatError) as refused:
        services.recall(message, actor=chat.finance_member)
    assert refused.value.message == "只能撤回自己发送的消息。"


def test_a_message_is_recalled_only_once(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="一次")
    services.recall(message, actor=chat.owner)
    with pytest.raises(ChatError) as refused:
        services.recall(message, actor=chat.owner)
    assert refused.value.message == "该消息已撤回。"


def test_forwarding_copies_the_message_and_keeps_its_origin(chat: ChatCast) -> None:
    group = working_group(chat)
    original = services.send_text(group, actor=chat.finance_member, body="请查收通知")
    direct = services.open_direct(chat.outsider, actor=chat.owner)

    copy = services.forward(original, direct, actor=chat.owner)

    assert copy.conversation_id == direct.pk
    assert copy.body == "请查收通知"
    assert copy.sender_id == chat.owner.pk
    assert (copy.origin_sender_name, copy.origin_conversation_name) == ("李国华", "跨部门预算工作组")


def test_forwarding_into_a_conversation_the_actor_is_not_in_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    original = services.send_text(group, actor=chat.owner, body="内部消息")
    theirs = services.open_direct(chat.outsider, actor=chat.finance_member)

    with pytest.raises(Http404):
        services.forward(original, theirs, actor=chat.owner)
    assert not Message.objects.filter(conversation=theirs).exists()


def test_an_outsider_cannot_forward_a_message_they_cannot_see(chat: ChatCast) -> None:
    group = working_group(chat)
    original = services.send_text(group, actor=chat.owner, body="内部消息")
    theirs = services.open_direct(chat.education_member, actor=chat.outsider)
    with pytest.raises(Http404):
        services.forward(original, theirs, actor=chat.outsider)


def test_a_recalled_message_cannot_be_forwarded(chat: ChatCast) -> None:
    group = working_group(chat)
    original = services.send_text(group, actor=chat.owner, body="撤回的")
    services.recall(original, actor=chat.owner)
    direct = services.open_direct(chat.finance_member, actor=chat.owner)
    with pytest.raises(ChatError):
        services.forward(original, direct, actor=chat.owner)


def test_reading_moves_forward_only_and_stops_at_the_last_message(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    last = services.send_text(group, actor=chat.owner, body="最新").seq
    pushes.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.mark_read(group, actor=chat.finance_member, seq=last + 100).last_read_seq == last
        assert services.mark_read(group, actor=chat.finance_member, seq=1).last_read_seq == last

    assert pushes.of_type("chat.read") == [
        {"type": "chat.read", "conversation": group.pk, "user": chat.finance_member.pk, "seq": last}
    ]
    receipts = history.read_receipts(Message.objects.get(conversation=group, seq=last))
    assert chat.finance_member in receipts["read"]
    assert chat.admin in receipts["unread"]


def test_a_dissolved_group_is_read_only(chat: ChatCast) -> None:
    group = working_group(chat)
    services.dissolve(group, actor=chat.owner)
    with pytest.raises(ChatError) as refused:
        services.send_text(group, actor=chat.finance_member, body="还有人吗")
    assert refused.value.message == "该群聊已解散，不能再进行此操作。"
    membership = Membership.objects.select_related("conversation").get(
        conversation=group, user=chat.finance_member
    )
    page, _ = history.messages_before(membership, None)
    assert page[-1].kind == MessageKind.SYSTEM and page[-1].data["event"] == "dissolved"


def test_plain_sends_leave_no_audit_event(chat: ChatCast) -> None:
    group = working_group(chat)
    before = AuditEvent.objects.count()
    services.send_text(group, actor=chat.owner, body="普通消息")
    assert AuditEvent.objects.count() == before


def test_retention_empties_a_message_but_keeps_its_seq(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="很久以前")
    services.purge_message(message)
    message.refresh_from_db()
    assert message.body == "" and message.purged_at is not None
    assert Message.objects.filter(conversation=group, seq=message.seq).exists()
