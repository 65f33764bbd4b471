"""补发 from the sender's tracking page: find agencies by name, tick them, send; an agency that has
it already is not sent twice; a withdrawn record is sent again; only the sender's office may."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from documents.exchange import withdraw
from documents.models import ExchangeEventKind, ExchangeRecord, ExchangeState

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiving(cast: Any) -> Any:
    """省府办公厅 sends, 省财政厅 receives (tests/workflows/incoming_cast.py)."""
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast

    return build_receiving_cast(build_flow_cast(cast))


def _url(document: Any) -> str:
    return reverse("documents:exchange_resend", kwargs={"document_id": document.pk})


def test_the_office_finds_an_agency_by_name_and_sends_it_the_document(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()
    document = record.document
    client = sign_in(receiving.cast.office_secretary)

    found = client.get(_url(document), {"q": "广州"}).content.decode()
    response = client.post(_url(document), {"q": "广州", "agencies": [receiving.city.pk], "action": "send"})
    tracking = client.get(response["Location"]).content.decode()

    assert "广州市人民政府" in found
    assert response["Location"] == reverse("documents:distribution", kwargs={"document_id": document.pk})
    assert "已补发给广州市人民政府" in tracking
    sent = ExchangeRecord.objects.get(document=document, recipient=receiving.city)
    assert sent.state == ExchangeState.PENDING
    assert [e.kind for e in sent.events.all()] == [ExchangeEventKind.RESENT]


def test_an_agency_that_has_it_is_named_and_not_sent_twice(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()
    client = sign_in(receiving.cast.office_secretary)

    response = client.post(
        _url(record.document), {"agencies": [receiving.cast.finance.pk], "action": "send"}, follow=True
    )

    assert "已收到该公文，未重复发送：广东省财政厅" in response.content.decode()
    assert (
        ExchangeRecord.objects.filter(document=record.document, recipient=receiving.cast.finance).count() == 1
    )


def test_a_withdrawn_record_is_sent_again(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()
    withdraw(record, actor=receiving.cast.office_secretary, reason="附件有误")

    sign_in(receiving.cast.office_secretary).post(
        _url(record.document), {"agencies": [receiving.cast.finance.pk], "action": "send"}
    )

    record.refresh_from_db()
    assert record.state == ExchangeState.PENDING
    assert [e.kind for e in record.events.all()][-2:] == [
        ExchangeEventKind.WITHDRAWN,
        ExchangeEventKind.RESENT,
    ]


def test_sending_to_nobody_is_refused_and_keeps_the_search(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()

    response = sign_in(receiving.cast.office_secretary).post(
        _url(record.document), {"q": "教育", "action": "send"}
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "请选择补发的单位。" in text
    assert 'value="教育"' in text and "广东省教育厅" in text


def test_the_recipients_clerk_may_not_resend(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()

    response = sign_in(receiving.clerk).get(_url(record.document))

    assert response.status_code == 403


def test_the_tracking_page_offers_resend_to_the_senders_office_only(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()
    page = reverse("documents:distribution", kwargs={"document_id": record.document_id})

    sender = sign_in(receiving.cast.office_secretary).get(page).content.decode()

    assert _url(record.document) in sender


def test_a_garbled_agency_id_is_skipped_and_the_ticked_agency_is_sent(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()
    client = sign_in(receiving.cast.office_secretary)

    response = client.post(
        _url(record.document), {"agencies": ["²", "9" * 30, receiving.city.pk], "action": "send"}
    )

    assert response.status_code == 302
    assert ExchangeRecord.objects.filter(document=record.document, recipient=receiving.city).exists()
