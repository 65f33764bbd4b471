"""The conversation list, finding a colleague of any agency and starting a chat, a new group, and
chat's place in the shell (the 消息 navigation entry, the 工作台 tile of unread conversations)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chat import history, services
from chat.models import Conversation, ConversationKind, Membership
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import working_group

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def row_order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-conversation="(\d+)"', html)]


def test_the_list_shows_unread_badges_and_the_last_message(chat: ChatCast) -> None:
    group = working_group(chat)
    services.send_text(group, actor=chat.owner, body="第一条")
    services.send_text(group, actor=chat.owner, body="请今天下班前回复")

    html = signed_in(chat.finance_member).get(reverse("chat:index")).content.decode()

    assert "跨部门预算工作组" in html
    assert "林小梅：请今天下班前回复" in html
    badge = re.search(rf'data-conversation="{group.pk}".*?data-unread[^>]*>(\d*)<', html, re.S)
    group.refresh_from_db()
    mine = Membership.objects.get(conversation=group, user=chat.finance_member)
    assert badge is not None
    assert int(badge.group(1)) == group.last_seq - max(mine.last_read_seq, mine.joined_seq) >= 2


def test_pinned_conversations_come_first_and_muted_ones_are_marked(chat: ChatCast) -> None:
    older = working_group(chat, name="较早的群")
    newer = working_group(chat, name="较新的群")
    services.send_text(newer, actor=chat.owner, body="最新")
    services.set_member_options(older, actor=chat.finance_member, pinned=True)
    services.set_member_options(newer, actor=chat.finance_member, muted=True)

    html = signed_in(chat.finance_member).get(reverse("chat:index")).content.decode()

    assert row_order(html)[:2] == [older.pk, newer.pk]
    assert "免打扰" in html and "置顶" in html


def test_a_colleague_of_another_agency_is_found_and_a_chat_started(chat: ChatCast) -> None:
    client = signed_in(chat.owner)

    found = client.get(reverse("chat:index"), {"q": "孙敏"}).content.decode()
    start_url = reverse("chat:start", args=[chat.education_member.pk])
    response = client.post(start_url)
    again = client.post(start_url)

    assert "发消息" in found and start_url in found
    conversation = Conversation.objects.get(kind=ConversationKind.DIRECT)
    assert response["Location"] == reverse("chat:conversation", args=[conversation.pk])
    assert again["Location"] == response["Location"]  # the same 1:1, never a second


def test_the_pickers_people_search_answers_json_without_oneself(chat: ChatCast) -> None:
    data = signed_in(chat.owner).get(reverse("org:people_lookup"), {"q": "林小梅"}).json()
    assert data == {"people": []}
    data = signed_in(chat.owner).get(reverse("org:people_lookup"), {"q": "李国华"}).json()
    assert [p["name"] for p in data["people"]] == ["李国华"]
    assert data["people"][0]["agency"]


def test_starting_a_chat_with_oneself_is_refused_in_chinese(chat: ChatCast) -> None:
    response = signed_in(chat.owner).post(reverse("chat:start", args=[chat.owner.pk]), follow=True)
    assert "不能和自己发起单聊。" in response.content.decode()
    assert not Conversation.objects.exists()


def test_starting_a_chat_with_nobody_is_404(chat: ChatCast) -> None:
    assert signed_in(chat.owner).post(reverse("chat:start", args=[999_999])).status_code == 404


def test_a_group_across_three_agencies_is_created(chat: ChatCast) -> None:
    client = signed_in(chat.owner)
    ids = [chat.admin.pk, chat.finance_member.pk, chat.education_member.pk]

    response = client.post(reverse("chat:new_group"), {"name": "三厅联合工作组", "members": ids})

    group = Conversation.objects.get(name="三厅联合工作组")
    assert response["Location"] == reverse("chat:conversation", args=[group.pk])
    assert set(Membership.objects.filter(conversation=group).values_list("user_id", flat=True)) == {
        chat.owner.pk,
        *ids,
    }


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        ({"name": "", "members": ["{finance}"]}, "请填写群名称。"),
        ({"name": "工作组", "members": []}, "请至少选择一位群成员。"),
        ({"name": "工作组", "members": ["abc"]}, "所选人员不在可选范围内，请重新选择。"),
        ({"name": "工作组", "members": ["999999"]}, "所选人员不在可选范围内，请重新选择。"),
        ({"name": "名" * 61, "members": ["{finance}"]}, "群名称最多 60 个字。"),
    ],
)
def test_a_bad_new_group_is_refused_and_keeps_what_was_typed(
    chat: ChatCast, data: dict[str, Any], refusal: str
) -> None:
    data = {
        **data,
        "members": [str(chat.finance_member.pk) if v == "{finance}" else v for v in data["members"]],
    }

    response = signed_in(chat.owner).post(reverse("chat:new_group"), data)

    html = response.content.decode()
    assert response.status_code == 400
    assert refusal in html
    if data["name"]:
        assert f'value="{data["name"]}"' in html
    if data["members"] == [str(chat.finance_member.pk)]:
        assert "李国华" in html  # the person picked is still picked
    assert not Conversation.objects.exists()


def test_the_new_group_page_finds_people_without_a_script(chat: ChatCast) -> None:
    html = (
        signed_in(chat.owner)
        .get(reverse("chat:new_group"), {"q": "孙敏", "name": "草稿群", "members": [chat.admin.pk]})
        .content.decode()
    )
    assert "孙敏" in html and 'value="草稿群"' in html and "陈志强" in html


def test_the_navigation_has_messages_and_the_workbench_a_tile_of_unread_conversations(chat: ChatCast) -> None:
    group = working_group(chat)
    services.send_text(group, actor=chat.owner, body="请查看")
    direct = services.open_direct(chat.finance_member, actor=chat.education_member)
    services.send_text(direct, actor=chat.education_member, body="你好")

    html = signed_in(chat.finance_member).get(reverse("workbench:home")).content.decode()

    assert f'href="{reverse("chat:index")}"' in html and ">消息<" in html
    assert "跨部门预算工作组" in html
    assert "孙敏" in html  # a 1:1 is titled with the other person
    assert "条未读" in html


def test_a_muted_conversation_is_not_on_the_tile(chat: ChatCast) -> None:
    group = working_group(chat)
    services.send_text(group, actor=chat.owner, body="请查看")
    services.set_member_options(group, actor=chat.finance_member, muted=True)

    html = signed_in(chat.finance_member).get(reverse("workbench:home")).content.decode()

    assert "没有未读消息。" in html


def test_the_messages_entry_carries_the_unread_total_on_every_page(chat: ChatCast) -> None:
    group = working_group(chat)
    for text in ("第一条", "第二条", "第三条"):
        services.send_text(group, actor=chat.owner, body=text)

    html = signed_in(chat.finance_member).get(reverse("org:directory")).content.decode()
    own = signed_in(chat.owner).get(reverse("org:directory")).content.decode()

    expected = history.unread_total(chat.finance_member)
    assert expected >= 3  # the three messages (and the group's creation notice)
    assert re.search(rf'消息 <span class="nav-badge"[^>]*>{expected}</span>', html)
    assert "nav-badge" not in own  # the sender has read their own messages


def test_a_persons_directory_card_offers_to_send_a_message_which_opens_the_chat(chat: ChatCast) -> None:
    client = signed_in(chat.owner)

    card = client.get(reverse("org:person", args=[chat.finance_member.pk])).content.decode()
    own_card = client.get(reverse("org:person", args=[chat.owner.pk])).content.decode()

    start = reverse("chat:start", args=[chat.finance_member.pk])
    assert f'action="{start}"' in card and "发消息" in card
    assert "发消息" not in own_card
    response = client.post(start)
    conversation = Conversation.objects.get(kind=ConversationKind.DIRECT)
    assert response.status_code == 302 and response["Location"].endswith(f"/chat/c/{conversation.pk}/")
