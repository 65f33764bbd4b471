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
