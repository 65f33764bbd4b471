"""查看上下文: a search result opens among its neighbours, the found message marked — for members
only, and never a message from before the reader joined."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from chat import services
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import working_group

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


@override_settings(CHAT_SEND_RATE=(10_000, 10))
def test_a_search_result_links_to_its_context_where_it_is_marked_among_its_neighbours(chat: ChatCast) -> None:
    group = working_group(chat)
    for n in range(40):
        services.send_text(group, actor=chat.owner, body=f"第{n}条 {'预算调整' if n == 20 else '日常'}")
    found = group.messages.get(body__contains="预算调整")
    reader = signed_in(chat.admin)

    search = reader.get(reverse("chat:search", args=[group.pk]), {"q": "预算"}).content.decode()
    link = reverse("chat:context", args=[group.pk, found.seq])
    assert link in search
    html = reader.get(link, {"q": "预算"}).content.decode()

    assert f'id="m{found.seq}" class="chat-context-found"' in html
    assert "第19条" in html and "第21条" in html  # its neighbours on both sides
    assert "第0条" not in html and "第39条" not in html  # a window, not the whole conversation


def test_a_recalled_neighbour_shows_only_its_marker_and_text_is_escaped(chat: ChatCast) -> None:
    group = working_group(chat)
    hit = services.send_text(group, actor=chat.owner, body="<script>alert(1)</script> 查找词")
    mistake = services.send_text(group, actor=chat.owner, body="发错的内容")
    services.recall(mistake, actor=chat.owner)

    html = signed_in(chat.admin).get(reverse("chat:context", args=[group.pk, hit.seq])).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt; 查找词" in html
    assert "发错的内容" not in html and "消息已撤回" in html


def test_context_is_not_found_for_an_outsider_before_joining_or_past_the_end(chat: ChatCast) -> None:
    group = working_group(chat)
    early = services.send_text(group, actor=chat.owner, body="加入之前的消息")
    services.add_members(group, [chat.outsider], actor=chat.owner)
    services.send_text(group, actor=chat.owner, body="加入之后的消息")
    group.refresh_from_db()
    stranger = services.create_group(actor=chat.admin, name="别的群", members=[chat.finance_member])

    assert (
        signed_in(chat.outsider).get(reverse("chat:context", args=[group.pk, early.seq])).status_code == 404
    )
    assert (
        signed_in(chat.owner).get(reverse("chat:context", args=[group.pk, group.last_seq + 1])).status_code
        == 404
    )
    assert signed_in(chat.owner).get(reverse("chat:context", args=[stranger.pk, 1])).status_code == 404
    assert (
        signed_in(chat.outsider).get(reverse("chat:context", args=[group.pk, group.last_seq])).status_code
        == 200
    )


def test_a_nul_character_in_a_search_or_forward_box_finds_nothing_instead_of_failing(chat: ChatCast) -> None:
    group = working_group(chat)
    message = services.send_text(group, actor=chat.owner, body="预算")
    client = signed_in(chat.admin)

    assert client.get(reverse("chat:search", args=[group.pk]), {"q": "\x00"}).status_code == 200
    assert client.get(reverse("chat:forward", args=[message.pk]), {"q": "预\x00算"}).status_code == 200
    assert client.get(reverse("org:people_lookup"), {"q": "\x00"}).json() == {"people": []}
