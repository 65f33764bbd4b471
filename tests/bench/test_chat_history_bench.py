"""Benchmark: chat's read side at scale — a history page in a conversation of 1,000,000 messages, the
catch-up of 1,000 missed messages, the conversation list and unread total of a person with 2,000
conversations, and "N人未读" of one message in a 500-member group.

Data: tests/bench/chat_data.py `build_chat_scale` (COPY on PostgreSQL, executemany on SQLite), built
once for this module inside one transaction of the test database that is rolled back at the end, so
every run starts from the same data and leaves nothing behind. Runs on SQLite, and on PostgreSQL when
DATABASE_URL points at it (use a database name of your own: the test database is "test_<name>"):

    TESTING=1 .venv/bin/python -m pytest -q -s tests/bench/test_chat_history_bench.py -p no:randomly
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/officeapp_chatbench TESTING=1 \
        .venv/bin/python -m pytest -q -s tests/bench/test_chat_history_bench.py -p no:randomly

Each figure is set against a baseline measured in the same run on the same data: the plain indexed
SQL a hand-written version would run (`SELECT … WHERE conversation_id=… AND seq < … ORDER BY seq
DESC LIMIT 50` through a raw cursor, rows fetched, no model objects). The ratio is the cost of the
ORM, the related rows a frame needs and the frames themselves. Figures are printed with their
query counts, never asserted; the assertions are the correctness ones (a page is the 50 messages
just before the seq asked for, in order; the catch-up receives each of the 1,000 messages once, in
order). Sizes can be lowered for a quick try with CHAT_BENCH_MESSAGES, CHAT_BENCH_CONVERSATIONS,
CHAT_BENCH_MEMBERS, CHAT_BENCH_RUNS.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

MESSAGES = int(os.environ.get("CHAT_BENCH_MESSAGES", "1000000"))
CONVERSATIONS = int(os.environ.get("CHAT_BENCH_CONVERSATIONS", "2000"))
MEMBERS = int(os.environ.get("CHAT_BENCH_MEMBERS", "500"))
RUNS = int(os.environ.get("CHAT_BENCH_RUNS", "200"))
PAGE = 50
CATCH_UP_PAGE = 200

pytestmark = [pytest.mark.django_db]


@pytest.fixture(scope="module")
def scale(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """The data of chat_data.build_chat_scale, in a transaction rolled back after the module."""
    from tests.bench.chat_data import build_chat_scale

    with django_db_blocker.unblock(), transaction.atomic():
        start = time.perf_counter()
        data = build_chat_scale(messages=MESSAGES, conversations=CONVERSATIONS, group_members=MEMBERS)
        print(
            f"\n{connection.vendor}: built {MESSAGES:,} messages + {CONVERSATIONS:,} conversations + a "
            f"{MEMBERS}-member group in {time.perf_counter() - start:.1f} s"
        )
        yield data
        transaction.set_rollback(True)


def _timed(call: Callable[[], Any], runs: int = RUNS) -> list[float]:
    call()  # warm-up: plans, caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def _row(
    bench: Any, what: str, samples: list[float], baseline: list[float] | None, queries: int
) -> list[Any]:
    p50, p95, worst = bench.percentiles(samples)
    if baseline is None:
        return [what, queries, f"{p50:.2f}", f"{p95:.2f}", f"{worst:.1f}", "—", "—"]
    b50, b95, _ = bench.percentiles(baseline)
    return [
        what,
        queries,
        f"{p50:.2f}",
        f"{p95:.2f}",
        f"{worst:.1f}",
        f"{p50 / b50:.1f}×",
        f"{p95 / b95:.1f}×",
    ]


HEADER = ["what", "queries", "p50 ms", "p95 ms", "max ms", "p50 / baseline", "p95 / baseline"]


def _raw(sql: str, params: list[Any]) -> Callable[[], list[Any]]:
    def run() -> list[Any]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def _membership(conversation: Any, user: Any) -> Any:
    from chat.models import Membership

    return Membership.objects.select_related("conversation").get(conversation=conversation, user=user)


def test_history_page_in_a_conversation_of_a_million_messages(scale: Any, bench: Any) -> None:
    from chat.frames import message_frame
    from chat.history import messages_before
    from chat.models import Message

    membership = _membership(scale.big, scale.reader)
    last = scale.big.last_seq
    middle = last // 2
    assert last == MESSAGES

    newest_sql = _raw(
        "SELECT * FROM chat_message WHERE conversation_id = %s ORDER BY seq DESC LIMIT %s",
        [scale.big.pk, PAGE],
    )
    middle_sql = _raw(
        "SELECT * FROM chat_message WHERE conversation_id = %s AND seq < %s ORDER BY seq DESC LIMIT %s",
        [scale.big.pk, middle, PAGE],
    )

    def page(before: int | None) -> Callable[[], Any]:
        return lambda: messages_before(membership, before, PAGE)

    def page_frames(before: int | None) -> Callable[[], Any]:
        return lambda: json.dumps([message_frame(m) for m in messages_before(membership, before, PAGE)[0]])

    # correctness: the 50 messages just before the seq asked for, ascending, more to come
    rows, more = messages_before(membership, middle, PAGE)
    assert [m.seq for m in rows] == list(range(middle - PAGE, middle)) and more
    rows, more = messages_before(membership, None, PAGE)
    assert [m.seq for m in rows] == list(range(last - PAGE + 1, last + 1)) and more

    def plain_orm() -> list[Any]:
        # The same page through the ORM without the related rows a frame needs: what the ORM alone costs.
        return list(
            Message.objects.filter(conversation_id=scale.big.pk, seq__lt=middle).order_by("-seq")[:PAGE]
        )

    newest_base = _timed(newest_sql)
    middle_base = _timed(middle_sql)
    table = [
        _row(bench, "baseline SQL, newest page", newest_base, None, 1),
        _row(bench, "messages_before(None)", _timed(page(None)), newest_base, _queries(page(None))),
        _row(
            bench,
            "messages_before(None) + frames + JSON",
            _timed(page_frames(None)),
            newest_base,
            _queries(page_frames(None)),
        ),
        _row(bench, f"baseline SQL, seq < {middle:,}", middle_base, None, 1),
        _row(bench, "plain ORM, same page, no related rows", _timed(plain_orm), middle_base, 1),
        _row(
            bench, f"messages_before({middle:,})", _timed(page(middle)), middle_base, _queries(page(middle))
        ),
        _row(
            bench,
            f"messages_before({middle:,}) + frames + JSON",
            _timed(page_frames(middle)),
            middle_base,
            _queries(page_frames(middle)),
        ),
    ]
    http = _http_page(scale, middle)
    if http is not None:
        samples, queries = http
        table.append(
            _row(
                bench, f"GET chat:messages ?before={middle:,} (whole request)", samples, middle_base, queries
            )
        )
    bench.print_table(
        f"History page of {PAGE} in a conversation of {last:,} messages ({connection.vendor}, {RUNS} runs each)",
        HEADER,
        table,
    )
    if http is None:
        print("chat:messages is not mounted yet: the page through HTTP was not measured")


def _http_page(scale: Any, before: int) -> tuple[list[float], int] | None:
    """(samples, queries) of the JSON history page through the real view, or None until it exists."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("chat:messages", args=[scale.big.pk])
    except NoReverseMatch:
        return None
    client = Client()
    client.force_login(scale.reader, backend="officeapp.accounts.backends.LockoutAwareBackend")

    def get() -> None:
        response = client.get(url, {"before": before})
        assert response.status_code == 200, response.status_code
        assert len(response.json()["messages"]) == PAGE

    return _timed(get, max(20, RUNS // 4)), _queries(get)


def test_catch_up_of_a_thousand_missed_messages(scale: Any, bench: Any) -> None:
    """A phone that was offline: messages_after in pages of 200, each message framed and the
    chat.catchup frames serialised, as the socket sends them."""
    from chat.frames import message_frame
    from chat.history import messages_after

    membership = _membership(scale.big, scale.reader)
    after = membership.last_read_seq
    last = scale.big.last_seq
    assert last - after == 1000

    def catch_up() -> list[int]:
        seqs: list[int] = []
        since, more = after, True
        while more:
            rows, more = messages_after(membership, since, CATCH_UP_PAGE)
            frame = {"type": "chat.catchup", "messages": [message_frame(m) for m in rows], "more": more}
            json.dumps(frame, ensure_ascii=False)
            seqs.extend(m.seq for m in rows)
            since = rows[-1].seq if rows else since
        return seqs

    def baseline() -> int:
        fetched, since = 0, after
        with connection.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT seq, chat_message.* FROM chat_message WHERE conversation_id = %s AND seq > %s "
                    "ORDER BY seq LIMIT %s",
                    [scale.big.pk, since, CATCH_UP_PAGE],
                )
                rows = cursor.fetchall()
                if not rows:
                    return fetched
                fetched += len(rows)
                since = rows[-1][0]

    assert catch_up() == list(range(after + 1, last + 1))
    runs = max(10, RUNS // 10)
    base = _timed(baseline, runs)
    bench.print_table(
        f"Catch-up of 1,000 missed messages in pages of {CATCH_UP_PAGE} ({connection.vendor}, {runs} runs)",
        HEADER,
        [
            _row(bench, "baseline SQL, 5 pages + empty page", base, None, 6),
            _row(
                bench,
                "messages_after pages + message_frame + JSON",
                _timed(catch_up, runs),
                base,
                _queries(catch_up),
            ),
        ],
    )


def test_conversation_list_and_unread_total_of_two_thousand_conversations(scale: Any, bench: Any) -> None:
    from chat.history import conversation_rows, unread_total
    from chat.models import Membership

    reader = scale.reader
    count = Membership.objects.filter(user=reader, left_at__isnull=True).count()
    assert count == CONVERSATIONS
    list_sql = _raw(
        "SELECT m.*, c.* FROM chat_membership m JOIN chat_conversation c ON c.id = m.conversation_id "
        "WHERE m.user_id = %s AND m.left_at IS NULL "
        "ORDER BY m.pinned DESC, c.last_message_at DESC LIMIT %s",
        [reader.pk, PAGE],
    )
    unread_sql = _raw(
        "SELECT SUM(c.last_seq - m.last_read_seq) FROM chat_membership m "
        "JOIN chat_conversation c ON c.id = m.conversation_id "
        "WHERE m.user_id = %s AND m.left_at IS NULL AND NOT m.muted",
        [reader.pk],
    )
    first_page = lambda: conversation_rows(reader, limit=PAGE)  # noqa: E731
    last_page = lambda: conversation_rows(reader, limit=PAGE, offset=count - PAGE)  # noqa: E731
    total = lambda: unread_total(reader)  # noqa: E731

    rows = first_page()
    assert len(rows) == PAGE and rows[0]["pinned"]
    assert total() == unread_sql()[0][0] == _expected_unread(reader) > 0
    list_base = _timed(list_sql)
    unread_base = _timed(unread_sql)
    bench.print_table(
        f"Conversation list and unread total of a person in {count:,} conversations "
        f"({connection.vendor}, {RUNS} runs each)",
        HEADER,
        [
            _row(bench, f"baseline SQL, {PAGE} memberships + conversations", list_base, None, 1),
            _row(
                bench, f"conversation_rows, first {PAGE}", _timed(first_page), list_base, _queries(first_page)
            ),
            _row(bench, f"conversation_rows, last {PAGE}", _timed(last_page), list_base, _queries(last_page)),
            _row(bench, "baseline SQL, SUM of unread", unread_base, None, 1),
            _row(bench, "unread_total", _timed(total), unread_base, _queries(total)),
        ],
    )


def _expected_unread(reader: Any) -> int:
    # Every generated member joined at seq 0; muted conversations do not count.
    from chat.models import Membership

    return sum(
        m.conversation.last_seq - m.last_read_seq
        for m in Membership.objects.filter(user=reader, left_at__isnull=True, muted=False).select_related(
            "conversation"
        )
    )


def test_read_receipts_of_one_message_in_a_500_member_group(scale: Any, bench: Any) -> None:
    from chat.history import read_receipts
    from chat.models import Membership
    from officeapp.org.models import User

    message = scale.crowd_message
    receipts_sql = _raw(
        f"SELECT m.*, u.* FROM chat_membership m JOIN {User._meta.db_table} u ON u.id = m.user_id "  # noqa: S608
        "WHERE m.conversation_id = %s AND m.left_at IS NULL AND m.joined_seq < %s AND m.user_id <> %s "
        "ORDER BY u.real_name, u.id",
        [message.conversation_id, message.seq, message.sender_id],
    )
    receipts = lambda: read_receipts(message)  # noqa: E731

    result = receipts()
    expected_unread = Membership.objects.filter(
        conversation_id=message.conversation_id, left_at__isnull=True, last_read_seq__lt=message.seq
    ).exclude(user_id=message.sender_id)
    assert len(result["read"]) + len(result["unread"]) == MEMBERS - 1
    assert {u.pk for u in result["unread"]} == set(expected_unread.values_list("user_id", flat=True))
    base = _timed(receipts_sql)
    bench.print_table(
        f'"N人未读" of one message in a {MEMBERS}-member group: {len(result["unread"])} 人未读, '
        f"{len(result['read'])} 人已读 ({connection.vendor}, {RUNS} runs each)",
        HEADER,
        [
            _row(bench, f"baseline SQL, {MEMBERS - 1} memberships + users", base, None, 1),
            _row(bench, "read_receipts", _timed(receipts), base, _queries(receipts)),
        ],
    )


def test_search_in_a_conversation_of_a_million_messages(scale: Any, bench: Any) -> None:
    """search_in promises to scan at most the newest 20,000 messages: a word found nowhere costs that
    window, not the conversation."""
    from chat.history import SEARCH_WINDOW, search_in

    membership = _membership(scale.big, scale.reader)
    floor = scale.big.last_seq - SEARCH_WINDOW
    window_sql = _raw(
        "SELECT * FROM chat_message WHERE conversation_id = %s AND seq > %s AND body LIKE %s "
        "ORDER BY seq DESC LIMIT %s",
        [scale.big.pk, floor, "%不存在的词%", PAGE],
    )
    missing = lambda: search_in(membership, "不存在的词")  # noqa: E731
    common = lambda: search_in(membership, "会议纪要")  # noqa: E731
    assert missing() == [] and window_sql() == []
    assert all(m.seq > floor for m in common())
    runs = max(10, RUNS // 10)
    base = _timed(window_sql, runs)
    bench.print_table(
        f"Search inside a conversation of {scale.big.last_seq:,} messages ({connection.vendor}, {runs} runs each)",
        HEADER,
        [
            _row(bench, f"baseline SQL, LIKE over the newest {SEARCH_WINDOW:,}", base, None, 1),
            _row(bench, "search_in, a word found nowhere", _timed(missing, runs), base, _queries(missing)),
            _row(
                bench, "search_in, a common word (page of 50)", _timed(common, runs), base, _queries(common)
            ),
        ],
    )
