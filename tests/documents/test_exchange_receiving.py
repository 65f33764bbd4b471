"""签收, 退文, 办结, 催办 and 转发, and the history every change leaves: what the recipient's 收发员
and the sender's office notice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from documents.errors import DocumentError
from documents.exchange import (
    distribute,
    events_of,
    forward,
    mark_completed,
    pending_for,
    receive,
    resend,
    return_document,
    tracked_senders,
    tracking_counts,
    tracking_rows,
    urge_recipient,
    withdraw,
)
from documents.models import (
    ExchangeEvent,
    ExchangeEventKind,
    ExchangeRecord,
    ExchangeState,
    ReturnReason,
    Urgency,
)
from documents.signals import exchange_received
from officeapp.audit.models import AuditEvent
from officeapp.notify.models import Notification
from officeapp.notify.relay import user_group
from officeapp.org.models import Delegation
from officeapp.outbox.models import OutboxEvent
from tests.documents.exchange_factories import distributed_to, make_sealed, many_agencies, receiving_cast


@pytest.fixture
def receiving(cast: Any) -> Any:
    return receiving_cast(cast)


def _kinds(record: ExchangeRecord) -> list[str]:
    return [e.kind for e in events_of(record)]


def _frames(send: mock.Mock) -> list[tuple[str, dict[str, Any]]]:
    return [frame for call in send.call_args_list for frame in call.args[0]]


# 签收 -------------------------------------------------------------------------------------------


def test_a_clerk_of_the_recipient_signs_and_the_record_shows_who_and_when(receiving: Any) -> None:
    record = receiving.sent_to_finance()

    receive(record, actor=receiving.clerk)

    record.refresh_from_db()
    assert record.state == ExchangeState.RECEIVED
    assert record.received_by == receiving.clerk
    assert record.received_at is not None
    assert _kinds(record) == [ExchangeEventKind.SENT, ExchangeEventKind.RECEIVED]
    assert list(pending_for(receiving.clerk)) == []
    event = AuditEvent.objects.get(action="documents.exchange.received")
    assert event.actor == receiving.clerk
    assert record.document.title not in str(event.details)
    assert OutboxEvent.objects.filter(topic="documents.exchange.received").count() == 1


def test_the_second_clerk_is_told_who_signed_and_when(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)
    signed_at = timezone.localtime(ExchangeRecord.objects.get(pk=record.pk).received_at)

    with pytest.raises(DocumentError) as refused:
        receive(ExchangeRecord.objects.get(pk=record.pk), actor=receiving.second_clerk)

    assert refused.value.message == (
        f"该公文已由李国华于{signed_at.month}月{signed_at.day}日 {signed_at:%H:%M}签收。"
    )
    record.refresh_from_db()
    assert record.received_by == receiving.clerk
    assert _kinds(record).count(ExchangeEventKind.RECEIVED) == 1


def test_signing_twice_is_refused(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)

    with pytest.raises(DocumentError, match="已由李国华"):
        receive(record, actor=receiving.clerk)


def test_a_withdrawn_record_cannot_be_signed(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    withdraw(record, actor=receiving.cast.office_secretary, reason="发错了")

    with pytest.raises(DocumentError, match="已撤回"):
        receive(record, actor=receiving.clerk)

    record.refresh_from_db()
    assert record.state == ExchangeState.WITHDRAWN
    assert record.received_by is None


@pytest.mark.parametrize("who", ["secretary", "director", "city_clerk"])
def test_only_a_clerk_of_the_recipient_may_sign(receiving: Any, who: str) -> None:
    record = receiving.sent_to_finance()

    with pytest.raises(PermissionDenied):
        receive(record, actor=getattr(receiving, who))

    record.refresh_from_db()
    assert record.state == ExchangeState.PENDING


def test_the_senders_own_clerk_may_not_sign(receiving: Any) -> None:
    record = receiving.sent_to_finance()

    with pytest.raises(PermissionDenied):
        receive(record, actor=receiving.cast.clerk)


def test_the_delegate_of_a_clerk_may_sign(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    now = timezone.now()
    Delegation.objects.create(
        from_user=receiving.clerk,
        to_user=receiving.budget_staff,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="休假",
    )

    receive(record, actor=receiving.budget_staff)

    record.refresh_from_db()
    assert record.received_by == receiving.budget_staff


def test_a_delegate_for_outgoing_work_only_may_not_sign_for_incoming(receiving: Any) -> None:
    from officeapp.org.models import DelegationScope

    record = receiving.sent_to_finance()
    now = timezone.now()
    Delegation.objects.create(
        from_user=receiving.clerk,
        to_user=receiving.budget_staff,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        scope=DelegationScope.OUTGOING,
    )

    with pytest.raises(PermissionDenied):
        receive(record, actor=receiving.budget_staff)
    record.refresh_from_db()
    assert record.state == ExchangeState.PENDING


def test_signing_sends_exchange_received_once_inside_the_transaction(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    seen: list[tuple[int, str, bool, Any]] = []

    def stub(sender: Any, record: ExchangeRecord, actor: Any, **kwargs: Any) -> None:
        state = ExchangeRecord.objects.get(pk=record.pk).state
        seen.append((record.pk, state, connection.in_atomic_block, actor))

    exchange_received.connect(stub, dispatch_uid="test-stub")
    try:
        receive(record, actor=receiving.clerk)
        with pytest.raises(DocumentError):
            receive(record, actor=receiving.second_clerk)
    finally:
        exchange_received.disconnect(dispatch_uid="test-stub")

    assert seen == [(record.pk, ExchangeState.RECEIVED, True, receiving.clerk)]


def test_a_failure_of_the_receiving_side_undoes_the_signature(receiving: Any) -> None:
    record = receiving.sent_to_finance()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("收文 could not start")

    exchange_received.connect(broken, dispatch_uid="test-broken")
    try:
        with pytest.raises(RuntimeError):
            receive(record, actor=receiving.clerk)
    finally:
        exchange_received.disconnect(dispatch_uid="test-broken")

    record.refresh_from_db()
    assert record.state == ExchangeState.PENDING
    assert _kinds(record) == [ExchangeEventKind.SENT]


def test_signing_tells_the_senders_office_live_after_commit(
    receiving: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record = receiving.sent_to_finance()
    cast = receiving.cast

    with mock.patch("documents.exchange.send_to_groups") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            receive(record, actor=receiving.clerk)
        assert not send.called, "nothing is pushed before the commit"
        for callback in callbacks:
            callback()

    frames = _frames(send)
    groups = {group for group, _ in frames}
    for user in (cast.office_secretary, cast.office_director, cast.clerk, receiving.flow_cast.archivist):
        assert user_group(user.pk) in groups
    assert user_group(receiving.clerk.pk) not in groups
    assert user_group(cast.drafter.pk) not in groups
    frame = frames[0][1]
    assert frame["type"] == "push"
    assert frame["frame"] == {
        "type": "exchange.changed",
        "document_id": record.document_id,
        "exchange_id": record.pk,
        "state": "received",
    }


# 退文 -------------------------------------------------------------------------------------------


def test_a_clerk_returns_a_pending_record_with_reason_and_note(receiving: Any) -> None:
    record = receiving.sent_to_finance()

    return_document(record, actor=receiving.clerk, reason=ReturnReason.NOT_OURS, note="应由省发改委办理。")

    record.refresh_from_db()
    assert record.state == ExchangeState.RETURNED
    assert (record.return_reason, record.return_note) == (ReturnReason.NOT_OURS, "应由省发改委办理。")
    assert record.returned_by == receiving.clerk
    event = events_of(record)[-1]
    assert (event.kind, event.reason, event.note) == ("returned", "not_ours", "应由省发改委办理。")
    assert list(pending_for(receiving.clerk)) == []


def test_the_senders_office_and_the_distributor_are_notified_of_a_return(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    cast = receiving.cast

    return_document(record, actor=receiving.clerk, reason=ReturnReason.WRONG_RECIPIENT, note="主送有误。")

    notes = Notification.objects.filter(title__startswith="退文：")
    assert {n.recipient for n in notes} == {cast.office_secretary, cast.office_director, cast.clerk}
    note = notes.first()
    assert note is not None
    assert "广东省财政厅" in note.body and "主送或抄送单位有误" in note.body
    assert note.url == f"/documents/{record.document_id}/distribution/"
    assert not Notification.objects.filter(recipient=receiving.clerk, title__startswith="退文").exists()


@pytest.mark.parametrize(
    ("reason", "note", "message"),
    [
        ("", "不属于我厅。", "请选择退文理由。"),
        ("made_up", "不属于我厅。", "请选择退文理由。"),
        (ReturnReason.NOT_OURS, "   ", "请填写退文说明。"),
        (ReturnReason.NOT_OURS, "不" * 501, "退文说明最多 500 个字（现有 501 个字），请精简后再提交。"),
    ],
)
def test_a_return_without_reason_or_note_is_refused_and_changes_nothing(
    receiving: Any, reason: str, note: str, message: str
) -> None:
    record = receiving.sent_to_finance()

    with pytest.raises(DocumentError) as refused:
        return_document(record, actor=receiving.clerk, reason=reason, note=note)

    assert refused.value.message == message
    record.refresh_from_db()
    assert record.state == ExchangeState.PENDING
    assert _kinds(record) == [ExchangeEventKind.SENT]
    assert not Notification.objects.filter(title__startswith="退文").exists()


def test_a_signed_record_is_returned_at_screening_by_the_secretary_or_director(receiving: Any) -> None:
    first = receiving.sent_to_finance()
    second = receiving.sent_to_finance(number="粤府办〔2026〕2号")
    receive(first, actor=receiving.clerk)
    receive(second, actor=receiving.clerk)

    return_document(first, actor=receiving.secretary, reason=ReturnReason.RULE_BROKEN, note="越级行文。")
    return_document(second, actor=receiving.director, reason=ReturnReason.INCOMPLETE, note="缺附件。")

    assert ExchangeRecord.objects.get(pk=first.pk).returned_by == receiving.secretary
    assert ExchangeRecord.objects.get(pk=second.pk).state == ExchangeState.RETURNED


def test_a_clerk_may_not_return_what_was_already_signed(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)

    with pytest.raises(PermissionDenied):
        return_document(record, actor=receiving.second_clerk, reason=ReturnReason.NOT_OURS, note="不属于。")

    assert ExchangeRecord.objects.get(pk=record.pk).state == ExchangeState.RECEIVED


def test_a_stranger_may_not_return_and_learns_nothing_from_the_form(receiving: Any) -> None:
    record = receiving.sent_to_finance()

    with pytest.raises(PermissionDenied):
        return_document(record, actor=receiving.city_clerk, reason="", note="")


def test_a_returned_record_cannot_be_signed_nor_returned_again(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    return_document(record, actor=receiving.clerk, reason=ReturnReason.DUPLICATE, note="重复发送。")

    with pytest.raises(DocumentError, match="已由李国华于.*退文，不能签收"):
        receive(record, actor=receiving.second_clerk)
    with pytest.raises(DocumentError, match="退文，不能退文"):
        return_document(record, actor=receiving.second_clerk, reason=ReturnReason.OTHER, note="再退。")


def test_a_withdrawn_record_cannot_be_returned(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    withdraw(record, actor=receiving.cast.office_secretary, reason="发错了")

    with pytest.raises(DocumentError, match="已撤回"):
        return_document(record, actor=receiving.clerk, reason=ReturnReason.OTHER, note="无")


# 撤回 and 补发 write history too ----------------------------------------------------------------


def test_withdraw_after_signing_is_refused(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)

    with pytest.raises(DocumentError, match="已签收，不能撤回"):
        withdraw(record, actor=receiving.cast.office_secretary, reason="发错了")


def test_the_history_runs_in_order_through_withdraw_resend_sign_and_completion(receiving: Any) -> None:
    cast = receiving.cast
    record = receiving.sent_to_finance()
    withdraw(record, actor=cast.office_secretary, reason="附件错误")
    resend(record.document, actor=cast.clerk, agencies=[cast.finance])
    receive(record, actor=receiving.second_clerk)
    mark_completed(record, actor=receiving.secretary, result="已按要求落实。")

    history = events_of(record)

    assert [(e.kind, e.actor) for e in history] == [
        (ExchangeEventKind.SENT, cast.office_secretary),
        (ExchangeEventKind.WITHDRAWN, cast.office_secretary),
        (ExchangeEventKind.RESENT, cast.clerk),
        (ExchangeEventKind.RECEIVED, receiving.second_clerk),
        (ExchangeEventKind.COMPLETED, receiving.secretary),
    ]
    assert history[1].note == "附件错误"
    assert history[-1].note == "已按要求落实。"


def test_distribution_to_500_agencies_writes_every_event_in_a_handful_of_queries(cast: Any) -> None:
    few = make_sealed(cast, number="粤府办〔2026〕60号", cc_recipients=[])
    few.main_recipients.set(many_agencies(5, prefix="F"))
    many = make_sealed(cast, number="粤府办〔2026〕61号", cc_recipients=[])
    many.main_recipients.set(many_agencies(500, prefix="M"))

    with CaptureQueriesContext(connection) as small:
        distribute(few, actor=cast.office_secretary)
    with CaptureQueriesContext(connection) as large:
        distribute(many, actor=cast.office_secretary)

    assert ExchangeEvent.objects.filter(exchange__document=many, kind=ExchangeEventKind.SENT).count() == 500
    # The same statements for 500 as for 5; SQLite alone splits a bulk INSERT into batches of
    # under 1,000 variables (a few more statements), PostgreSQL sends each as one.
    extra = 0 if connection.vendor == "postgresql" else 12
    assert len(large.captured_queries) <= len(small.captured_queries) + extra, [
        q["sql"][:60] for q in large.captured_queries
    ]


# 办结 -------------------------------------------------------------------------------------------


def test_completion_records_time_and_result_for_the_sender(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)

    mark_completed(record, actor=receiving.director, result="已将资金拨付到位。")

    record.refresh_from_db()
    assert record.completed_at is not None
    assert record.result == "已将资金拨付到位。"
    assert tracking_counts(record.document, [receiving.cast.gov_office.pk])["已办结"] == 1


def test_a_result_longer_than_the_receipt_holds_reaches_the_sender_shortened_with_a_mark(
    receiving: Any,
) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)

    mark_completed(record, actor=receiving.director, result="落" * 800)

    record.refresh_from_db()
    assert len(record.result) == 500 and record.result.endswith("…")


def test_completion_needs_a_signed_record_a_result_and_happens_once(receiving: Any) -> None:
    record = receiving.sent_to_finance()

    with pytest.raises(DocumentError, match="待签收，不能办结"):
        mark_completed(record, actor=receiving.director, result="完成")
    receive(record, actor=receiving.clerk)
    with pytest.raises(DocumentError, match="请填写办理结果"):
        mark_completed(record, actor=receiving.director, result=" ")
    mark_completed(record, actor=receiving.director, result="完成")
    with pytest.raises(DocumentError, match="已于.*办结"):
        mark_completed(record, actor=receiving.director, result="再次完成")

    assert _kinds(record).count(ExchangeEventKind.COMPLETED) == 1


def test_only_the_recipient_agency_completes(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)

    with pytest.raises(PermissionDenied):
        mark_completed(record, actor=receiving.cast.office_secretary, result="完成")


# 催办 -------------------------------------------------------------------------------------------


def test_urging_a_pending_recipient_tells_its_clerks_live_and_is_kept(receiving: Any) -> None:
    record = receiving.sent_to_finance()

    urge_recipient(record, actor=receiving.cast.office_secretary, note="今天下班前请签收。")

    notes = Notification.objects.filter(title__startswith="催办")
    assert {n.recipient for n in notes} == {receiving.clerk, receiving.second_clerk}
    assert all(n.urgency == "urgent" and "今天下班前请签收。" in n.body for n in notes)
    assert events_of(record)[-1].kind == ExchangeEventKind.URGED
    assert AuditEvent.objects.filter(action="documents.exchange.urged").count() == 1


def test_a_double_click_urges_once_and_a_later_click_again(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    secretary = receiving.cast.office_secretary
    urge_recipient(record, actor=secretary, note="请签收。")

    with pytest.raises(DocumentError, match="请稍后再试"):
        urge_recipient(record, actor=secretary, note="请签收。")
    ExchangeEvent.objects.filter(kind=ExchangeEventKind.URGED).update(
        at=timezone.now() - timedelta(minutes=5)
    )
    urge_recipient(record, actor=secretary, note="再次提醒。")

    assert _kinds(record).count(ExchangeEventKind.URGED) == 2
    assert Notification.objects.filter(recipient=receiving.clerk, title__startswith="催办").count() == 2


def test_urging_is_refused_once_signed_without_a_note_or_by_the_recipient(receiving: Any) -> None:
    record = receiving.sent_to_finance()

    with pytest.raises(DocumentError, match="请填写催办说明"):
        urge_recipient(record, actor=receiving.cast.office_secretary, note="")
    with pytest.raises(DocumentError, match="催办说明最多 500 个字"):
        urge_recipient(record, actor=receiving.cast.office_secretary, note="催" * 501)
    with pytest.raises(PermissionDenied):
        urge_recipient(record, actor=receiving.clerk, note="自己催自己")
    receive(record, actor=receiving.clerk)
    with pytest.raises(DocumentError, match="已签收，无需催办"):
        urge_recipient(record, actor=receiving.cast.office_secretary, note="请签收")


# 转发 across levels -------------------------------------------------------------------------------


def test_province_to_city_to_county_end_to_end(receiving: Any) -> None:
    cast = receiving.cast
    document = make_sealed(cast, number="粤府办〔2026〕70号", cc_recipients=[], urgency=Urgency.URGENT)
    document.main_recipients.set([cast.finance, receiving.city])
    distribute(document, actor=cast.office_secretary)
    to_city = ExchangeRecord.objects.get(document=document, recipient=receiving.city)

    receive(to_city, actor=receiving.city_clerk)
    sent = forward(to_city, actor=receiving.city_clerk, agencies=[receiving.county])

    (to_county,) = sent
    assert (to_county.sender, to_county.recipient, to_county.sent_by) == (
        receiving.city,
        receiving.county,
        receiving.city_clerk,
    )
    assert [r.pk for r in pending_for(receiving.county_clerk)] == [to_county.pk]
    note = Notification.objects.get(recipient=receiving.county_clerk)
    assert "广州市人民政府转发" in note.body and note.title.startswith("【加急】")
    receive(to_county, actor=receiving.county_clerk)
    # Each sender follows its own recipients.
    assert tracked_senders(receiving.city_clerk, document) == [receiving.city.pk]
    assert tracked_senders(cast.office_secretary, document) == [cast.gov_office.pk]
    city_rows = list(tracking_rows(document, [receiving.city.pk]))
    assert [(r.recipient, r.state) for r in city_rows] == [(receiving.county, ExchangeState.RECEIVED)]
    province_rows = list(tracking_rows(document, [cast.gov_office.pk]))
    assert {r.recipient for r in province_rows} == {cast.finance, receiving.city}
    # The county may return it to the city, which is told.
    assert events_of(to_county)[0].note == "转发"


def test_forwarding_needs_a_signature_and_agencies(receiving: Any) -> None:
    cast = receiving.cast
    document = make_sealed(cast, number="粤府办〔2026〕71号", cc_recipients=[])
    document.main_recipients.set([receiving.city])
    distribute(document, actor=cast.office_secretary)
    record = ExchangeRecord.objects.get(document=document)

    with pytest.raises(DocumentError, match="签收后才能转发"):
        forward(record, actor=receiving.city_clerk, agencies=[receiving.county])
    receive(record, actor=receiving.city_clerk)
    with pytest.raises(DocumentError, match="请选择转发的单位"):
        forward(record, actor=receiving.city_clerk, agencies=[])
    with pytest.raises(PermissionDenied):
        forward(record, actor=receiving.county_clerk, agencies=[receiving.county])

    assert ExchangeRecord.objects.filter(document=document).count() == 1


def test_forwarding_to_an_agency_that_has_it_skips_it_and_says_so(receiving: Any) -> None:
    cast = receiving.cast
    document = make_sealed(cast, number="粤府办〔2026〕72号", cc_recipients=[])
    document.main_recipients.set([receiving.city, receiving.county])
    distribute(document, actor=cast.office_secretary)
    record = ExchangeRecord.objects.get(document=document, recipient=receiving.city)
    receive(record, actor=receiving.city_clerk)

    sent = forward(record, actor=receiving.city_clerk, agencies=[receiving.county, cast.gov_office])

    assert list(sent) == []
    assert "广州市越秀区人民政府" in sent.message and cast.gov_office.name in sent.message
    assert ExchangeRecord.objects.get(document=document, recipient=receiving.county).sender == cast.gov_office


def test_the_city_withdraws_and_forwards_again(receiving: Any) -> None:
    cast = receiving.cast
    document = distributed_to(cast, [receiving.city], number="粤府办〔2026〕73号")
    record = ExchangeRecord.objects.get(document=document)
    receive(record, actor=receiving.city_clerk)
    (to_county,) = forward(record, actor=receiving.city_clerk, agencies=[receiving.county])

    withdraw(to_county, actor=receiving.city_clerk, reason="版本有误")
    (again,) = forward(record, actor=receiving.city_clerk, agencies=[receiving.county])

    assert again.pk == to_county.pk
    assert _kinds(again) == ["sent", "withdrawn", "sent"]
    assert ExchangeRecord.objects.get(pk=again.pk).state == ExchangeState.PENDING


def test_an_administrator_does_not_complete_for_an_agency(receiving: Any) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)

    with pytest.raises(PermissionDenied):
        mark_completed(record, actor=receiving.cast.system_admin, result="完成")
