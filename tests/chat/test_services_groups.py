"""1:1 chats and groups: opening, creating, renaming, notices, members, roles, leaving, dissolving."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.http import Http404
from django.test import override_settings

from chat import access, history, services
from chat.errors import ChatError
from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message, MessageKind
from officeapp.audit.models import AuditEvent
from officeapp.notify.models import Notification
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import Pushes, pushes, working_group

__all__ = ["pushes"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_counters() -> None:
    cache.clear()


def system_events(conversation: Conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, kind=MessageKind.SYSTEM)
        .order_by("seq")
        .values_list("data__event", flat=True)
    )


def last_system_body(conversation: Conversation) -> str:
    return Message.objects.filter(conversation=conversation, kind=MessageKind.SYSTEM).order_by("-seq")[0].body


def test_opening_a_direct_chat_twice_gives_the_same_conversation(chat: ChatCast) -> None:
    first = services.open_direct(chat.finance_member, actor=chat.owner)
    again = services.open_direct(chat.owner, actor=chat.finance_member)

    assert first.pk == again.pk
    assert first.kind == ConversationKind.DIRECT
    assert Conversation.objects.filter(kind=ConversationKind.DIRECT).count() == 1
    assert set(Membership.objects.filter(conversation=first).values_list("user_id", flat=True)) == {
        chat.owner.pk,
        chat.finance_member.pk,
    }


def test_chatting_with_oneself_is_refused(chat: ChatCast) -> None:
    with pytest.raises(ChatError) as refused:
        services.open_direct(chat.owner, actor=chat.owner)
    assert refused.value.message == "不能和自己发起单聊。"


def test_a_disabled_person_can_neither_be_chatted_with_nor_added(chat: ChatCast) -> None:
    from officeapp.org.services import disable_user

    disable_user(chat.education_member, actor=None)
    chat.education_member.refresh_from_db()

    with pytest.raises(ChatError) as refused:
        services.open_direct(chat.education_member, actor=chat.owner)
    assert refused.value.message == "孙敏 的账号已停用，不能加入聊天。"
    group = services.create_group(actor=chat.owner, name="工作组", members=[chat.admin])
    with pytest.raises(ChatError):
        services.add_members(group, [chat.education_member], actor=chat.owner)
    assert not Membership.objects.filter(conversation=group, user=chat.education_member).exists()


def test_creating_a_group_makes_the_creator_owner_and_says_so(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        group = services.create_group(actor=chat.owner, name="跨部门预算工作组", members=chat.members())

    assert group.member_count == 4
    assert Membership.objects.get(conversation=group, user=chat.owner).role == MemberRole.OWNER
    assert last_system_body(group) == "林小梅 创建了群聊"
    assert pushes.users_told("added") == {chat.owner.pk, *(u.pk for u in chat.members())}
    assert AuditEvent.objects.filter(action="chat.group.create", object_id=str(group.pk)).exists()


@override_settings(CHAT_GROUP_MAX_MEMBERS=3)
def test_a_group_over_the_member_limit_is_refused(chat: ChatCast) -> None:
    with pytest.raises(ChatError) as refused:
        services.create_group(actor=chat.owner, name="大群", members=chat.members())
    assert refused.value.message == "群成员不能超过 3 人。"
    group = services.create_group(actor=chat.owner, name="小群", members=[chat.admin, chat.finance_member])
    with pytest.raises(ChatError):
        services.add_members(group, [chat.education_member], actor=chat.owner)


def test_rename_notice_and_admin_changes_leave_system_messages_and_audit_events(chat: ChatCast) -> None:
    group = working_group(chat)
    services.rename(group, actor=chat.admin, name="预算协调组")
    services.set_notice(group, actor=chat.owner, notice="周五前报送预算")

    assert system_events(group) == ["created", "admin", "renamed", "notice"]
    assert last_system_body(group) == "林小梅 更新了群公告"
    group.refresh_from_db()
    assert group.name == "预算协调组" and group.notice == "周五前报送预算"
    # Open pages update the banner from the system message itself.
    assert group.messages.order_by("-seq").first().data["notice"] == "周五前报送预算"
    actions = set(AuditEvent.objects.filter(object_id=str(group.pk)).values_list("action", flat=True))
    assert {"chat.group.create", "chat.group.admin", "chat.group.rename", "chat.group.notice"} <= actions
    for event in AuditEvent.objects.filter(action__startswith="chat."):
        assert "周五前报送预算" not in str(event.details)


def test_a_new_notice_notifies_the_members_who_did_not_mute_the_group(chat: ChatCast) -> None:
    group = working_group(chat)
    services.set_member_options(group, actor=chat.education_member, muted=True)
    Notification.objects.all().delete()

    services.set_notice(group, actor=chat.owner, notice="明天放假")

    told = set(Notification.objects.filter(kind="chat.notice").values_list("recipient_id", flat=True))
    assert told == {chat.admin.pk, chat.finance_member.pk}


def test_a_plain_member_cannot_rename_or_add_people(chat: ChatCast) -> None:
    group = working_group(chat)
    with pytest.raises(ChatError) as refused:
        services.rename(group, actor=chat.finance_member, name="我的群")
    assert refused.value.message == "只有群主和管理员可以进行此操作。"
    with pytest.raises(ChatError):
        services.add_members(group, [chat.outsider], actor=chat.finance_member)


def test_an_outsider_gets_404_for_every_management_action(chat: ChatCast) -> None:
    group = working_group(chat)
    for attempt in (
        lambda: services.rename(group, actor=chat.outsider, name="x"),
        lambda: services.add_members(group, [chat.outsider], actor=chat.outsider),
        lambda: services.leave(group, actor=chat.outsider),
        lambda: services.mark_read(group, actor=chat.outsider, seq=1),
        lambda: services.set_member_options(group, actor=chat.outsider, pinned=True),
    ):
        with pytest.raises(Http404):
            attempt()


def test_people_added_later_see_history_from_joining_on(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    services.send_text(group, actor=chat.owner, body="加入之前的话")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_members(group, [chat.outsider], actor=chat.admin)

    assert last_system_body(group) == "陈志强 邀请 赵文静 加入了群聊"
    assert pushes.users_told("added") == {chat.outsider.pk}
    membership = access.get_membership_for(chat.outsider, group.pk)
    page, more = history.messages_before(membership, None)
    assert [m.data.get("event") for m in page] == ["added"]
    assert not more
    assert history.unread_total(chat.outsider) == 1


def test_a_removed_member_gets_404_for_new_messages(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_member(group, chat.finance_member, actor=chat.admin)
    later = services.send_text(group, actor=chat.owner, body="移出之后的话")

    assert pushes.users_told("removed") == {chat.finance_member.pk}
    assert last_system_body(group) == "陈志强 将 李国华 移出了群聊"
    with pytest.raises(Http404):
        access.get_message_for(chat.finance_member, later.pk)
    with pytest.raises(Http404):
        services.send_text(group, actor=chat.finance_member, body="我还在吗")
    group.refresh_from_db()
    assert group.member_count == 3


def test_an_admin_cannot_remove_the_owner_nor_another_admin(chat: ChatCast) -> None:
    group = working_group(chat)
    services.set_admin(group, chat.finance_member, actor=chat.owner, admin=True)
    with pytest.raises(ChatError) as refused:
        services.remove_member(group, chat.owner, actor=chat.admin)
    assert refused.value.message == "不能移出群主。"
    with pytest.raises(ChatError) as refused:
        services.remove_member(group, chat.finance_member, actor=chat.admin)
    assert refused.value.message == "只有群主可以移出管理员。"


def test_the_owner_must_transfer_before_leaving(chat: ChatCast) -> None:
    group = working_group(chat)
    with pytest.raises(ChatError) as refused:
        services.leave(group, actor=chat.owner)
    assert refused.value.message == "群主退出前请先将群主转让给其他成员。"

    services.transfer_ownership(group, chat.admin, actor=chat.owner)
    services.leave(group, actor=chat.owner)

    assert Membership.objects.get(conversation=group, user=chat.admin).role == MemberRole.OWNER
    assert system_events(group)[-2:] == ["transferred", "left"]
    with pytest.raises(Http404):
        access.get_conversation_for(chat.owner, group.pk)


def test_an_owner_alone_may_leave(chat: ChatCast) -> None:
    group = services.create_group(actor=chat.owner, name="两人群", members=[chat.admin])
    services.leave(group, actor=chat.admin)
    services.leave(group, actor=chat.owner)
    assert not Membership.objects.filter(conversation=group, left_at__isnull=True).exists()


def test_only_the_owner_dissolves_and_the_members_are_told(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    with pytest.raises(ChatError) as refused:
        services.dissolve(group, actor=chat.admin)
    assert refused.value.message == "只有群主可以进行此操作。"

    with django_capture_on_commit_callbacks(execute=True):
        services.dissolve(group, actor=chat.owner)

    group.refresh_from_db()
    assert group.dissolved_at is not None
    assert pushes.users_told("dissolved") == {chat.owner.pk, *(u.pk for u in chat.members())}
    assert AuditEvent.objects.filter(action="chat.group.dissolve").exists()
    with pytest.raises(ChatError):
        services.rename(group, actor=chat.owner, name="复活")


def test_a_direct_chat_cannot_be_left_or_managed(chat: ChatCast) -> None:
    direct = services.open_direct(chat.finance_member, actor=chat.owner)
    with pytest.raises(ChatError):
        services.leave(direct, actor=chat.owner)
    with pytest.raises(ChatError):
        services.rename(direct, actor=chat.owner, name="私聊")


def test_mute_and_pin_change_only_the_actors_list(chat: ChatCast) -> None:
    group = working_group(chat)
    services.send_text(group, actor=chat.owner, body="未读一条")
    services.set_member_options(group, actor=chat.finance_member, muted=True, pinned=True)

    (row,) = history.conversation_rows(chat.finance_member)
    assert row["muted"] and row["pinned"]
    assert history.unread_total(chat.finance_member) == 0
    assert history.unread_total(chat.education_member) > 0


def test_sync_members_adds_and_removes_with_one_system_message_each_way(chat: ChatCast) -> None:
    department = Conversation.objects.create(kind=ConversationKind.DEPARTMENT, name="综合处")
    added, removed = services.sync_members(department, wanted_user_ids={chat.owner.pk, chat.admin.pk})
    assert (added, removed) == (sorted([chat.owner.pk, chat.admin.pk]), [])

    added, removed = services.sync_members(department, wanted_user_ids={chat.owner.pk})
    assert (added, removed) == ([], [chat.admin.pk])
    assert system_events(department) == ["added", "removed"]
    department.refresh_from_db()
    assert department.member_count == 1
    with pytest.raises(ChatError):
        services.add_members(department, [chat.outsider], actor=chat.owner)
