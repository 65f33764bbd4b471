"""load_demo's chat part ("60-chat") builds what README "Try 消息" promises the demo accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from chat import history
from chat.demo import WORKING_GROUP
from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message, MessageKind
from officeapp.demo import DEMO_PASSWORD
from officeapp.notify.models import Notification
from officeapp.org.models import User


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[list[str]]:
    """The province and the chat demo, built once for this module and rolled back at its end."""
    from chat import live
    from officeapp.demo import load_demo_province
    from officeapp.registries import demo_builders

    lines: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic(), pytest.MonkeyPatch.context() as patched:
        patched.setattr(live, "publish", lambda *args: None)
        patched.setattr(live, "publish_to_users", lambda *args: None)
        load_demo_province(stdout=None)
        lines.append(demo_builders["60-chat"](lines.append))
        yield lines
        transaction.set_rollback(True)


def user(username: str) -> User:
    return User.objects.get(username=username)


def rows_of(username: str) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in history.conversation_rows(user(username), limit=50)}


def working_group() -> Conversation:
    return Conversation.objects.get(kind=ConversationKind.GROUP, name=WORKING_GROUP)


def test_lin_xiaomei_finds_the_working_group_and_two_chats_with_unread_messages(
    demo: list[str], db: Any
) -> None:
    rows = rows_of("lin.xiaomei")

    # After her last message in the group (@所有人): the 教育厅 member's image and text, 陈志强's reply.
    assert rows[WORKING_GROUP]["unread"] == 3
    assert rows["李国华"]["unread"] == 1 and rows["陈志强"]["unread"] == 0
    # …and the 部门群 of 综合一处 greets her with its "加入了群聊" line.
    assert rows["省府办公厅·综合一处"]["unread"] == 1
    assert history.unread_total(user("lin.xiaomei")) == 5


def test_chen_zhiqiang_and_li_guohua_have_unread_messages_too(demo: list[str], db: Any) -> None:
    assert rows_of("chen.zhiqiang")["林小梅"]["unread"] == 2
    assert rows_of("chen.zhiqiang")["王德明"]["unread"] == 0
    assert rows_of("li.guohua")[WORKING_GROUP]["unread"] > 0


def test_the_working_group_spans_three_agencies_with_a_notice(demo: list[str], db: Any) -> None:
    group = working_group()
    members = Membership.objects.filter(conversation=group, left_at__isnull=True).select_related(
        "user__department__agency"
    )
    agencies = {m.user.department.agency.short_name for m in members}

    assert agencies == {"省府办公厅", "省财政厅", "省教育厅"}
    assert {m.user.username: m.role for m in members if m.role != MemberRole.MEMBER} == {
        "lin.xiaomei": MemberRole.OWNER,
        "chen.zhiqiang": MemberRole.ADMIN,
    }
    assert "优化营商环境" in group.notice


def test_the_working_group_shows_every_kind_of_message(demo: list[str], db: Any) -> None:
    messages = list(Message.objects.filter(conversation=working_group()).order_by("seq"))
    li, lin = user("li.guohua"), user("lin.xiaomei")

    assert any(m.mentions and li.pk in m.mentions for m in messages)
    assert any(m.mention_all for m in messages)
    assert any(m.reply_to_id and m.sender_id == li.pk for m in messages)
    assert any(m.forwarded_from_id and m.origin_sender_name == "陈志强" for m in messages)
    assert [m.body for m in messages if m.recalled_at] == [""]
    assert [m.file_name for m in messages if m.kind == MessageKind.FILE] == ["调研提纲.docx"]
    assert [m.file_name for m in messages if m.kind == MessageKind.IMAGE] == ["调研路线图.png"]
    assert Notification.objects.filter(recipient=li, kind="chat.mention").exists()
    # Her own @所有人 notifies the others, not her (load_demo's bell test expects only its samples).
    assert Notification.objects.filter(recipient=user("chen.zhiqiang"), kind="chat.mention").exists()
    assert not Notification.objects.filter(recipient=lin, kind__startswith="chat.").exists()


def test_the_education_member_signs_in_with_the_demo_password(demo: list[str], db: Any) -> None:
    [summary] = [line for line in demo if line.startswith("即时通讯演示")]
    username = summary.split("省教育厅成员 ")[1].split("，")[0]

    assert user(username).check_password(DEMO_PASSWORD)
    assert user(username).department.name == "高等教育处"


def test_department_groups_of_the_demo_agencies_are_in_sync(demo: list[str], db: Any) -> None:
    from chat.department_groups import departments_out_of_sync
    from officeapp.org.models import Department

    general = Conversation.objects.get(
        department__agency__short_name="省府办公厅", department__name="综合一处"
    )
    heads = Membership.objects.filter(conversation=general, role=MemberRole.ADMIN, left_at__isnull=True)
    demo_departments = list(
        Department.objects.filter(agency__short_name__in=["省府办公厅", "省财政厅", "省教育厅"]).values_list(
            "pk", flat=True
        )
    )

    assert Membership.objects.filter(conversation=general, user__username="lin.xiaomei").exists()
    assert [m.user.username for m in heads] == ["chen.zhiqiang"]
    assert departments_out_of_sync(demo_departments) == []
