"""The 待签收, 分发情况 and 档案 pages as people use them."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.urls import reverse
from openpyxl import load_workbook

from documents.archiving import archive
from documents.exchange import distribute, receiving_agencies
from documents.models import DocumentState, ExchangeRecord, ExchangeState, Retention, Urgency
from documents.tiles import pending_loader
from officeapp.access import grants_of
from officeapp.audit.models import AuditEvent
from officeapp.org.models import Role
from tests.documents.exchange_factories import grant, make_sealed


def distributed(cast: Any, **fields: Any) -> Any:
    document = make_sealed(cast, **fields)
    distribute(document, actor=cast.office_secretary)
    return document


def archived(cast: Any, **fields: Any) -> Any:
    document = distributed(cast, **fields)
    document.state = DocumentState.ARCHIVE
    document.save()
    archive(document, actor=cast.office_secretary, retention=Retention.PERMANENT)
    return document


# --- 待签收 ---------------------------------------------------------------------------------------


def test_a_recipient_clerk_sees_the_document_in_her_pending_list(cast: Any, sign_in: Any) -> None:
    document = distributed(cast, urgency=Urgency.URGENT)

    page = sign_in(cast.other_clerk).get(reverse("documents:pending"))

    text = page.content.decode()
    assert page.status_code == 200
    assert "粤府办〔2026〕1号" in text and document.title in text
    assert "省府办公厅" in text and "加急" in text and "主送" in text
    assert reverse("documents:detail", kwargs={"document_id": document.pk}) in text


def test_a_withdrawn_document_leaves_the_pending_list(cast: Any, sign_in: Any) -> None:
    document = distributed(cast)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)
    sign_in(cast.office_secretary).post(
        reverse("documents:exchange_withdraw", kwargs={"exchange_id": record.pk}), {"reason": "发错单位"}
    )

    page = sign_in(cast.other_clerk).get(reverse("documents:pending"))

    assert document.title not in page.content.decode()
    assert "暂无待签收公文" in page.content.decode()


def test_someone_who_is_not_a_clerk_gets_403_for_the_pending_list(cast: Any, sign_in: Any) -> None:
    assert sign_in(cast.drafter).get(reverse("documents:pending")).status_code == 403


def test_the_pending_tile_counts_and_lists_for_clerks(cast: Any) -> None:
    document = distributed(cast, urgency=Urgency.EXTRA_URGENT)

    count, items = pending_loader(cast.other_clerk, 5)

    assert count == 1
    assert items[0].title == f"粤府办〔2026〕1号 {document.title}"
    assert items[0].url == f"/documents/{document.pk}/"
    assert "特急" in items[0].meta


def test_the_pending_tile_costs_no_query_for_someone_who_is_not_a_clerk(
    cast: Any, django_assert_num_queries: Any
) -> None:
    distributed(cast)
    grants_of(cast.drafter)  # loaded once per request for every page anyway
    receiving_agencies(cast.drafter)  # so is this (the 待签收 nav entry asks it on every page)

    with django_assert_num_queries(0):
        assert pending_loader(cast.drafter, 5) == (0, [])


def test_whose_pending_list_one_works_is_one_query_per_request(
    cast: Any, django_assert_num_queries: Any
) -> None:
    grants_of(cast.drafter)

    with django_assert_num_queries(1):
        assert receiving_agencies(cast.drafter) == []
        assert receiving_agencies(cast.drafter) == []  # cached on the user for the request


def test_the_pending_tile_costs_one_query_for_a_clerk(cast: Any, django_assert_num_queries: Any) -> None:
    for n in range(3):
        distributed(cast, number=f"粤府办〔2026〕{n + 1}号")
    grants_of(cast.other_clerk)  # loaded once per request for every page anyway
    receiving_agencies(cast.other_clerk)  # so is this (the 待签收 nav entry asks it on every page)

    with django_assert_num_queries(1):
        count, items = pending_loader(cast.other_clerk, 2)
    assert count == 3 and len(items) == 2


# --- 分发情况 -------------------------------------------------------------------------------------


def test_the_sender_sees_each_recipient_with_kind_state_time_and_person(cast: Any, sign_in: Any) -> None:
    document = distributed(cast)

    page = sign_in(cast.office_secretary).get(
        reverse("documents:distribution", kwargs={"document_id": document.pk})
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert "广东省财政厅" in text and "广东省教育厅" in text
    assert "主送" in text and "抄送" in text and "待签收" in text
    assert "黄丽华（分发）" in text


def test_the_drafter_gets_403_and_an_outsider_404_for_the_distribution_page(cast: Any, sign_in: Any) -> None:
    document = distributed(cast)
    url = reverse("documents:distribution", kwargs={"document_id": document.pk})

    assert sign_in(cast.drafter).get(url).status_code == 403
    assert sign_in(cast.outsider).get(url).status_code == 404


def test_the_distribution_status_exports_to_excel(cast: Any, sign_in: Any) -> None:
    document = distributed(cast)

    response = sign_in(cast.office_director).get(
        reverse("documents:distribution_export", kwargs={"document_id": document.pk})
    )

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("收文机关", "主送/抄送", "状态")
    assert {r[:3] for r in rows[2:]} == {
        ("广东省财政厅", "主送", "待签收"),
        ("广东省教育厅", "抄送", "待签收"),
    }
    assert AuditEvent.objects.filter(
        action="documents.distribution.export", actor=cast.office_director, object_id=str(document.pk)
    ).exists()


def test_withdrawing_from_the_status_page_marks_the_recipient_withdrawn(cast: Any, sign_in: Any) -> None:
    document = distributed(cast)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.education)

    response = sign_in(cast.office_secretary).post(
        reverse("documents:exchange_withdraw", kwargs={"exchange_id": record.pk}), {"reason": "抄送有误"}
    )

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == ExchangeState.WITHDRAWN
    page = sign_in(cast.office_secretary).get(response.url)
    assert "已撤回发给广东省教育厅的公文" in page.content.decode()


def test_a_withdrawal_of_a_received_copy_is_refused_with_the_current_state_shown(
    cast: Any, sign_in: Any
) -> None:
    document = distributed(cast)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)
    ExchangeRecord.objects.filter(pk=record.pk).update(state=ExchangeState.RECEIVED)

    response = sign_in(cast.office_secretary).post(
        reverse("documents:exchange_withdraw", kwargs={"exchange_id": record.pk}),
        {"reason": "文号错误需重发"},
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "广东省财政厅的公文已签收，不能撤回。" in text
    assert "已签收" in text


def test_a_withdrawal_without_a_reason_reopens_the_form_with_a_message(cast: Any, sign_in: Any) -> None:
    document = distributed(cast)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)

    response = sign_in(cast.office_secretary).post(
        reverse("documents:exchange_withdraw", kwargs={"exchange_id": record.pk}), {"reason": "   "}
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "请填写撤回原因。" in text
    assert "<details open>" in text
    record.refresh_from_db()
    assert record.state == ExchangeState.PENDING


def test_the_recipient_clerk_may_not_withdraw(cast: Any, sign_in: Any) -> None:
    document = distributed(cast)
    record = ExchangeRecord.objects.get(document=document, recipient=cast.finance)

    response = sign_in(cast.other_clerk).post(
        reverse("documents:exchange_withdraw", kwargs={"exchange_id": record.pk}), {"reason": "不想要"}
    )

    assert response.status_code == 403
    record.refresh_from_db()
    assert record.state == ExchangeState.PENDING


# --- 档案 -----------------------------------------------------------------------------------------


def test_the_archive_lists_the_years_documents_with_their_retention(cast: Any, sign_in: Any) -> None:
    document = archived(cast)
    distributed(cast, number="粤府办〔2026〕2号", title="尚未归档的通知")
    year = document.issued_on.year

    page = sign_in(cast.office_secretary).get(reverse("documents:archive"), {"year": year})

    text = page.content.decode()
    assert page.status_code == 200
    assert document.title in text and "永久" in text
    assert "尚未归档的通知" not in text
    assert reverse("documents:archive_year", kwargs={"agency_id": cast.gov_office.pk, "year": year}) in text


def test_the_archive_of_another_year_is_empty(cast: Any, sign_in: Any) -> None:
    document = archived(cast)

    page = sign_in(cast.office_secretary).get(
        reverse("documents:archive"), {"year": document.issued_on.year - 1}
    )

    assert document.title not in page.content.decode()
    assert "该年度暂无归档公文" in page.content.decode()


def test_an_archivist_sees_the_archive_and_a_drafter_gets_403(cast: Any, sign_in: Any) -> None:
    document = archived(cast)
    archivist = grant(cast.outsider, Role.ARCHIVIST, cast.gov_office)

    assert document.title in sign_in(archivist).get(reverse("documents:archive")).content.decode()
    assert sign_in(cast.drafter).get(reverse("documents:archive")).status_code == 403


def test_the_document_package_downloads_as_a_zip_and_is_audited(cast: Any, sign_in: Any) -> None:
    document = archived(cast)

    response = sign_in(cast.office_secretary).get(
        reverse("documents:archive_package", kwargs={"document_id": document.pk})
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert "metadata.json" in zf.namelist()
    assert AuditEvent.objects.filter(
        action="documents.archive.package_download", object_id=str(document.pk)
    ).exists()


def test_the_package_of_a_document_not_yet_archived_says_so(cast: Any, sign_in: Any) -> None:
    document = distributed(cast)
    client = sign_in(cast.office_secretary)

    response = client.get(reverse("documents:archive_package", kwargs={"document_id": document.pk}))

    assert response.status_code == 302
    assert "尚未归档" in client.get(response.url).content.decode()


def test_the_package_gives_the_drafter_403_and_an_outsider_404(cast: Any, sign_in: Any) -> None:
    document = archived(cast)
    url = reverse("documents:archive_package", kwargs={"document_id": document.pk})

    assert sign_in(cast.drafter).get(url).status_code == 403
    assert sign_in(cast.outsider).get(url).status_code == 404


def test_the_year_package_streams_a_zip_and_is_audited(cast: Any, sign_in: Any) -> None:
    document = archived(cast)
    url = reverse(
        "documents:archive_year", kwargs={"agency_id": cast.gov_office.pk, "year": document.issued_on.year}
    )

    response = sign_in(cast.office_director).get(url)

    assert response.status_code == 200
    assert response.streaming
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
        assert f"{document.doc_number} {document.title}/metadata.json" in zf.namelist()
    assert AuditEvent.objects.filter(
        action="documents.archive.year_download", actor=cast.office_director
    ).exists()


def test_the_year_package_of_another_agency_is_refused(cast: Any, sign_in: Any) -> None:
    url = reverse("documents:archive_year", kwargs={"agency_id": cast.finance.pk, "year": 2026})

    assert sign_in(cast.office_secretary).get(url).status_code == 403


def test_the_year_package_of_a_missing_agency_is_404(cast: Any, sign_in: Any) -> None:
    url = reverse("documents:archive_year", kwargs={"agency_id": 999999, "year": 2026})

    assert sign_in(cast.office_secretary).get(url).status_code == 404


def test_the_year_package_of_a_year_no_date_can_hold_is_404(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.office_director)

    for year in (0, 99999):
        url = reverse("documents:archive_year", kwargs={"agency_id": cast.gov_office.pk, "year": year})
        assert client.get(url).status_code == 404


# --- the document page's 分发 panel ----------------------------------------------------------------


def _panel_for(user: Any, document: Any) -> str:
    from django.test import RequestFactory

    from documents.views.exchange import exchange_panel

    request = RequestFactory().get("/")
    request.user = user
    return exchange_panel(request, document)


def test_the_panel_shows_the_sender_the_counts_and_the_status_link(cast: Any) -> None:
    document = distributed(cast)

    html = _panel_for(cast.office_secretary, document)

    assert "待签收 2 家" in html
    assert reverse("documents:distribution", kwargs={"document_id": document.pk}) in html


def test_the_panel_shows_a_recipient_clerk_only_his_agencys_copy(cast: Any) -> None:
    document = distributed(cast)

    html = _panel_for(cast.other_clerk, document)

    assert "本单位（广东省财政厅，主送）：待签收" in html
    assert "查看分发情况" not in html


def test_the_panel_offers_the_archive_package_once_archived(cast: Any) -> None:
    document = archived(cast)

    html = _panel_for(cast.office_director, document)

    assert "保管期限：永久" in html
    assert reverse("documents:archive_package", kwargs={"document_id": document.pk}) in html


def test_the_panel_is_empty_before_distribution(cast: Any) -> None:
    document = make_sealed(cast)

    assert _panel_for(cast.office_secretary, document) == ""
