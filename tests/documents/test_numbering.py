"""发文字号: the G14 and G29 forms, and gap-free numbering the office can reserve and void."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection

from documents.errors import DocumentError, NumberRuleBroken
from documents.models import DocNumber, NumberSequence, NumberState, OfficialDocument
from documents.numbering import (
    assign_number,
    format_issued_on,
    reserve_number,
    reserved_for,
    validate_doc_number,
    validate_issued_on,
    void_number,
)
from officeapp.audit.models import AuditEvent
from officeapp.outbox.models import OutboxEvent
from tests.documents.factories import make_document

# --- G14 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["粤府办〔2026〕12号", "国办发〔2025〕1号", "粤财〔1999〕108号"])
def test_numbers_in_the_standard_form_are_accepted(text: str) -> None:
    assert validate_doc_number(f" {text} ") == text


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("粤府办[2026]12号", "六角括号"),
        ("粤府办【2026】12号", "六角括号"),
        ("粤府办(2026)12号", "六角括号"),
        ("粤府办（2026）12号", "六角括号"),
        ("粤府办2026年12号", "六角括号"),
        ("粤府办〔2026〕012号", "不编虚位"),
        ("粤府办〔2026〕第12号", "不加“第”"),
        ("粤府办〔2026〕12", "“号”字结尾"),
        ("粤府办〔26〕12号", "年份应写全称"),
        ("〔2026〕12号", "机关代字开头"),
    ],
)
def test_each_common_mistake_in_a_number_gets_its_own_message_naming_the_rule(text: str, names: str) -> None:
    with pytest.raises(NumberRuleBroken) as refused:
        validate_doc_number(text)

    assert names in refused.value.message
    assert "GB/T 9704 第7.2.5条" in refused.value.message


def test_an_empty_number_is_refused_with_the_rule_spelled_out() -> None:
    with pytest.raises(NumberRuleBroken, match="机关代字〔年份〕序号号"):
        validate_doc_number("  ")


# --- G29 ------------------------------------------------------------------------------------------


def test_a_date_in_the_standard_form_is_read() -> None:
    assert validate_issued_on("2026年7月1日") == datetime.date(2026, 7, 1)
    assert format_issued_on(datetime.date(2026, 7, 1)) == "2026年7月1日"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("2026年07月01日", "不编虚位"),
        ("2026-7-1", "不用“-”"),
        ("2026.7.1", "不用“-”"),
        ("二〇二六年七月一日", "阿拉伯数字"),
        ("26年7月1日", "年份应写全称"),
        ("7月1日", "GB/T 9704 第7.3.5.1条"),
    ],
)
def test_a_date_in_the_wrong_form_is_refused_naming_the_rule(text: str, names: str) -> None:
    with pytest.raises(NumberRuleBroken) as refused:
        validate_issued_on(text)

    assert names in refused.value.message
    assert "GB/T 9704 第7.3.5.1条" in refused.value.message


def test_a_date_that_does_not_exist_is_refused() -> None:
    with pytest.raises(NumberRuleBroken, match="不是一个存在的日期"):
        validate_issued_on("2026年2月30日")


# --- assign / reserve / void ----------------------------------------------------------------------


def test_numbers_are_handed_out_one_after_another_per_prefix_and_year(cast: Any) -> None:
    first, second = make_document(cast), make_document(cast)

    a = assign_number(first, actor=cast.office_secretary)
    b = assign_number(second, actor=cast.office_secretary)

    year = datetime.date.today().year
    assert (a.text, b.text) == (f"粤府办〔{year}〕1号", f"粤府办〔{year}〕2号")
    first.refresh_from_db()
    assert first.doc_number == a.text
    assert a.state == NumberState.ASSIGNED and a.document == first


def test_the_year_follows_the_issue_date(cast: Any) -> None:
    document = make_document(cast)
    OfficialDocument.objects.filter(pk=document.pk).update(issued_on=datetime.date(2025, 12, 31))
    document.refresh_from_db()

    number = assign_number(document, actor=cast.office_secretary)

    assert number.text == "粤府办〔2025〕1号"
    assert NumberSequence.objects.get(prefix="粤府办", year=2025).last_serial == 1


def test_assigning_writes_an_audit_event_and_an_outbox_row(cast: Any) -> None:
    document = make_document(cast)

    number = assign_number(document, actor=cast.office_secretary)

    event = AuditEvent.objects.get(action="documents.number_assigned")
    assert event.details["number_id"] == number.pk
    assert OutboxEvent.objects.filter(topic="documents.number.assigned", object_id=str(document.pk)).exists()


def test_a_document_that_already_has_a_number_is_refused_a_second_one(cast: Any) -> None:
    document = make_document(cast)
    number = assign_number(document, actor=cast.office_secretary)

    with pytest.raises(DocumentError, match="已编号") as refused:
        assign_number(document, actor=cast.office_secretary)

    assert number.text in refused.value.message
    assert DocNumber.objects.count() == 1


def test_someone_outside_the_office_cannot_number(cast: Any) -> None:
    document = make_document(cast)

    with pytest.raises(PermissionDenied):
        assign_number(document, actor=cast.drafter)


def test_a_reserved_number_is_used_when_chosen_and_marked_assigned(cast: Any) -> None:
    year = datetime.date.today().year
    reserved = reserve_number(
        cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=year, reason="为全省会议通知预留"
    )
    document = make_document(cast)

    number = assign_number(document, actor=cast.office_director, reserved=reserved.pk)

    assert number.pk == reserved.pk
    assert number.state == NumberState.ASSIGNED
    document.refresh_from_db()
    assert document.doc_number == f"粤府办〔{year}〕1号"
    # The next plain assignment does not reuse the reserved serial.
    assert assign_number(make_document(cast), actor=cast.office_secretary).serial == 2


def test_the_numbering_step_is_offered_only_reserved_numbers_of_the_documents_prefix_and_year(
    cast: Any,
) -> None:
    year = datetime.date.today().year
    mine = reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=year)
    reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=year - 1)
    used = reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=year)
    void_number(used, actor=cast.office_secretary, reason="不再需要")

    assert list(reserved_for(make_document(cast))) == [mine]


def test_a_reserved_number_of_another_year_cannot_be_used(cast: Any) -> None:
    reserved = reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=2020)

    with pytest.raises(DocumentError, match="不属于"):
        assign_number(make_document(cast), actor=cast.office_secretary, reserved=reserved)


def test_a_voided_number_is_never_reused_and_the_document_loses_it(cast: Any) -> None:
    document = make_document(cast)
    number = assign_number(document, actor=cast.office_secretary)

    voided = void_number(number, actor=cast.office_director, reason="标题有误，重新编号")
    document.refresh_from_db()
    assert document.doc_number == ""
    again = assign_number(document, actor=cast.office_secretary)

    assert voided.state == NumberState.VOIDED and voided.reason == "标题有误，重新编号"
    assert again.serial == number.serial + 1
    assert AuditEvent.objects.filter(action="documents.number_voided").count() == 1


def test_voiding_needs_a_reason(cast: Any) -> None:
    number = reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=2026)

    with pytest.raises(DocumentError, match="作废原因"):
        void_number(number, actor=cast.office_secretary, reason="  ")


def test_a_voided_reserved_number_cannot_be_used(cast: Any) -> None:
    year = datetime.date.today().year
    number = reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=year)
    void_number(number, actor=cast.office_secretary, reason="不再需要")

    with pytest.raises(DocumentError, match="已作废"):
        assign_number(make_document(cast), actor=cast.office_secretary, reserved=number)


def test_only_the_agencys_office_may_reserve_or_void(cast: Any) -> None:
    with pytest.raises(PermissionDenied):
        reserve_number(cast.gov_office, actor=cast.drafter, prefix="粤府办", year=2026)
    with pytest.raises(PermissionDenied):
        reserve_number(cast.gov_office, actor=cast.other_clerk, prefix="粤府办", year=2026)
    number = reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=2026)
    with pytest.raises(PermissionDenied):
        void_number(number, actor=cast.dept_head, reason="试图作废")


def test_reserving_under_another_agencys_prefix_is_refused(cast: Any) -> None:
    with pytest.raises(DocumentError, match="不是本机关的机关代字"):
        reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤财", year=2026)


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------

PARALLEL = 30


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_assignments_get_thirty_consecutive_distinct_numbers() -> None:
    from tests.conftest import build_cast

    cast = build_cast()
    documents = [make_document(cast, title=f"关于第{i}批事项的通知") for i in range(PARALLEL)]
    start = threading.Barrier(PARALLEL)
    serials: list[int] = []
    failures: list[BaseException] = []

    def take(document: OfficialDocument) -> None:
        try:
            start.wait()
            serials.append(assign_number(document, actor=cast.office_secretary).serial)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(d,)) for d in documents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert sorted(serials) == list(range(1, PARALLEL + 1))
    texts = set(
        OfficialDocument.objects.filter(pk__in=[d.pk for d in documents]).values_list("doc_number", flat=True)
    )
    assert len(texts) == PARALLEL
    assert NumberSequence.objects.get(prefix="粤府办").last_serial == PARALLEL


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_sequence_created_by_someone_else_meanwhile_is_used_not_refused() -> None:
    from django.db import transaction

    from tests.conftest import build_cast

    cast = build_cast()
    document = make_document(cast)
    year = datetime.date.today().year
    created = threading.Event()
    release = threading.Event()

    def first_of_the_year() -> None:
        # given: another request creates this year's sequence and holds it uncommitted
        try:
            with transaction.atomic():
                NumberSequence.objects.create(
                    agency=cast.gov_office, prefix="粤府办", year=year, last_serial=5
                )
                created.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    other = threading.Thread(target=first_of_the_year)
    other.start()
    assert created.wait(timeout=10)
    # when: our INSERT of the same row waits on the unique index, and the other commits meanwhile
    threading.Timer(0.5, release.set).start()
    number = assign_number(document, actor=cast.office_secretary)
    other.join()

    # then: we took the next serial of the row the other request created
    assert number.serial == 6
    assert NumberSequence.objects.filter(prefix="粤府办", year=year).count() == 1
