"""A member who joined later never reads, through a quote, what was said before they joined."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chat import services
from tests.chat.chat_cast import ChatCast
from tests.chat.services_support import Pushes, pushes, working_group

__all__ = ["pushes"]

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def test_a_reply_quoting_a_message_from_before_someone_joined_reaches_them_without_its_text(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    before = services.send_text(group, actor=chat.owner, body="内部口径：暂不对外")
    services.add_members(group, [chat.outsider], actor=chat.owner)
    pushes.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.send_text(group, actor=chat.owner, body="再说一遍", reply_to=before)

    (live,) = pushes.of_type("chat.message")
    assert "内部口径" not in json.dumps(live, ensure_ascii=False)
    newcomer = json.dumps(
        signed_in(chat.outsider).get(reverse("chat:messages", args=[group.pk])).json(), ensure_ascii=False
    )
    page = signed_in(chat.outsider).get(reverse("chat:conversation", args=[group.pk])).content.decode()
    escaped = json.dumps("内部口径")[1:-1]  # as the page's embedded state writes it
    assert "再说一遍" in newcomer and "内部口径" not in newcomer
    assert "内部口径" not in page and escaped not in page and json.dumps("再说一遍")[1:-1] in page
    # Members from before still see what was quoted in their own history.
    member = signed_in(chat.finance_member).get(reverse("chat:messages", args=[group.pk])).json()
    (reply,) = [m for m in member["messages"] if m["body"] == "再说一遍"]
    assert reply["reply_to"]["excerpt"] == "内部口径：暂不对外"


def test_a_quote_is_sent_whole_when_everyone_was_there_before_it(
    chat: ChatCast, pushes: Pushes, django_capture_on_commit_callbacks: Any
) -> None:
    group = working_group(chat)
    first = services.send_text(group, actor=chat.owner, body="周五前报送")
    pushes.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.send_text(group, actor=chat.finance_member, body="收到", reply_to=first)

    (live,) = pushes.of_type("chat.message")
    assert live["message"]["reply_to"]["excerpt"] == "周五前报送"
