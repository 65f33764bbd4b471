"""分发, 补发, 撤回 and 待签收: what the sender's office and the recipients' 收发员 notice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from documents.errors import DocumentError
from documents.exchange import distribute, pending_for, resend, withdraw
from documents.models import (
    DocumentState,
    ExchangeKind,
    ExchangeRecord,
    ExchangeState,
    Rendering,
    RenderKind,
    Urgency,
)
from officeapp.access import grants_of
from officeapp.audit.models import AuditEvent
from officeapp.notify.models import Notification
from officeapp.org.models import AgencyLevel, Delegation, Role
from officeapp.org.services import create_agency
from officeapp.outbox.models import OutboxEvent
from tests.documents.exchange_factories import grant, make_sealed


def test_distribution_creates_one_pending_record_per_main_and_cc_agency(cast: Any) -> None:
    document = make_sealed(cast)

    records = distribute(document, actor=cast.office_secretary)

    assert {(r.recipient, r.kind, r.state) for r in records} == {
        (cast.finance, ExchangeKind.MAIN, ExchangeState.PENDING),
        (cast.education, ExchangeKind.CC, ExchangeState.PENDING),
    }
    assert all(r.sender == cast.gov_office and r.sent_by == cast.office_secretary for r in records)


def test_distribution_sets_the_printing_date_when_empty(cast: Any) -> None:
    document = make_sealed(cast)

    distribute(document, actor=cast.clerk)

    document.refresh_from_db()
    assert document.printed_on == timezone.localdate()


def test_distribution_keeps_a_printing_date_already_set(cast: Any) -> None:
    document = make_sealed(cast)
    earlier = timezone.localdate() - timedelta(days=2)
    document.printed_on = earlier
    document.save()

    distribute(document, actor=cast.clerk)

    document.refresh_from_db()
    assert document.printed_on == earlier


def test_a_second_distribution_creates_nothing_and_says_so(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)

    again = distribute(document, actor=cast.office_secretary)

    assert list(again) == []
    assert "已分发" in again.message
    assert ExchangeRecord.objects.filter(document=document).count() == 2
    assert OutboxEvent.objects.filter(topic="documents.exchange.sent").count() == 1


def test_distribution_is_refused_without_a_sealed_file(cast: Any) -> None:
    document = make_sealed(cast)
    Rendering.objects.filter(document=document, kind=RenderKind.SEALED_PDF).delete()

    with pytest.raises(DocumentError, match="尚未用印"):
        distribute(document, actor=cast.office_secretary)

    assert not ExchangeRecord.objects.filter(document=document).exists()


def test_distribution_is_refused_without_a_document_number(cast: Any) -> None:
    document = make_sealed(cast, number="")

    with pytest.raises(DocumentError, match="发文字号"):
        distribute(document, actor=cast.office_secretary)


def test_distribution_is_refused_before_the_distribute_step(cast: Any) -> None:
    document = make_sealed(cast)
    document.state = DocumentState.SEAL
    document.save()

    with pytest.raises(DocumentError, match="用印"):
        distribute(document, actor=cast.office_secretary)


def test_distribution_without_recipient_agencies_is_refused_with_a_clear_message(cast: Any) -> None:
    document = make_sealed(cast, main_recipients=[], cc_recipients=[])

    with pytest.raises(DocumentError, match="没有可分发"):
        distribute(document, actor=cast.office_secretary)


def test_an_agency_named_both_main_and_cc_gets_one_main_record(cast: Any) -> None:
    document = make_sealed(cast, main_recipients=[cast.finance], cc_recipients=[cast.finance])

    records = distribute(document, actor=cast.office_secretary)

    assert [(r.recipient, r.kind) for r in records] == [(cast.finance, ExchangeKind.MAIN)]


def test_only_the_issuing_agencys_secretary_or_clerk_may_distribute(cast: Any) -> None:
    document = make_sealed(cast)

    for someone in (cast.drafter, cast.leader, cast.other_clerk, cast.outsider):
        with pytest.raises(PermissionDenied):
            distribute(document, actor=someone)

    assert not ExchangeRecord.objects.filter(document=document).exists()


def test_the_delegate_of_the_secretary_may_distribute(cast: Any) -> None:
    document = make_sealed(cast)
    now = timezone.now()
    Delegation.objects.create(
        from_user=cast.office_secretary,
        to_user=cast.supervisor,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="出差",
    )

    records = distribute(document, actor=cast.supervisor)

    assert len(records) == 2


def test_recipient_clerks_are_notified_with_a_link_to_the_document(cast: Any) -> None:
    document = make_sealed(cast)

    distribute(document, actor=cast.office_secretary)

    (note,) = Notification.objects.filter(kind="documents.exchange")
    assert note.recipient == cast.other_clerk
    assert "粤府办〔2026〕1号" in note.title
    assert note.url == f"/documents/{document.pk}/"
    assert note.urgency == "normal"


def test_an_extra_urgent_document_notifies_as_urgent(cast: Any) -> None:
    document = make_sealed(cast, urgency=Urgency.EXTRA_URGENT)

    distribute(document, actor=cast.office_secretary)

    note = Notification.objects.get(kind="documents.exchange", recipient=cast.other_clerk)
    assert note.urgency == "urgent"
    assert "特急" in note.title


def test_the_push_to_clerks_happens_only_after_commit(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    document = make_sealed(cast)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        distribute(document, actor=cast.office_secretary)

    assert callbacks, "the socket push waits for the commit"


def test_distribution_is_audited_and_written_to_the_outbox(cast: Any) -> None:
    document = make_sealed(cast)

    records = distribute(document, actor=cast.office_secretary)

    event = AuditEvent.objects.get(action="documents.exchange.sent")
    assert event.actor == cast.office_secretary
    assert sorted(event.details["recipients"]) == sorted([cast.finance.pk, cast.education.pk])
    assert document.title not in str(event.details)
    outbox = OutboxEvent.objects.get(topic="documents.exchange.sent")
    assert sorted(outbox.payload["records"]) == sorted(r.pk for r in records)


def test_pending_lists_what_reached_the_clerks_agency(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)

    assert [r.document for r in pending_for(cast.other_clerk)] == [document]
    assert list(pending_for(cast.clerk)) == []  # the sender's own clerk receives nothing
    assert list(pending_for(cast.outsider)) == []


def test_a_newly_granted_clerk_sees_the_pending_documents_of_her_agency(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)

    grant(cast.outsider, Role.CLERK, cast.education)

    assert [r.document for r in pending_for(cast.outsider)] == [document]


def test_withdrawing_removes_it_from_the_recipients_pending_list_and_tells_them(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)
    to_finance = ExchangeRecord.objects.get(document=document, recipient=cast.finance)

    withdraw(to_finance, actor=cast.clerk, reason="主送单位有误")

    to_finance.refresh_from_db()
    assert to_finance.state == ExchangeState.WITHDRAWN
    assert list(pending_for(cast.other_clerk)) == []
    note = Notification.objects.filter(recipient=cast.other_clerk).latest("pk")
    assert "已撤回" in note.title and "主送单位有误" in note.body
    event = AuditEvent.objects.get(action="documents.exchange.withdrawn")
    assert "主送单位有误" not in str(event.details)


def test_withdrawing_needs_a_reason(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)

    with pytest.raises(DocumentError, match="撤回原因"):
        withdraw(record, actor=cast.office_secretary, reason="  ")
    with pytest.raises(DocumentError, match="撤回原因最多 200 个字"):
        withdraw(record, actor=cast.office_secretary, reason="误" * 201)
    record.refresh_from_db()
    assert record.state == ExchangeState.PENDING


def test_a_received_record_cannot_be_withdrawn(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)
    ExchangeRecord.objects.filter(pk=record.pk).update(
        state=ExchangeState.RECEIVED, received_at=timezone.now(), received_by=cast.other_clerk
    )

    with pytest.raises(DocumentError, match="签收"):
        withdraw(record, actor=cast.office_secretary, reason="发错了")


def test_only_the_senders_office_may_withdraw(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)

    with pytest.raises(PermissionDenied):
        withdraw(record, actor=cast.other_clerk, reason="不要了")


def test_resending_reaches_a_new_agency_and_skips_those_that_have_it(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)
    city = create_agency(actor=None, name="广州市人民政府", level=AgencyLevel.CITY, code="GZ")

    sent = resend(document, actor=cast.office_secretary, agencies=[city, cast.finance])

    assert [(r.recipient, r.kind, r.state) for r in sent] == [(city, ExchangeKind.CC, ExchangeState.PENDING)]
    assert "广东省财政厅" in sent.message
    assert AuditEvent.objects.filter(action="documents.exchange.resent").count() == 1


def test_resending_to_a_withdrawn_agency_makes_it_pending_again(cast: Any) -> None:
    document = make_sealed(cast)
    distribute(document, actor=cast.office_secretary)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)
    withdraw(record, actor=cast.office_secretary, reason="附件漏发")

    sent = resend(document, actor=cast.office_secretary, agencies=[cast.finance])

    assert [r.pk for r in sent] == [record.pk]
    assert [r.document for r in pending_for(cast.other_clerk)] == [document]


def test_resending_before_distribution_is_refused(cast: Any) -> None:
    document = make_sealed(cast)

    with pytest.raises(DocumentError, match="尚未分发"):
        resend(document, actor=cast.office_secretary, agencies=[cast.finance])


def test_distribution_costs_the_same_queries_for_two_or_twenty_recipients(cast: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from officeapp.org.services import create_department, create_user

    def queries_for(recipients: list[Any], number: str) -> int:
        document = make_sealed(cast, number=number, main_recipients=recipients, cc_recipients=[])
        with CaptureQueriesContext(connection) as captured:
            distribute(document, actor=cast.office_secretary)
        return len(captured)

    few = [cast.finance, cast.education]
    cities = [
        create_agency(actor=None, name=f"测试市{n}人民政府", level=AgencyLevel.CITY, code=f"T{n}")
        for n in range(18)
    ]
    for n, city in enumerate(cities):
        office = create_department(actor=None, agency=city, name="办公室", code=f"T{n}-BGS")
        clerk = create_user(actor=None, username=f"city_clerk_{n}", real_name=f"收发员{n}", department=office)
        grant(clerk, Role.CLERK, city)

    grants_of(cast.office_secretary)  # loaded once per request anyway

    assert queries_for(few + cities, "粤府办〔2026〕2号") == queries_for(few, "粤府办〔2026〕1号")
    # 省财政厅's clerk twice (one per document), each city's clerk once.
    assert Notification.objects.filter(kind="documents.exchange").count() == 2 + 18


def test_a_withdrawal_keeps_who_withdrew_it_when_and_why(cast: Any) -> None:
    from tests.documents.exchange_factories import make_sealed

    document = make_sealed(cast)
    record = distribute(document, actor=cast.office_secretary)[0]

    withdraw(record, actor=cast.office_secretary, reason="主送机关有误")

    record.refresh_from_db()
    assert record.withdrawn_by == cast.office_secretary
    assert record.withdraw_reason == "主送机关有误"
    assert record.withdrawn_at is not None
