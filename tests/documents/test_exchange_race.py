"""分发 and 撤回 under concurrency: a double-clicked 分发 or a flow step re-run by two workers
creates one set of records and tells each recipient once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from documents.errors import DocumentError
from documents.exchange import distribute, withdraw
from documents.models import ExchangeRecord, ExchangeState
from officeapp.notify.models import Notification
from officeapp.outbox.models import OutboxEvent
from tests.documents.exchange_factories import make_sealed

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)"),
]

CALLERS = 8


def _together(callers: int, work: Any) -> list[Any]:
    start = threading.Barrier(callers)
    results: list[Any] = []

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except Exception as exc:  # the refusals are what the test counts
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_distributions_create_one_record_per_recipient(cast: Any) -> None:
    document = make_sealed(cast)

    results = _together(CALLERS, lambda: distribute(document, actor=cast.office_secretary))

    assert sorted(len(r) for r in results) == [0] * (CALLERS - 1) + [2]
    assert ExchangeRecord.objects.filter(document=document).count() == 2
    assert OutboxEvent.objects.filter(topic="documents.exchange.sent").count() == 1
    assert Notification.objects.filter(kind="documents.exchange", recipient=cast.other_clerk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_withdrawals_withdraw_once(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)

    results = _together(CALLERS, lambda: withdraw(record, actor=cast.office_secretary, reason="发错了"))

    assert sum(isinstance(r, ExchangeRecord) for r in results) == 1
    assert all(isinstance(r, DocumentError) for r in results if not isinstance(r, ExchangeRecord))
    record.refresh_from_db()
    assert record.state == ExchangeState.WITHDRAWN
    assert Notification.objects.filter(recipient=cast.other_clerk, title__startswith="已撤回").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_clerks_signing_at_once_one_succeeds_and_the_other_is_told_who_signed(cast: Any) -> None:
    from django.utils import timezone

    from documents.exchange import receive
    from documents.models import ExchangeEvent, ExchangeEventKind
    from documents.signals import exchange_received
    from officeapp.org.models import Role
    from officeapp.org.services import create_user, grant_role

    second = create_user(
        actor=None,
        username="fin_clerk_b",
        real_name="孙收发",
        department=cast.finance_office,
        password="x" * 12,
    )
    grant_role(actor=None, user=second, role=Role.CLERK, agency=cast.finance)
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)
    started: list[int] = []
    exchange_received.connect(lambda record, **kw: started.append(record.pk), weak=False, dispatch_uid="race")
    clerks = iter([cast.other_clerk, second] * (CALLERS // 2))
    lock = threading.Lock()

    def sign() -> Any:
        with lock:
            clerk = next(clerks)
        from django.contrib.auth import get_user_model

        return receive(
            ExchangeRecord.objects.get(pk=record.pk), actor=get_user_model().objects.get(pk=clerk.pk)
        )

    try:
        results = _together(CALLERS, sign)
    finally:
        exchange_received.disconnect(dispatch_uid="race")

    signed = [r for r in results if isinstance(r, ExchangeRecord)]
    refused = [r for r in results if not isinstance(r, ExchangeRecord)]
    assert len(signed) == 1
    assert all(isinstance(r, DocumentError) for r in refused), [repr(r) for r in refused]
    record.refresh_from_db()
    who = record.received_by.real_name
    at = timezone.localtime(record.received_at)
    expected = f"该公文已由{who}于{at.month}月{at.day}日 {at:%H:%M}签收。"
    assert [r.message for r in refused] == [expected] * (CALLERS - 1)
    assert started == [record.pk]
    assert ExchangeEvent.objects.filter(exchange=record, kind=ExchangeEventKind.RECEIVED).count() == 1
