"""收文 records: created from an exchange record or by hand, 收文号 per agency and year, 办理时限 in
working days from the urgency, 归档 of a 收文."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from documents.errors import DocumentError
from documents.incoming import (
    archive_incoming,
    assign_incoming_number,
    create_from_exchange,
    default_deadline,
    format_incoming_number,
)
from documents.models import (
    DocumentCategory,
    DocumentState,
    ExchangeState,
    IncomingRecord,
    IncomingSequence,
    Urgency,
)


@pytest.fixture
def receiving(cast: Any) -> Any:
    """省财政厅's receiving side (tests/workflows/incoming_cast.py)."""
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast

    return build_receiving_cast(build_flow_cast(cast))


def received(receiving: Any, **fields: Any) -> Any:
    """A record marked signed for by 省财政厅's clerk without `receive` (so no 收文 process starts)."""
    exchange = receiving.sent_to_finance(**fields)
    exchange.state = ExchangeState.RECEIVED
    exchange.save(update_fields=["state"])
    return exchange


@pytest.mark.django_db
def test_deadlines_count_working_days_from_the_day_received() -> None:
    from officeapp.calendar.models import CalendarDay, CalendarYear, DayKind

    CalendarYear.objects.get_or_create(year=2026)
    # 清明 holiday on Monday 6 April 2026 (a maintained calendar day).
    CalendarDay.objects.update_or_create(
        date=date(2026, 4, 6), defaults={"kind": DayKind.HOLIDAY, "name": "清明节"}
    )
    thursday = date(2026, 4, 2)

    assert default_deadline(Urgency.EXTRA_URGENT, thursday) == date(2026, 4, 7)  # Fri, (Mon off), Tue
    assert default_deadline(Urgency.URGENT, thursday) == date(2026, 4, 10)
    assert default_deadline(Urgency.NORMAL, thursday) == date(2026, 4, 17)


def test_numbers_are_formatted_from_the_agency_prefix_or_as_plain_incoming() -> None:
    assert format_incoming_number("粤财收", 2026, 15) == "粤财收〔2026〕15号"


def test_a_record_from_an_exchange_is_prefilled_and_shares_the_senders_files(receiving: Any) -> None:
    exchange = received(receiving, urgency=Urgency.EXTRA_URGENT)
    source = exchange.document

    document = create_from_exchange(exchange, actor=receiving.clerk)

    assert document.category == DocumentCategory.INCOMING
    assert document.state == DocumentState.REGISTER
    assert document.agency == receiving.cast.finance
    assert document.department == receiving.cast.finance_office
    assert (document.title, document.doc_type, document.urgency) == (
        source.title,
        source.doc_type,
        source.urgency,
    )
    assert document.issued_on == source.issued_on
    assert document.current_version.body == source.current_version.body
    assert document.deadline == default_deadline(Urgency.EXTRA_URGENT, timezone.localdate())
    record = document.incoming
    assert (record.source_name, record.source_number) == ("广东省人民政府办公厅", "粤府办〔2026〕1号")
    assert record.source_document == source
    assert record.number == ""
    from documents.exchange import sealed_file

    [pdf] = document.attachments.all()
    assert pdf.blob == sealed_file(source).blob
    # The 收发员 of the receiving agency sees it; 省教育厅's clerk does not.
    from documents.access import can_view

    assert can_view(receiving.second_clerk, document)
    assert not can_view(receiving.city_clerk, document)


def test_a_clerk_without_a_department_files_the_record_under_the_agencys_office(receiving: Any) -> None:
    from officeapp.org.models import User

    # A 收发员 granted for the whole agency, with no department of her own (seen in the bench).
    User.objects.filter(pk=receiving.second_clerk.pk).update(department=None)
    clerk = User.objects.get(pk=receiving.second_clerk.pk)
    exchange = received(receiving)

    document = create_from_exchange(exchange, actor=clerk)

    assert document.department == receiving.cast.finance_office
    assert document.drafter == clerk


def test_a_record_cannot_be_created_twice_from_one_exchange(receiving: Any) -> None:
    exchange = received(receiving)
    create_from_exchange(exchange, actor=receiving.clerk)

    with pytest.raises(DocumentError) as refused:
        create_from_exchange(exchange, actor=receiving.second_clerk)

    assert refused.value.message == "该公文已签收登记，不能重复登记。"
    assert IncomingRecord.objects.filter(exchange=exchange).count() == 1


def test_numbers_run_per_agency_and_are_given_once(receiving: Any) -> None:
    year = timezone.localdate().year
    first = create_from_exchange(received(receiving, number="粤府办〔2026〕1号"), actor=receiving.clerk)
    second = create_from_exchange(received(receiving, number="粤府办〔2026〕2号"), actor=receiving.clerk)

    assert assign_incoming_number(first, actor=receiving.clerk) == f"粤财收〔{year}〕1号"
    assert assign_incoming_number(first, actor=receiving.clerk) == f"粤财收〔{year}〕1号"
    assert assign_incoming_number(second, actor=receiving.clerk) == f"粤财收〔{year}〕2号"
    assert IncomingSequence.objects.get(agency=receiving.cast.finance, year=year).last_serial == 2


def test_an_agency_without_a_prefix_numbers_as_plain_incoming(receiving: Any) -> None:
    from documents.exchange import distribute
    from tests.documents.exchange_factories import make_sealed

    cast = receiving.cast
    source = make_sealed(cast, number="粤府办〔2026〕9号")
    source.main_recipients.set([receiving.city])
    distribute(source, actor=cast.office_secretary)
    exchange = source.exchange_records.get(recipient=receiving.city)
    exchange.state = ExchangeState.RECEIVED
    exchange.save(update_fields=["state"])
    document = create_from_exchange(exchange, actor=receiving.city_clerk)

    number = assign_incoming_number(document, actor=receiving.city_clerk)

    assert number == f"收文〔{timezone.localdate().year}〕1号"


def test_archiving_a_record_only_at_the_archive_step_by_the_archivist(receiving: Any) -> None:
    from django.core.exceptions import PermissionDenied

    document = create_from_exchange(received(receiving), actor=receiving.clerk)

    with pytest.raises(DocumentError) as too_early:
        archive_incoming(document, actor=receiving.archivist, retention="10y")
    document.state = DocumentState.ARCHIVE
    document.save(update_fields=["state"])
    with pytest.raises(PermissionDenied):
        archive_incoming(document, actor=receiving.budget_head, retention="10y")
    with pytest.raises(DocumentError) as no_retention:
        archive_incoming(document, actor=receiving.archivist, retention="")
    archive_incoming(document, actor=receiving.archivist, retention="30y")

    assert too_early.value.message == "收文尚未办结，不能归档。"
    assert no_retention.value.message == "请选择保管期限（永久、30年或10年）。"
    document.refresh_from_db()
    assert document.state == DocumentState.ARCHIVED
    assert document.retention == "30y"
