"""签收 and 退文 from the 待签收 list, the sender's tracking page (回执: counts, filters, history,
催办, Excel, the live refresh), 转发 and the 退文通知单, as people use them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from documents.exchange import mark_completed, receive, return_document, urge_recipient
from documents.models import ExchangeRecord, ExchangeState, IncomingRecord, ReturnReason, Urgency
from documents.signals import exchange_received
from officeapp.notify.models import Notification
from officeapp.notify.relay import user_group
from tests.documents.exchange_factories import distributed_to, many_agencies, receiving_cast
from tests.documents.factories import make_document


@pytest.fixture
def receiving(cast: Any) -> Any:
    return receiving_cast(cast)


@pytest.fixture
def signal_receivers() -> Iterator[None]:
    """Nothing connected to `exchange_received` but what the test connects: the 收文 side
    (workflows) starts a 收文 there, and these tests decide whether one was made."""
    with mock.patch.object(exchange_received, "receivers", []):
        yield


def _url(name: str, record: ExchangeRecord) -> str:
    return reverse(f"documents:{name}", kwargs={"exchange_id": record.pk})


def _tracking(document: Any) -> str:
    return reverse("documents:distribution", kwargs={"document_id": document.pk})


# --- the recipient: 待签收 -------------------------------------------------------------------------


def test_the_pending_list_offers_signing_and_returning_with_the_reason_list(
    receiving: Any, sign_in: Any
) -> None:
    record = receiving.sent_to_finance(urgency=Urgency.EXTRA_URGENT)

    text = sign_in(receiving.clerk).get(reverse("documents:pending")).content.decode()

    assert _url("exchange_receive", record) in text and "签收" in text
    assert _url("exchange_return", record) in text
    for _, label in ReturnReason.choices:
        assert label in text
    assert "<mark>特急</mark>" in text and "省府办公厅" in text


def test_a_clerks_delegate_has_the_pending_list_and_signs_from_it_until_the_delegation_ends(
    receiving: Any, sign_in: Any, signal_receivers: None
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from officeapp.org.models import Delegation, DelegationScope

    record = receiving.sent_to_finance()
    now = timezone.now()
    delegation = Delegation.objects.create(
        from_user=receiving.clerk,
        to_user=receiving.budget_staff,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        scope=DelegationScope.INCOMING,
        reason="休假",
    )
    client = sign_in(receiving.budget_staff)

    listed = client.get(reverse("documents:pending")).content.decode()
    signed = client.post(_url("exchange_receive", record))

    assert record.document.title in listed and _url("exchange_receive", record) in listed
    assert signed.status_code == 302
    record.refresh_from_db()
    assert record.received_by == receiving.budget_staff
    delegation.revoked_at = timezone.now()
    delegation.save(update_fields=["revoked_at"])
    assert sign_in(receiving.budget_staff).get(reverse("documents:pending")).status_code == 403


def test_a_delegation_for_outgoing_work_only_gives_no_pending_list(receiving: Any, sign_in: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from officeapp.org.models import Delegation, DelegationScope

    receiving.sent_to_finance()
    now = timezone.now()
    Delegation.objects.create(
        from_user=receiving.clerk,
        to_user=receiving.budget_staff,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        scope=DelegationScope.OUTGOING,
    )

    assert sign_in(receiving.budget_staff).get(reverse("documents:pending")).status_code == 403


def test_signing_from_the_list_goes_back_to_it_with_a_message_and_a_recent_entry(
    receiving: Any, sign_in: Any, signal_receivers: None
) -> None:
    record = receiving.sent_to_finance()
    client = sign_in(receiving.clerk)

    response = client.post(_url("exchange_receive", record), follow=True)

    text = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("documents:pending")
    assert f"已签收《{record.document.title}》" in text
    assert "暂无待签收公文" in text
    recent = text.split("最近签收与退文", 1)[1]
    assert record.document.title in recent and "已签收" in recent and "李国华" in recent


def test_signing_in_the_product_opens_the_new_incoming_record_with_its_registration_task(
    receiving: Any, sign_in: Any
) -> None:
    # The real wiring: workflows starts the 收文 process inside the 签收.
    record = receiving.sent_to_finance()

    response = sign_in(receiving.clerk).post(_url("exchange_receive", record), follow=True)

    incoming = IncomingRecord.objects.get(exchange=record).document
    assert response.redirect_chain[-1][0] == reverse("documents:detail", kwargs={"document_id": incoming.pk})
    assert incoming.get_state_display() in response.content.decode()
    assert "/workflows/incoming/tasks/" in response.content.decode()


def test_signing_goes_on_to_the_incoming_document_when_one_was_made(
    receiving: Any, sign_in: Any, signal_receivers: None
) -> None:
    record = receiving.sent_to_finance()
    incoming = make_document(receiving.cast, title="收文")

    def made_incoming(record: ExchangeRecord, **kwargs: Any) -> None:
        IncomingRecord.objects.create(
            document=incoming,
            agency=record.recipient,
            exchange=record,
            source_name="省府办公厅",
            received_on="2026-12-07",
        )

    exchange_received.connect(made_incoming, dispatch_uid="test-incoming")
    try:
        response = sign_in(receiving.clerk).post(_url("exchange_receive", record))
    finally:
        exchange_received.disconnect(dispatch_uid="test-incoming")

    assert response.status_code == 302
    assert response["Location"] == reverse("documents:detail", kwargs={"document_id": incoming.pk})


def test_the_second_clerk_sees_the_list_again_with_who_signed(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()
    receive(record, actor=receiving.clerk)

    response = sign_in(receiving.second_clerk).post(_url("exchange_receive", record))

    assert response.status_code == 200
    assert "该公文已由李国华于" in response.content.decode()


def test_signing_a_withdrawn_record_says_why(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()
    client = sign_in(receiving.cast.office_secretary)
    client.post(_url("exchange_withdraw", record), {"reason": "发错了"})

    response = sign_in(receiving.clerk).post(_url("exchange_receive", record))

    assert response.status_code == 200
    assert "发文机关已撤回该公文，不能签收。" in response.content.decode()


def test_signing_by_someone_who_sees_the_document_but_is_no_recipient_clerk_is_403(
    receiving: Any, sign_in: Any
) -> None:
    record = receiving.sent_to_finance()

    assert sign_in(receiving.cast.office_secretary).post(_url("exchange_receive", record)).status_code == 403
    assert sign_in(receiving.secretary).post(_url("exchange_receive", record)).status_code == 404
    assert sign_in(receiving.city_clerk).post(_url("exchange_receive", record)).status_code == 404
    assert ExchangeRecord.objects.get(pk=record.pk).state == ExchangeState.PENDING


def test_a_return_without_a_note_reopens_the_form_as_typed(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()

    response = sign_in(receiving.clerk).post(
        _url("exchange_return", record), {"reason": ReturnReason.DUPLICATE, "note": " "}
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "请填写退文说明。" in text
    assert f'value="{ReturnReason.DUPLICATE}" selected' in text
    assert ExchangeRecord.objects.get(pk=record.pk).state == ExchangeState.PENDING


def test_a_return_from_the_list_shows_on_the_senders_page_with_its_reason(
    receiving: Any, sign_in: Any
) -> None:
    record = receiving.sent_to_finance()
    response = sign_in(receiving.clerk).post(
        _url("exchange_return", record),
        {"reason": ReturnReason.NOT_OURS, "note": "属省发改委职责。"},
        follow=True,
    )
    assert "已退回" in response.content.decode()

    text = sign_in(receiving.cast.office_secretary).get(_tracking(record.document)).content.decode()

    row = text.split(f'id="exchange-{record.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "已退文" in row and "不属于本机关职责范围" in row and "属省发改委职责。" in row
    assert "李国华" in row and _url("exchange_return_notice", record) in row


# --- the 退文通知单 --------------------------------------------------------------------------------


def _returned(receiving: Any) -> ExchangeRecord:
    record = receiving.sent_to_finance()
    return return_document(
        record, actor=receiving.clerk, reason=ReturnReason.WRONG_FORMAT, note="文种使用不当。"
    )


def test_the_return_notice_names_sender_document_number_reason_note_who_and_when(
    receiving: Any, sign_in: Any
) -> None:
    record = _returned(receiving)

    for user in (receiving.cast.office_secretary, receiving.clerk):
        text = sign_in(user).get(_url("exchange_return_notice", record)).content.decode()
        for expected in (
            "退文通知单",
            "广东省人民政府办公厅",
            record.document.title,
            "粤府办〔2026〕1号",
            "文种使用或公文格式不规范",
            "文种使用不当。",
            "李国华",
            "广东省财政厅",
        ):
            assert expected in text


def test_the_return_notice_downloads_as_word(receiving: Any, sign_in: Any) -> None:
    record = _returned(receiving)

    response = sign_in(receiving.cast.office_director).get(_url("exchange_return_notice_docx", record))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    docx = Document(io.BytesIO(response.content))
    text = "\n".join(
        [p.text for p in docx.paragraphs] + [c.text for t in docx.tables for row in t.rows for c in row.cells]
    )
    assert "退文通知单" in text and "粤府办〔2026〕1号" in text and "文种使用不当。" in text


def test_no_return_notice_for_a_record_not_returned_nor_for_strangers(receiving: Any, sign_in: Any) -> None:
    pending = receiving.sent_to_finance(number="粤府办〔2026〕9号")
    returned = _returned(receiving)

    assert sign_in(receiving.clerk).get(_url("exchange_return_notice", pending)).status_code == 404
    assert sign_in(receiving.city_clerk).get(_url("exchange_return_notice", returned)).status_code == 404
    assert sign_in(receiving.cast.drafter).get(_url("exchange_return_notice", returned)).status_code == 404


# --- the sender: tracking ------------------------------------------------------------------------


def _three_states(receiving: Any) -> tuple[Any, ExchangeRecord, ExchangeRecord, ExchangeRecord]:
    cast = receiving.cast
    document = distributed_to(cast, [cast.finance, receiving.city, receiving.county])
    to = {r.recipient_id: r for r in ExchangeRecord.objects.filter(document=document)}
    finance, city, county = to[cast.finance.pk], to[receiving.city.pk], to[receiving.county.pk]
    receive(finance, actor=receiving.clerk)
    mark_completed(finance, actor=receiving.director, result="已落实到位。")
    return_document(city, actor=receiving.city_clerk, reason=ReturnReason.NOT_OURS, note="请发区县。")
    return document, finance, city, county


def test_the_tracking_page_counts_states_and_shows_who_when_and_completion(
    receiving: Any, sign_in: Any
) -> None:
    document, finance, city, county = _three_states(receiving)

    text = sign_in(receiving.cast.office_secretary).get(_tracking(document)).content.decode()

    assert '<span data-count="pending">1</span>' in text
    assert '<span data-count="received">1</span>' in text
    assert '<span data-count="returned">1</span>' in text
    assert '<span data-count="completed">1</span>' in text
    finance_row = text.split(f'id="exchange-{finance.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "已签收" in finance_row and "李国华（签收）" in finance_row
    assert "已办结" in finance_row and "已落实到位。" in finance_row
    assert "签收 · 李国华" in finance_row  # the record's history
    county_row = text.split(f'id="exchange-{county.pk}"', 1)[1].split("</tr>", 1)[0]
    assert _url("exchange_urge", county) in county_row
    assert _url("exchange_urge", finance) not in text


def test_the_tracking_page_filters_by_state(receiving: Any, sign_in: Any) -> None:
    document, finance, city, county = _three_states(receiving)

    text = (
        sign_in(receiving.cast.office_director).get(_tracking(document) + "?state=returned").content.decode()
    )

    assert f'id="exchange-{city.pk}"' in text
    assert f'id="exchange-{finance.pk}"' not in text and f'id="exchange-{county.pk}"' not in text


def test_the_live_refresh_gets_the_table_alone(receiving: Any, sign_in: Any) -> None:
    document, *_ = _three_states(receiving)

    response = sign_in(receiving.cast.office_secretary).get(_tracking(document), HTTP_HX_REQUEST="true")

    text = response.content.decode()
    assert text.lstrip().startswith('<div id="exchange-tracking"')
    assert "<html" not in text
    assert f'data-document-id="{document.pk}"' in text and 'hx-trigger="exchange-changed"' in text


def test_the_tracking_page_loads_the_live_script(receiving: Any, sign_in: Any) -> None:
    document, *_ = _three_states(receiving)

    text = sign_in(receiving.cast.office_secretary).get(_tracking(document)).content.decode()

    assert "documents/exchange" in text and ".js" in text


def test_a_return_pushes_a_frame_to_the_senders_page_after_commit(
    receiving: Any, sign_in: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record = receiving.sent_to_finance()
    client = sign_in(receiving.clerk)

    with (
        mock.patch("documents.exchange.send_to_groups") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(_url("exchange_return", record), {"reason": ReturnReason.OTHER, "note": "无法办理。"})

    frames = [f for call in send.call_args_list for f in call.args[0]]
    assert (
        user_group(receiving.cast.office_secretary.pk),
        {
            "type": "push",
            "frame": {
                "type": "exchange.changed",
                "document_id": record.document_id,
                "exchange_id": record.pk,
                "state": "returned",
            },
        },
    ) in frames


def test_urging_from_the_tracking_page_notifies_the_recipients_clerks(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()

    response = sign_in(receiving.cast.clerk).post(
        _url("exchange_urge", record), {"note": "请尽快签收。"}, follow=True
    )

    assert "已催办广东省财政厅。" in response.content.decode()
    assert (
        Notification.objects.filter(recipient=receiving.second_clerk, title__startswith="催办").count() == 1
    )


def test_urging_without_a_note_shows_the_page_again_with_a_message(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()

    response = sign_in(receiving.cast.office_secretary).post(_url("exchange_urge", record), {"note": ""})

    assert response.status_code == 200
    assert "请填写催办说明。" in response.content.decode()
    assert not Notification.objects.filter(title__startswith="催办").exists()


def test_the_recipient_may_not_urge_itself(receiving: Any, sign_in: Any) -> None:
    record = receiving.sent_to_finance()

    assert sign_in(receiving.clerk).post(_url("exchange_urge", record), {"note": "催"}).status_code == 403


def test_the_export_has_return_and_completion_columns(receiving: Any, sign_in: Any) -> None:
    document, finance, city, county = _three_states(receiving)
    urge_recipient(county, actor=receiving.cast.office_secretary, note="请签收")

    response = sign_in(receiving.cast.office_secretary).get(
        reverse("documents:distribution_export", kwargs={"document_id": document.pk})
    )

    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header = rows[1]
    assert header == (
        "收文机关",
        "主送/抄送",
        "状态",
        "分发时间",
        "分发人",
        "签收时间",
        "签收人",
        "退文时间",
        "退文人",
        "退文理由",
        "退文说明",
        "办结时间",
        "办理结果",
        "催办次数",
    )
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows[2:]}
    assert by_name["广东省财政厅"]["签收人"] == "李国华"
    assert by_name["广东省财政厅"]["办理结果"] == "已落实到位。"
    assert by_name["广东省财政厅"]["办结时间"]
    assert by_name["广州市人民政府"]["退文理由"] == "不属于本机关职责范围"
    assert by_name["广州市人民政府"]["退文说明"] == "请发区县。"
    assert by_name["广州市人民政府"]["退文人"] == "广州收发"
    assert by_name["广州市越秀区人民政府"]["催办次数"] == "1"


def test_the_tracking_page_costs_the_same_queries_for_5_and_500_recipients(
    receiving: Any, sign_in: Any
) -> None:
    cast = receiving.cast
    small = distributed_to(cast, many_agencies(5, prefix="S"), number="粤府办〔2026〕80号")
    large = distributed_to(cast, many_agencies(500, prefix="L"), number="粤府办〔2026〕81号")
    client = sign_in(cast.office_secretary)
    client.get(_tracking(small))  # session and grants warmed up alike for both

    with CaptureQueriesContext(connection) as few:
        assert client.get(_tracking(small)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        response = client.get(_tracking(large))

    assert len(many.captured_queries) == len(few.captured_queries)
    text = response.content.decode()
    assert '<span data-count="pending">500</span>' in text
    assert text.count('data-state="pending"') == 100  # one page of 100, with a pager
    assert "?page=2" in text or "page=2" in text


# --- 转发 ------------------------------------------------------------------------------------------


def test_a_city_forwards_to_its_county_and_follows_it_on_its_own_page(receiving: Any, sign_in: Any) -> None:
    cast = receiving.cast
    document = distributed_to(cast, [cast.finance, receiving.city])
    to_city = ExchangeRecord.objects.get(document=document, recipient=receiving.city)
    receive(to_city, actor=receiving.city_clerk)
    client = sign_in(receiving.city_clerk)

    form = client.get(_url("exchange_forward", to_city)).content.decode()
    assert "广州市越秀区人民政府" in form
    response = client.post(
        _url("exchange_forward", to_city), {"agencies": [receiving.county.pk]}, follow=True
    )

    text = response.content.decode()
    assert response.redirect_chain[-1][0] == _tracking(document)
    assert "已转发给广州市越秀区人民政府" in text
    assert "广州市越秀区人民政府" in text and "广东省财政厅" not in text.split("<table", 1)[1]
    county_list = sign_in(receiving.county_clerk).get(reverse("documents:pending")).content.decode()
    assert document.title in county_list and "广州市政府" in county_list
    province = sign_in(cast.office_secretary).get(_tracking(document)).content.decode()
    assert "广州市越秀区人民政府" not in province.split("<table", 1)[1]


def test_the_forward_page_finds_lower_agencies_by_name_and_still_forwards_what_was_ticked(
    receiving: Any, sign_in: Any
) -> None:
    from officeapp.org import services as org
    from officeapp.org.models import AgencyLevel

    cast = receiving.cast
    tianhe = org.create_agency(
        actor=None,
        name="广州市天河区人民政府",
        short_name="天河区政府",
        level=AgencyLevel.COUNTY,
        code="GZ-TH",
        parent=receiving.city,
    )
    document = distributed_to(cast, [receiving.city])
    to_city = ExchangeRecord.objects.get(document=document, recipient=receiving.city)
    receive(to_city, actor=receiving.city_clerk)
    client = sign_in(receiving.city_clerk)

    found = client.get(_url("exchange_forward", to_city), {"q": "天河"}).content.decode()
    nothing = client.get(_url("exchange_forward", to_city), {"q": "海珠"}).content.decode()
    response = client.post(_url("exchange_forward", to_city) + "?q=天河", {"agencies": [tianhe.pk]})

    assert "广州市天河区人民政府" in found and "广州市越秀区人民政府" not in found
    assert "没有名称包含“海珠”的下级机关。" in nothing
    assert response.status_code == 302
    assert ExchangeRecord.objects.filter(document=document, recipient=tianhe).exists()


def test_forwarding_before_signing_is_refused_on_the_form(receiving: Any, sign_in: Any) -> None:
    cast = receiving.cast
    document = distributed_to(cast, [receiving.city])
    to_city = ExchangeRecord.objects.get(document=document)

    response = sign_in(receiving.city_clerk).post(
        _url("exchange_forward", to_city), {"agencies": [receiving.county.pk]}
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "签收后才能转发该公文。" in text and "checked" in text
    assert ExchangeRecord.objects.filter(document=document).count() == 1


def test_the_document_panel_offers_forwarding_once_signed(receiving: Any, sign_in: Any) -> None:
    cast = receiving.cast
    document = distributed_to(cast, [receiving.city])
    to_city = ExchangeRecord.objects.get(document=document)
    client = sign_in(receiving.city_clerk)
    detail = reverse("documents:detail", kwargs={"document_id": document.pk})

    assert _url("exchange_forward", to_city) not in client.get(detail).content.decode()
    receive(to_city, actor=receiving.city_clerk)
    assert _url("exchange_forward", to_city) in client.get(detail).content.decode()


def test_signing_opens_the_incoming_document_the_receiving_side_made(receiving: Any, sign_in: Any) -> None:
    """With workflows connected as shipped: 签收 starts the 收文 and the clerk lands on it."""
    record = receiving.sent_to_finance()

    response = sign_in(receiving.clerk).post(_url("exchange_receive", record))

    made = ExchangeRecord.objects.values_list("incoming_record__document_id", flat=True).get(pk=record.pk)
    assert made is not None, "workflows made no 收文 at 签收"
    assert response["Location"] == reverse("documents:detail", kwargs={"document_id": made})
