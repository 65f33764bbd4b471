"""The conversation page and what its script talks to: history pages, sending (idempotent, refused in
Chinese), read state, recall, forward, receipts and search — and that a message's text never
becomes markup."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from chat import services
from chat.models import Message
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import working_group

pytestmark = pytest.mark.django_db

XSS = "<img src=x onerror=alert(1)>"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def page_state(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    start = html.index('<script id="chat-state" type="application/json">') + len(
        '<script id="chat-state" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def send(client: Client, conversation_id: int, **payload: Any) -> Any:
    return client.post(
        reverse("chat:messages", args=[conversation_id]),
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )


def test_member_opens_the_conversation_with_its_newest_messages(chat: ChatCast) -> None:
    group = working_group(chat)
    services.send_text(group, actor=chat.owner, body="请各处室周五前报送预算。")

    response = signed_in(chat.finance_member).get(reverse("chat:conversation", args=[group.pk]))

    assert response.status_code == 200
    state = page_state(response)
    assert state["messages"][-1]["body"] == "请各处室周五前报送预算。"
    assert state["held_seq"] == state["messages"][-1]["seq"]
    assert {m["name"] for m in state["members"]} >= {"林小梅", "李国华", "孙敏"}
    assert "跨部门预算工作组" in response.content.decode()


def test_outsider_gets_404_for_the_conversation_and_its_messages(chat: ChatCast) -> None:
    group = working_group(chat)
    client = signed_in(chat.outsider)

    assert client.get(reverse("chat:conversation", args=[group.pk])).status_code == 404
    assert client.get(reverse("chat:messages", args=[group.pk])).status_code == 404
    assert send(client, group.pk, body="你好", client_id="x1").status_code == 404
    assert not Message.objects.filter(sender=chat.outsider).exists()


def test_removed_member_gets_404_for_new_messages(chat: ChatCast) -> None:
    group = working_group(chat)
    client = signed_in(chat.education_member)
    assert client.get(reverse("chat:conversation", args=[group.pk])).status_code == 200

    services.remove_member(group, chat.education_member, actor=chat.owner)
    services.send_text(group, actor=chat.owner, body="移出后的新消息")

    assert client.get(reverse("chat:conversation", args=[group.pk])).status_code == 404
    assert client.get(reverse("chat:messages", args=[group.pk]) + "?after=0").status_code == 404
    assert send(client, group.pk, body="我还在吗", client_id="y1").status_code == 404


@override_settings(CHAT_SEND_RATE=(10_000, 10))
def test_history_pages_backwards_without_loading_the_whole_conversation(chat: ChatCast) -> None:
    group = working_group(chat)
    for n in range(120):
        services.send_text(group, actor=chat.owner, body=f"第{n}条")
    client = signed_in(chat.admin)

    first = page_state(client.get(reverse("chat:conversation", args=[group.pk])))
    assert len(first["messages"]) == 50 and first["more"]
    oldest = first["messages"][0]["seq"]
    older = client.get(reverse("chat:messages", args=[group.pk]), {"before": oldest}).json()

    assert len(older["messages"]) == 50
    assert older["messages"][-1]["seq"] == oldest - 1
    assert [m["seq"] for m in older["messages"]] == sorted(m["seq"] for m in older["messages"])
    after = client.get(reverse("chat:messages", args=[group.pk]), {"after": oldest - 2}).json()
    assert after["messages"][0]["seq"] == oldest - 1


def test_a_bad_history_position_is_refused_in_chinese(chat: ChatCast) -> None:
    group = working_group(chat)
    response = signed_in(chat.owner).get(reverse("chat:messages", args=[group.pk]), {"before": "abc"})
    assert response.status_code == 400
    assert response.json()["error"] == "消息位置无效。"


def test_sending_returns_the_message_frame(chat: ChatCast) -> None:
    group = working_group(chat)
    response = send(signed_in(chat.finance_member), group.pk, body="收到", client_id="c-1")

    assert response.status_code == 200
    frame = response.json()["message"]
    assert frame["body"] == "收到"
    assert frame["client_id"] == "c-1"
    assert frame["sender"]["name"] == "李国华"


def test_a_retried_send_with_the_same_client_id_is_stored_once(chat: ChatCast) -> None:
    group = working_group(chat)
    client = signed_in(chat.finance_member)

    first = send(client, group.pk, body="预算表已上传", client_id="retry-1").json()["message"]
    again = send(client, group.pk, body="预算表已上传", client_id="retry-1").json()["message"]

    assert first["id"] == again["id"]
    assert Message.objects.filter(conversation=group, body="预算表已上传").count() == 1


@pytest.mark.parametrize(
    ("payload", "refusal"),
    [
        ({"body": "   "}, "不能发送空消息。"),
        ({"body": "长" * 5001}, "消息最多 5000 个字，请分条发送。"),
        ({"body": "好", "reply_to": "abc"}, "引用的消息不存在。"),
        ({"body": "好", "mentions": ["x"]}, "@ 的成员不在本群中。"),
        ({"body": "好", "client_id": "x" * 65}, "消息标识无效，请刷新页面后重试。"),
        ({"body": {"a": 1}}, "消息格式无效。"),
    ],
)
def test_a_bad_message_is_refused_in_chinese_and_nothing_is_stored(
    chat: ChatCast, payload: dict[str, Any], refusal: str
) -> None:
    group = working_group(chat)
    before = Message.objects.filter(conversation=group).count()

    response = send(signed_in(chat.finance_member), group.pk, **payload)

    assert response.status_code == 400
    assert response.json()["error"] == refusal
    assert Message.objects.filter(conversation=group).count() == before


def test_a_reply_to_a_message_of_another_conversation_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    other = services.create_group(actor=chat.owner, name="另一个群", members=[chat.admin])
    foreign = services.send_text(other, actor=chat.owner, body="别处的消息")

    response = send(signed_in(chat.owner), group.pk, body="回复", reply_to=foreign.pk)

    assert response.status_code == 400
    assert response.json()["error"] == "引用的消息不存在。"


def test_mentions_sent_as_the_pages_script_sends_them_notify_the_member(chat: ChatCast) -> None:
    from officeapp.notify.models import Notification

    group = working_group(chat)

    response = send(signed_in(chat.owner), group.pk, body="@李国华 请确认", mentions=[chat.finance_member.pk])

    assert response.status_code == 200
    assert response.json()["message"]["mentions"] == [chat.finance_member.pk]
    assert Notification.objects.filter(recipient=chat.finance_member, kind="chat.mention").count() == 1


def test_a_plain_form_post_may_mention_several_members(chat: ChatCast) -> None:
    group = working_group(chat)
    client = signed_in(chat.owner)

    client.post(
        reverse("chat:messages", args=[group.pk]),
        {"body": "@两位 请确认", "mentions": [chat.finance_member.pk, chat.education_member.pk]},
    )

    stored = Message.objects.get(conversation=group, body="@两位 请确认")
    assert sorted(stored.mentions) == sorted([chat.finance_member.pk, chat.education_member.pk])


def test_only_admins_may_mention_everyone(chat: ChatCast) -> None:
    group = working_group(chat)
    refused = send(signed_in(chat.finance_member), group.pk, body="@所有人 开会", mention_all=True)
    allowed = send(signed_in(chat.admin), group.pk, body="@所有人 开会", mention_all=True)

    assert refused.status_code == 400
    assert allowed.status_code == 200 and allowed.json()["message"]["mention_all"] is True


def test_a_plain_form_post_sends_and_returns_to_the_conversation(chat: ChatCast) -> None:
    group = working_group(chat)
    client = signed_in(chat.owner)

    response = client.post(reverse("chat:messages", args=[group.pk]), {"body": "不用脚本也能发"})
    refused = client.post(reverse("chat:messages", args=[group.pk]), {"body": ""}, follow=True)

    assert response.status_code == 302
    assert Message.objects.filter(conversation=group, body="不用脚本也能发").exists()
    assert "不能发送空消息。" in refused.content.decode()


def test_message_text_is_never_markup_on_the_page(chat: ChatCast) -> None:
    group = working_group(chat)
    services.send_text(group, actor=chat.owner, body=XSS)
    services.set_notice(group, actor=chat.owner, notice=XSS)

    response = signed_in(chat.admin).get(reverse("chat:conversation", args=[group.pk]))
    html = response.content.decode()

    assert XSS not in html  # neither in the notice banner nor in the page's JSON
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    texts = [m["body"] for m in page_state(response)["messages"] if m["kind"] == "text"]
    assert texts == [XSS]


def test_reading_moves_the_read_mark_and_a_bad_seq_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="已读测试")
    client = signed_in(chat.finance_member)

    ok = client.post(reverse("chat:read", args=[group.pk]), {"seq": message.seq})
    bad = client.post(reverse("chat:read", args=[group.pk]), {"seq": "-1"})

    assert ok.json() == {"seq": message.seq}
    assert bad.status_code == 400 and bad.json()["error"] == "已读位置无效。"


def test_sender_recalls_and_everyone_sees_the_marker(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.finance_member, body="发错了")

    response = signed_in(chat.finance_member).post(
        reverse("chat:recall", args=[message.pk]), HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 200 and response.json()["message"]["recalled"] is True
    seen = page_state(signed_in(chat.education_member).get(reverse("chat:conversation", args=[group.pk])))
    recalled = next(m for m in seen["messages"] if m["id"] == message.pk)
    assert recalled["recalled"] is True and recalled["body"] == ""
    listed = signed_in(chat.education_member).get(reverse("chat:index")).content.decode()
    assert "消息已撤回" in listed and "发错了" not in listed


def test_a_member_may_not_recall_someone_elses_message(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="群主的消息")

    response = signed_in(chat.finance_member).post(
        reverse("chat:recall", args=[message.pk]), HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "只能撤回自己发送的消息。"


def test_forward_copies_the_message_to_a_chosen_conversation(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.finance_member, body="请转给教育厅")
    direct = services.open_direct(chat.education_member, actor=chat.owner)
    client = signed_in(chat.owner)

    page = client.get(reverse("chat:forward", args=[message.pk]))
    response = client.post(reverse("chat:forward", args=[message.pk]), {"to": direct.pk})

    assert page.status_code == 200 and "孙敏" in page.content.decode()
    assert response.status_code == 302
    copy = Message.objects.get(conversation=direct, body="请转给教育厅")
    assert copy.origin_sender_name == "李国华"


def test_forward_to_a_conversation_one_is_not_in_is_refused(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="内部消息")
    elsewhere = services.open_direct(chat.outsider, actor=chat.education_member)

    response = signed_in(chat.owner).post(reverse("chat:forward", args=[message.pk]), {"to": elsewhere.pk})

    assert response.status_code == 400
    assert "请选择要转发到的会话。" in response.content.decode()
    assert not Message.objects.filter(conversation=elsewhere, body="内部消息").exists()


def test_receipts_list_who_has_and_has_not_read(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="请阅")
    services.mark_read(group, actor=chat.admin, seq=message.seq)

    page = signed_in(chat.owner).get(reverse("chat:receipts", args=[message.pk]))
    data = signed_in(chat.owner).get(
        reverse("chat:receipts", args=[message.pk]), HTTP_ACCEPT="application/json"
    )

    assert "未读（2人）" in page.content.decode()
    assert [u["name"] for u in data.json()["read"]] == ["陈志强"]
    assert {u["name"] for u in data.json()["unread"]} == {"李国华", "孙敏"}


def test_search_finds_messages_of_this_conversation_only(chat: ChatCast) -> None:
    group = working_group(chat)
    services.send_text(group, actor=chat.owner, body="关于预算调整的说明")
    other = services.create_group(actor=chat.owner, name="别的群", members=[chat.admin])
    services.send_text(other, actor=chat.owner, body="预算的另一条")

    html = signed_in(chat.admin).get(reverse("chat:search", args=[group.pk]), {"q": "预算"}).content.decode()

    assert "关于预算调整的说明" in html
    assert "预算的另一条" not in html


@pytest.mark.parametrize("suffix", ["", "messages/", "search/?q=a", "settings/", "export/"])
def test_an_id_too_large_for_the_database_is_simply_not_found(chat: ChatCast, suffix: str) -> None:
    response = signed_in(chat.owner).get(f"/chat/c/{2**80}/{suffix}")

    assert response.status_code == 404


def test_a_socket_frame_with_an_id_too_large_names_no_conversation() -> None:
    from chat import access

    assert access.parse_id(str(2**80)) is None and access.parse_id(2**63) is None
    assert access.parse_id("12") == 12 and access.parse_id(True) is None and access.parse_id(0) is None


def test_the_forward_page_finds_a_group_by_name_and_a_chat_by_the_other_persons_name(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="请转发")
    services.open_direct(chat.education_member, actor=chat.owner)  # 孙敏
    services.open_direct(chat.finance_member, actor=chat.owner)  # 李国华
    services.create_group(actor=chat.owner, name="预算编制小组", members=[chat.admin])
    client = signed_in(chat.owner)

    by_person = client.get(reverse("chat:forward", args=[message.pk]), {"q": "孙敏"}).content.decode()
    by_group = client.get(reverse("chat:forward", args=[message.pk]), {"q": "预算"}).content.decode()
    nothing = client.get(reverse("chat:forward", args=[message.pk]), {"q": "不存在"}).content.decode()

    assert "孙敏" in by_person and "李国华" not in by_person and "预算编制小组" not in by_person
    assert "预算编制小组" in by_group and "孙敏" not in by_group
    # Her own name matches her side of every 1:1 chat: that must not list them all.
    own_name = client.get(reverse("chat:forward", args=[message.pk]), {"q": "林小梅"}).content.decode()
    assert 'name="to"' not in own_name
    assert "没有名称或成员姓名包含“不存在”的会话。" in nothing
