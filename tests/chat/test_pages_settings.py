"""群设置: each action is one POST calling one service; a refusal re-renders with what was typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chat import services
from chat.models import Conversation, MemberRole, Membership
from chat.services import MSG_NOT_MANAGER
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import working_group

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def act(who: Any, group: Conversation, action: str, **data: Any) -> Any:
    return signed_in(who).post(reverse("chat:settings", args=[group.pk]), {"action": action, **data})


def membership(group: Conversation, user: Any) -> Membership:
    return Membership.objects.get(conversation=group, user=user)


def test_the_settings_page_shows_members_and_the_owners_tools(chat: ChatCast) -> None:
    group = working_group(chat)

    owner_html = signed_in(chat.owner).get(reverse("chat:settings", args=[group.pk])).content.decode()
    member_html = (
        signed_in(chat.finance_member).get(reverse("chat:settings", args=[group.pk])).content.decode()
    )

    for name in ("林小梅", "陈志强", "李国华", "孙敏"):
        assert name in owner_html
    assert "解散该群" in owner_html and "转让群主" in owner_html
    assert "解散该群" not in member_html and "保存群名称" not in member_html
    export = reverse("chat:export", args=[group.pk])
    assert export in owner_html and export not in member_html  # only the owner exports a group


def test_an_admin_renames_the_group_and_sets_its_notice(chat: ChatCast) -> None:
    group = working_group(chat)

    renamed = act(chat.admin, group, "rename", name="预算编制专班")
    noticed = act(chat.admin, group, "notice", notice="周五下班前报送")

    assert renamed.status_code == 302 and noticed.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.notice) == ("预算编制专班", "周五下班前报送")
    page = signed_in(chat.finance_member).get(reverse("chat:conversation", args=[group.pk])).content.decode()
    assert "周五下班前报送" in page


def test_a_bad_name_is_refused_and_the_form_keeps_what_was_typed(chat: ChatCast) -> None:
    group = working_group(chat)
    typed = "名" * 61

    response = act(chat.owner, group, "rename", name=typed)

    assert response.status_code == 400
    html = response.content.decode()
    assert "群名称最多 60 个字。" in html and typed in html
    group.refresh_from_db()
    assert group.name == "跨部门预算工作组"


def test_a_member_who_is_not_an_admin_is_refused_in_chinese(chat: ChatCast) -> None:
    group = working_group(chat)

    response = act(chat.finance_member, group, "notice", notice="我来写公告")

    assert response.status_code == 400
    assert MSG_NOT_MANAGER in response.content.decode()
    group.refresh_from_db()
    assert group.notice == ""


def test_members_are_added_across_agencies_and_removed(chat: ChatCast) -> None:
    group = services.create_group(actor=chat.owner, name="小组", members=[chat.admin])

    added = act(chat.owner, group, "add", members=[chat.finance_member.pk, chat.education_member.pk])
    removed = act(chat.owner, group, "remove", user=chat.education_member.pk)

    assert added.status_code == 302 and removed.status_code == 302
    assert membership(group, chat.finance_member).is_current
    assert not membership(group, chat.education_member).is_current


def test_adding_nobody_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    response = act(chat.owner, group, "add")
    assert response.status_code == 400
    assert "请至少选择一位要添加的成员。" in response.content.decode()


def test_removing_someone_who_is_not_a_member_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    for bad in (chat.outsider.pk, "abc"):
        response = act(chat.owner, group, "remove", user=bad)
        assert response.status_code == 400
        assert "所选成员不在本群中。" in response.content.decode()


def test_the_owner_sets_and_unsets_an_admin_and_transfers_ownership(chat: ChatCast) -> None:
    group = working_group(chat)

    act(chat.owner, group, "admin", user=chat.finance_member.pk)
    assert membership(group, chat.finance_member).role == MemberRole.ADMIN
    act(chat.owner, group, "unadmin", user=chat.finance_member.pk)
    assert membership(group, chat.finance_member).role == MemberRole.MEMBER
    act(chat.owner, group, "transfer", user=chat.education_member.pk)

    assert membership(group, chat.education_member).role == MemberRole.OWNER
    assert membership(group, chat.owner).role != MemberRole.OWNER


def test_the_owner_must_transfer_before_leaving_and_a_member_leaves(chat: ChatCast) -> None:
    group = working_group(chat)

    refused = act(chat.owner, group, "leave")
    left = act(chat.finance_member, group, "leave")

    assert refused.status_code == 400 and membership(group, chat.owner).is_current
    assert left["Location"] == reverse("chat:index")
    assert not membership(group, chat.finance_member).is_current


def test_the_owner_dissolves_the_group_and_it_becomes_read_only(chat: ChatCast) -> None:
    group = working_group(chat)

    act(chat.owner, group, "dissolve")
    page = signed_in(chat.finance_member).get(reverse("chat:conversation", args=[group.pk])).content.decode()

    group.refresh_from_db()
    assert group.dissolved_at is not None
    assert "该群已解散" in page and "data-chat-composer" not in page


def test_mute_and_pin_are_one_persons_own(chat: ChatCast) -> None:
    group = working_group(chat)

    act(chat.finance_member, group, "mute")
    act(chat.finance_member, group, "pin")

    mine = membership(group, chat.finance_member)
    assert mine.muted and mine.pinned
    assert not membership(group, chat.admin).muted
    act(chat.finance_member, group, "unmute")
    act(chat.finance_member, group, "unpin")
    mine.refresh_from_db()
    assert not mine.muted and not mine.pinned


def test_an_unknown_action_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    response = act(chat.owner, group, "explode")
    assert response.status_code == 400
    assert "未知的操作" in response.content.decode()


def test_an_outsider_gets_404_for_settings(chat: ChatCast) -> None:
    group = working_group(chat)
    assert act(chat.outsider, group, "rename", name="夺权").status_code == 404
    group.refresh_from_db()
    assert group.name == "跨部门预算工作组"
