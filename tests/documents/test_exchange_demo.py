"""The 公文交换 demo (documents/exchange_demo.py) on the demo province and its 发文 demo: a 退文
with its reason, a 撤回 then 补发, a 催办, a 转发 from 广州 to two districts, and several documents
still waiting for li.guohua."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.db import transaction

from documents.exchange import events_of, pending_for
from documents.models import ExchangeEventKind, ExchangeRecord, ExchangeState
from officeapp.org.models import Agency, User


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """The province, the 发文 demo and the exchange demo, once for this module, rolled back after."""
    from documents.exchange_demo import build_exchange_demo
    from officeapp.demo import load_demo_province
    from workflows.demo import build_outgoing_demo

    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        load_demo_province(stdout=out.write)
        build_outgoing_demo(out.write)
        yield build_exchange_demo(out.write)
        transaction.set_rollback(True)


def test_one_record_is_returned_with_a_reason_and_note(demo: str, db: Any) -> None:
    (returned,) = ExchangeRecord.objects.filter(state=ExchangeState.RETURNED)
    assert returned.recipient.name == "广东省教育厅"
    assert returned.return_reason and returned.return_note
    assert returned.sender.code == "GD-BGT"


def test_one_record_was_withdrawn_and_sent_again(demo: str, db: Any) -> None:
    record = ExchangeRecord.objects.get(recipient__code="GD-SZ-BGS")
    assert [e.kind for e in events_of(record)] == [
        ExchangeEventKind.RESENT,
        ExchangeEventKind.WITHDRAWN,
        ExchangeEventKind.RESENT,
    ]
    assert record.state == ExchangeState.PENDING


def test_a_pending_recipient_was_urged(demo: str, db: Any) -> None:
    record = ExchangeRecord.objects.get(
        recipient__name="广东省应急管理厅", events__kind=ExchangeEventKind.URGED
    )
    assert record.state == ExchangeState.PENDING


def test_guangzhou_forwarded_to_two_districts_and_follows_them(demo: str, db: Any) -> None:
    guangzhou = Agency.objects.get(code="GD-GZ-BGS")
    forwarded = ExchangeRecord.objects.filter(sender=guangzhou).order_by("recipient__code")
    assert [r.recipient.code for r in forwarded] == ["GD-GZ-TH-BGS", "GD-GZ-YX-BGS"]
    assert {r.recipient.code: r.state for r in forwarded} == {
        "GD-GZ-TH-BGS": ExchangeState.PENDING,
        "GD-GZ-YX-BGS": ExchangeState.RECEIVED,
    }


def test_li_guohua_keeps_several_documents_to_sign(demo: str, db: Any) -> None:
    clerk = User.objects.get(username="li.guohua")
    assert pending_for(clerk).count() >= 3
    assert "李国华（省财政厅）待签收" in demo or demo == "registered"
