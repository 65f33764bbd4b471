"""待签收, the sender's distribution status (with Excel export and 撤回), and the archive pages.

Lookups go through documents/access.py (one 404 for missing and forbidden); a visible document
and the wrong role get 403. Every change is one service call in documents/exchange.py.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from documents import access
from documents.archiving import archive_package as build_package
from documents.archiving import archived_in, can_read_archive, package_name, reading_agencies, year_package
from documents.errors import DocumentError
from documents.exchange import can_distribute, clerk_agencies, pending_for, withdraw
from documents.models import ExchangeRecord, ExchangeState, OfficialDocument
from officeapp.access import get_or_404
from officeapp.audit.services import record_view
from officeapp.org.models import Agency

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _may_follow_distribution(user: Any, document: OfficialDocument) -> bool:
    """The sender's side: the issuing agencies' office, or whoever may distribute for it."""
    return access.is_office_of(user, document) or can_distribute(user, document)


@login_required
@require_GET
def pending(request: HttpRequest) -> HttpResponse:
    """待签收: what reached the agencies where the user is a 收发员, newest first."""
    if not clerk_agencies(request.user):
        raise PermissionDenied("只有收发员可以查看待签收公文。")
    page = Paginator(pending_for(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "documents/exchange/pending.html", {"page_obj": page})


def _records_of(document: OfficialDocument) -> list[ExchangeRecord]:
    return list(
        document.exchange_records.select_related("recipient", "sent_by", "received_by").order_by(
            "kind", "recipient__code", "pk"
        )
    )


def _distribution_page(
    request: HttpRequest,
    document: OfficialDocument,
    *,
    error: str = "",
    failed_record: int | None = None,
    reason: str = "",
    status: int = 200,
) -> HttpResponse:
    records = _records_of(document)
    counts = {label: sum(1 for r in records if r.state == value) for value, label in ExchangeState.choices}
    return render(
        request,
        "documents/exchange/distribution.html",
        {
            "document": document,
            "records": records,
            "counts": counts,
            "may_withdraw": can_distribute(request.user, document),
            "error": error,
            "failed_record": failed_record,
            "reason": reason,
        },
        status=status,
    )


@login_required
@require_GET
def distribution(request: HttpRequest, document_id: int) -> HttpResponse:
    """The sender's view of each recipient: 主送/抄送, state, time and person."""
    document = access.get_document_for(request.user, document_id)
    if not _may_follow_distribution(request.user, document):
        raise PermissionDenied("只有发文机关的办公室可以查看分发情况。")
    return _distribution_page(request, document)


def _text_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text: never a formula, whatever an agency name starts with
    return cell


def _local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@login_required
@require_GET
def distribution_export(request: HttpRequest, document_id: int) -> HttpResponse:
    """The distribution status as .xlsx (回执 tracking for the file room), audited."""
    document = access.get_document_for(request.user, document_id)
    if not _may_follow_distribution(request.user, document):
        raise PermissionDenied("只有发文机关的办公室可以导出分发情况。")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("分发情况")
    sheet.append([_text_cell(sheet, f"{document.doc_number} {document.title}".strip())])
    header = ["收文机关", "主送/抄送", "状态", "分发时间", "分发人", "签收时间", "签收人"]
    sheet.append([_text_cell(sheet, h) for h in header])
    for r in _records_of(document):
        row = [
            r.recipient.name,
            r.get_kind_display(),
            r.get_state_display(),
            _local(r.sent_at),
            r.sent_by.real_name or r.sent_by.username,
            _local(r.received_at),
            (r.received_by.real_name or r.received_by.username) if r.received_by else "",
        ]
        sheet.append([_text_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    record_view(request, document, action="documents.distribution.export")
    stamp = timezone.localtime().strftime("%Y%m%d")
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        True, f"{package_name(document)}-分发情况-{stamp}.xlsx"
    )
    return response


@login_required
@require_POST
def withdraw_record(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """撤回 one recipient's copy that nobody has signed for yet; the reason is required."""
    exchange = get_or_404(
        ExchangeRecord.objects.filter(document__in=access.visible_documents(request.user)).select_related(
            "document", "recipient"
        ),
        pk=exchange_id,
    )
    document = exchange.document
    if not can_distribute(request.user, document):
        raise PermissionDenied("只有发文机关的文秘或收发员可以撤回分发。")
    reason = request.POST.get("reason", "")
    try:
        withdraw(exchange, actor=request.user, reason=reason)
    except DocumentError as refused:
        return _distribution_page(
            request, document, error=refused.message, failed_record=exchange.pk, reason=reason
        )
    messages.success(request, f"已撤回发给{exchange.recipient.name}的公文。")
    return redirect("documents:distribution", document_id=document.pk)


def _year_of(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 1949 <= year <= 2999 else timezone.localdate().year


@login_required
@require_GET
def archive_list(request: HttpRequest) -> HttpResponse:
    """The archive of an agency by year (归档年度), for its 档案员 and office."""
    agencies = list(Agency.objects.filter(pk__in=reading_agencies(request.user)).order_by("code"))
    if not agencies:
        raise PermissionDenied("只有档案员和办公室可以查看档案。")
    chosen = next((a for a in agencies if str(a.pk) == request.GET.get("agency")), agencies[0])
    year = _year_of(request)
    page = Paginator(archived_in(chosen, year), 30).get_page(request.GET.get("page"))
    this_year = timezone.localdate().year
    return render(
        request,
        "documents/exchange/archive.html",
        {
            "agencies": agencies,
            "agency": chosen,
            "year": year,
            "years": list(range(this_year, this_year - 10, -1)),
            "page_obj": page,
        },
    )


@login_required
@require_GET
def archive_year(request: HttpRequest, agency_id: int, year: int) -> HttpResponse:
    """Every archived document of the agency and year as one zip, streamed from a temporary file."""
    agency = get_or_404(Agency.objects.all(), pk=agency_id)
    if not can_read_archive(request.user, agency.pk):
        raise PermissionDenied("只有该机关的档案员和办公室可以导出年度档案。")
    chunks = year_package(agency, year)
    record_view(request, agency, action="documents.archive.year_download", details={"year": year})
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{agency.short_name or agency.name}-{year}年度档案.zip"
    )
    return response


@login_required
@require_GET
def archive_package(request: HttpRequest, document_id: int) -> HttpResponse:
    """One archived document's package (zip), audited."""
    document = access.get_document_for(request.user, document_id)
    if not can_read_archive(request.user, document.agency_id):
        raise PermissionDenied("只有发文机关的档案员和办公室可以导出归档包。")
    if not document.is_archived:
        messages.info(request, "该公文尚未归档，归档后才能导出归档包。")
        return redirect("documents:detail", document_id=document.pk)
    content = build_package(document)
    record_view(request, document, action="documents.archive.package_download")
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, f"{package_name(document)}.zip")
    return response


def exchange_panel(request: HttpRequest, document: OfficialDocument) -> str:
    """The document page's 分发 panel (documents.panels): the sender's office sees the count per
    state and a link to the status list; a recipient's 收发员 sees his agency's copy; an archive
    reader of an archived document gets its package. "" when there is nothing to show."""
    user = request.user
    records = _records_of(document) if document.exchange_records.exists() else []
    sender_view = bool(records) and _may_follow_distribution(user, document)
    mine = [r for r in records if r.recipient_id in clerk_agencies(user)] if records else []
    package = document.is_archived and can_read_archive(user, document.agency_id)
    if not (sender_view or mine or package):
        return ""
    counts = {label: sum(1 for r in records if r.state == value) for value, label in ExchangeState.choices}
    return render_to_string(
        "documents/exchange/_panel.html",
        {
            "document": document,
            "sender_view": sender_view,
            "counts": counts,
            "mine": mine,
            "package": package,
        },
        request=request,
    )


urlpatterns: list[URLPattern] = [
    path("pending/", pending, name="pending"),
    path("<int:document_id>/distribution/", distribution, name="distribution"),
    path("<int:document_id>/distribution.xlsx", distribution_export, name="distribution_export"),
    path("exchange/<int:exchange_id>/withdraw/", withdraw_record, name="exchange_withdraw"),
    path("archive/", archive_list, name="archive"),
    path("archive/<int:agency_id>/<int:year>.zip", archive_year, name="archive_year"),
    path("<int:document_id>/archive.zip", archive_package, name="archive_package"),
]
