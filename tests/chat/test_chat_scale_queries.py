"""Chat's read side takes the same number of queries however much data there is: a history page, the
conversation list, the unread total and "N人未读" are measured on small data, then must not take one
query more on data ten to fifty times larger (more messages, more senders across agencies, more
replies, more conversations, more members). An N+1 added to chat/history.py, chat/frames.py or the
pages that use them fails here; the timings at full scale are in tests/bench/test_chat_history_bench.py.

Data comes from tests/bench/chat_data.py (bulk rows, consistent seq and read state), around the
fixed chat cast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.bench.chat_data import build_group, build_inbox, build_people
from tests.chat.chat_cast import ChatCast

pytestmark = [pytest.mark.django_db]

BACKEND = "officeapp.accounts.backends.LockoutAwareBackend"


def _queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def _membership(conversation: Any, user: Any) -> Any:
    from chat.models import Membership

    return Membership.objects.select_related("conversation").get(conversation=conversation, user=user)


def _page_frames(membership: Any, before: int | None) -> Callable[[], list[dict[str, Any]]]:
    from chat.frames import message_frame
    from chat.history import messages_before

    return lambda: [message_frame(m) for m in messages_before(membership, before, 50)[0]]


def _signed_in(client: Any, user: Any) -> Any:
    client.force_login(user, backend=BACKEND)
    return client


@pytest.fixture
def people(chat: ChatCast) -> list[Any]:
    """60 people across three agencies, besides the cast."""
    return build_people(60, prefix="scale.q")


def test_a_history_page_of_fifty_senders_with_replies_takes_no_more_queries_than_one_of_five_messages(
    chat: ChatCast, people: list[Any], django_assert_max_num_queries: Any
) -> None:
    from chat.models import Message

    small = build_group([chat.owner, chat.admin], messages=5, seed=1)
    large = build_group([chat.owner, chat.admin, chat.finance_member, *people[:50]], messages=3000, seed=2)
    # a page in the middle that holds what an N+1 would load row by row: replies, many senders
    reply = (
        Message.objects.filter(conversation=large, seq__gt=1500, reply_to__isnull=False)
        .order_by("seq")
        .first()
    )
    assert reply is not None
    before = reply.seq + 10
    shown = Message.objects.filter(conversation=large, seq__gte=before - 50, seq__lt=before)
    assert shown.values("sender").distinct().count() > 20
    small_page = _page_frames(_membership(small, chat.owner), None)
    large_membership = _membership(large, chat.owner)
    newest, middle = _page_frames(large_membership, None), _page_frames(large_membership, before)
    assert len(small_page()) == 5 and len(newest()) == 50
    assert reply.seq in [frame["seq"] for frame in middle() if frame["reply_to"]]

    allowed = _queries(small_page)
    with django_assert_max_num_queries(allowed):
        newest()
    with django_assert_max_num_queries(allowed):
        middle()


def test_catching_up_on_six_hundred_messages_takes_one_query_per_page_of_two_hundred(
    chat: ChatCast, people: list[Any], django_assert_max_num_queries: Any
) -> None:
    from chat.frames import message_frame
    from chat.history import messages_after

    large = build_group([chat.owner, *people[:30]], messages=600, read={chat.owner.pk: 0}, seed=3)
    membership = _membership(large, chat.owner)
    received: list[int] = []

    def catch_up() -> None:
        since, more = 0, True
        while more:
            rows, more = messages_after(membership, since, 200)
            received.extend(frame["seq"] for frame in (message_frame(m) for m in rows))
            since = rows[-1].seq if rows else since

    # one query per page; at most one more to learn that the third page was the last
    with django_assert_max_num_queries(4):
        catch_up()
    assert received == list(range(1, 601))


def test_the_conversation_list_of_fifty_conversations_takes_no_more_queries_than_one_of_five(
    chat: ChatCast, people: list[Any], django_assert_max_num_queries: Any
) -> None:
    from chat.history import conversation_rows

    build_inbox(chat.owner, people, conversations=5, seed=4)
    build_inbox(chat.admin, people, conversations=50, seed=5)
    few = lambda: conversation_rows(chat.owner, limit=50)  # noqa: E731
    many = lambda: conversation_rows(chat.admin, limit=50)  # noqa: E731
    assert len(few()) == 5 and len(many()) == 50
    assert sum(1 for row in many() if row["kind"] == "direct") == 10

    with django_assert_max_num_queries(_queries(few)):
        many()


def test_the_unread_total_over_fifty_conversations_is_one_query(
    chat: ChatCast, people: list[Any], django_assert_max_num_queries: Any
) -> None:
    from chat.history import conversation_rows, unread_total

    build_inbox(chat.admin, people, conversations=50, seed=5)
    expected = sum(row["unread"] for row in conversation_rows(chat.admin, limit=50) if not row["muted"])
    assert expected > 0

    with django_assert_max_num_queries(1):
        total = unread_total(chat.admin)
    assert total == expected


def test_read_receipts_in_a_500_member_group_take_no_more_queries_than_in_a_10_member_group(
    chat: ChatCast, django_assert_max_num_queries: Any
) -> None:
    from chat.history import read_receipts
    from chat.models import Message

    crowd = build_people(499, prefix="scale.crowd")
    small = build_group([chat.owner, *crowd[:9]], messages=20, read={chat.owner.pk: 10}, seed=6)
    half_read = {u.pk: (20 if n % 2 else 10) for n, u in enumerate(crowd)}
    large = build_group([chat.owner, *crowd], messages=20, read=half_read, seed=7)
    small_message = Message.objects.get(conversation=small, seq=20)
    large_message = Message.objects.get(conversation=large, seq=20)

    def names(message: Any) -> Callable[[], int]:
        # what the page shows of each person: the name
        return lambda: sum(len(u.real_name) for users in read_receipts(message).values() for u in users)

    with django_assert_max_num_queries(_queries(names(small_message))):
        names(large_message)()
    receipts = read_receipts(large_message)
    assert len(receipts["read"]) + len(receipts["unread"]) == 499
    assert len(receipts["unread"]) >= 240


def test_the_pages_take_no_more_queries_with_more_data(
    chat: ChatCast, people: list[Any], client: Any, django_assert_max_num_queries: Any
) -> None:
    """The list, a history page (JSON) and the receipts page, through the views the browser uses."""
    from django.urls import reverse

    from chat.models import Message

    # small: 5 conversations, 5 messages, a group of 10; large: 50, 3,000 messages, a group of 61
    build_inbox(chat.owner, people, conversations=5, seed=8)
    build_inbox(chat.admin, people, conversations=50, seed=9)
    small = build_group([chat.owner, chat.admin, *people[:8]], messages=5, seed=10)
    large = build_group([chat.admin, chat.owner, chat.finance_member, *people], messages=3000, seed=11)
    small_message = Message.objects.filter(conversation=small, sender__isnull=False).order_by("-seq").first()
    large_message = Message.objects.filter(conversation=large, sender__isnull=False).order_by("-seq").first()
    owner = _signed_in(client, chat.owner)

    def get(url: str, data: dict[str, Any] | None = None, **headers: Any) -> Callable[[], Any]:
        def call() -> Any:
            response = owner.get(url, data or {}, **headers)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return call

    index_small = index_large = get(reverse("chat:index"))
    history_small = get(reverse("chat:messages", args=[small.pk]), {"before": 6})
    history_large = get(reverse("chat:messages", args=[large.pk]), {"before": 1500})
    receipts_small = get(reverse("chat:receipts", args=[small_message.pk]))
    receipts_large = get(reverse("chat:receipts", args=[large_message.pk]))
    assert len(json.loads(history_large().content)["messages"]) == 50

    for few, many, signed_in_as in [
        (index_small, index_large, chat.admin),
        (history_small, history_large, chat.owner),
        (receipts_small, receipts_large, chat.owner),
    ]:
        _signed_in(owner, chat.owner)
        few()  # warm-up: the session and per-request caches
        allowed = _queries(few)
        _signed_in(owner, signed_in_as)
        many()
        with django_assert_max_num_queries(allowed):
            many()
