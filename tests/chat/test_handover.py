"""工作交接: the groups a disabled or transferred owner held pass on — to the successor when a
member, else the oldest admin, else the oldest member."""

from __future__ import annotations

from typing import Any

import pytest

from chat import services
from chat.handover import GroupOwnershipHandover
from chat.models import Conversation, MemberRole, Membership
from officeapp.audit.models import AuditEvent
from officeapp.org import services as org
from officeapp.org.handover import open_work
from tests.chat.chat_cast import ChatCast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet_live(monkeypatch: Any) -> None:
    from chat import live

    monkeypatch.setattr(live, "publish", lambda *args: None)
    monkeypatch.setattr(live, "publish_to_users", lambda *args: None)


def owner_of(conversation: Conversation) -> str:
    return Membership.objects.get(
        conversation=conversation, role=MemberRole.OWNER, left_at__isnull=True
    ).user.username


def working_group(chat: ChatCast) -> Conversation:
    return services.create_group(actor=chat.owner, name="跨厅工作组", members=chat.members())


def test_the_owners_groups_are_listed_as_open_work(chat: ChatCast) -> None:
    working_group(chat)
    services.create_group(actor=chat.owner, name="第二个群", members=[chat.admin])

    counts = {provider.name: count for provider, count in open_work(chat.owner)}

    assert counts["chat.group_owner"] == 2
    assert counts["chat.group_owner"] == GroupOwnershipHandover().open_items(chat.owner)


def test_disabled_owner_passes_the_group_to_the_successor_who_is_a_member(chat: ChatCast) -> None:
    group = working_group(chat)

    report = org.disable_user(chat.owner, actor=None, successor=chat.finance_member)

    assert report.moved["chat.group_owner"] == 1
    assert owner_of(group) == "other_clerk"
    assert AuditEvent.objects.filter(action="chat.group.transfer", object_id=str(group.pk)).exists()


def test_a_successor_outside_the_group_gives_it_to_the_oldest_admin(chat: ChatCast) -> None:
    group = working_group(chat)
    services.set_admin(group, chat.education_member, actor=chat.owner, admin=True)

    org.transfer_user(chat.owner, actor=None, department=chat.cast.secretariat, successor=chat.outsider)

    assert owner_of(group) == "education_member"


def test_without_admins_the_oldest_member_becomes_owner(chat: ChatCast) -> None:
    group = services.create_group(actor=chat.owner, name="两人群", members=[chat.finance_member])
    services.add_members(group, [chat.education_member], actor=chat.owner)

    # The 处长 (default successor) is not in this group: the member who joined first takes it.
    org.disable_user(chat.owner, actor=None)

    assert owner_of(group) == "other_clerk"


def test_a_group_the_owner_is_alone_in_is_not_open_work(chat: ChatCast) -> None:
    group = services.create_group(actor=chat.owner, name="只剩我", members=[chat.finance_member])
    services.remove_member(group, chat.finance_member, actor=chat.owner)

    assert GroupOwnershipHandover().open_items(chat.owner) == 0
    org.disable_user(chat.owner, actor=None)
    assert owner_of(group) == "drafter"
