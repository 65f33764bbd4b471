"""Chat at the same moment, on PostgreSQL where row locks are real (SQLite serialises the whole
database and cannot race): gap-free seq, one message per client id, one 1:1 per pair; and, on the
planner that production runs, history pages walking the (conversation, seq) index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from chat import services
from chat.errors import ChatError
from chat.models import Conversation, ConversationKind, Message
from tests.chat.chat_cast import ChatCast
from tests.workflows.threads import at_once
from workflows.acting import FlowError

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def refusing(call: Callable[[], Any]) -> Callable[[], Any]:
    """at_once reports FlowError messages: a chat refusal is reported the same way through this."""

    def run() -> Any:
        try:
            return call()
        except ChatError as exc:
            raise FlowError(exc.message) from exc

    return run


@pytest.fixture(autouse=True)
def fresh_rate_counters() -> None:
    cache.clear()


def test_ten_concurrent_sends_get_seq_one_to_ten_without_gap_or_duplicate(chat: ChatCast) -> None:
    group = services.create_group(actor=chat.owner, name="并发群", members=chat.members())
    start = Conversation.objects.get(pk=group.pk).last_seq
    people = [chat.owner, *chat.members()]

    outcomes = at_once(
        [
            refusing(
                lambda n=n: services.send_text(group, actor=people[n % 4], body=f"第{n}条", client_id=f"c{n}")
            )
            for n in range(10)
        ]
    )

    assert outcomes == ["ok"] * 10
    seqs = sorted(Message.objects.filter(conversation=group, seq__gt=start).values_list("seq", flat=True))
    assert seqs == list(range(start + 1, start + 11))
    assert Conversation.objects.get(pk=group.pk).last_seq == start + 10


def test_a_retry_racing_its_first_attempt_stores_one_message(chat: ChatCast) -> None:
    group = services.create_group(actor=chat.owner, name="重试群", members=[chat.finance_member])
    kept: list[Message] = []

    def send() -> None:
        kept.append(
            services.send_text(group, actor=chat.finance_member, body="只发一次", client_id="retry-7")
        )

    outcomes = at_once([refusing(send) for _ in range(6)])

    assert outcomes == ["ok"] * 6
    assert Message.objects.filter(conversation=group, client_id="retry-7").count() == 1
    assert len({m.pk for m in kept}) == 1


def test_both_people_opening_their_chat_at_once_get_one_conversation(chat: ChatCast) -> None:
    opened: list[int] = []

    outcomes = at_once(
        [
            refusing(lambda: opened.append(services.open_direct(chat.finance_member, actor=chat.owner).pk)),
            refusing(lambda: opened.append(services.open_direct(chat.owner, actor=chat.finance_member).pk)),
            refusing(lambda: opened.append(services.open_direct(chat.finance_member, actor=chat.owner).pk)),
        ]
    )

    assert outcomes == ["ok"] * 3
    assert Conversation.objects.filter(kind=ConversationKind.DIRECT).count() == 1
    assert len(set(opened)) == 1


def test_history_pages_walk_the_conversation_seq_index(chat: ChatCast) -> None:
    from django.db import connection
    from django.utils import timezone

    from chat.access import visible_messages
    from chat.models import Membership

    group = services.create_group(actor=chat.owner, name="长历史群", members=[chat.admin])
    other = services.create_group(actor=chat.owner, name="另一个群", members=[chat.admin])
    now = timezone.now()
    for conversation in (group, other):
        Message.objects.bulk_create(
            [
                Message(conversation=conversation, seq=n, body="历史", created_at=now)
                for n in range(2, 10_002)
            ],
            batch_size=5000,
        )
    Conversation.objects.filter(pk__in=[group.pk, other.pk]).update(last_seq=10_001)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chat_message")
    membership = Membership.objects.get(conversation=group, user=chat.admin)

    older = visible_messages(membership).filter(seq__lt=5000).order_by("-seq")[:51].explain()
    newer = visible_messages(membership).filter(seq__gt=5000).order_by("seq")[:201].explain()

    assert "chat_message_seq_once" in older, older
    assert "chat_message_seq_once" in newer, newer
