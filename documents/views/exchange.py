"""待签收 (with 签收 and 退文), the sender's tracking page (回执: Excel export, 撤回, 催办, live
refresh), 转发, the 退文通知单, and the archive pages.

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
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from documents import access
from documents.archiving import archive_package as build_package
from documents.archiving import archived_in, can_read_archive, package_name, reading_agencies, year_package
from documents.errors import DocumentError
from documents.exchange import (
    can_distribute,
    can_follow,
    can_send_for,
    forward,
    forward_choices,
    incoming_document_id,
    pending_for,
    receive,
    receiving_agencies,
    recently_handled,
    resend,
    return_document,
    tracked_senders,
    tracking_counts,
    tracking_rows,
    tracking_view,
    urge_recipient,
    withdraw,
)
from documents.models import ExchangeRecord, ExchangeState, OfficialDocument, ReturnReason
from documents.return_notice import notice_lines, notice_sentence, return_notice_docx
from officeapp.access import get_or_404
from officeapp.audit.services import record_view
from officeapp.org.models import Agency

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Rows per page of the tracking list: 500 recipients stay a few pages and a constant set of queries.
TRACKING_PAGE = 100


def _record_for(user: Any, exchange_id: int) -> ExchangeRecord:
    """A record of a document the user sees, or one addressed to an agency where the user is a
    收发员 (a withdrawn one included, so a late 签收 is told why): one 404 for all else."""
    where = Q(document__in=access.visible_documents(user))
    clerk_of = receiving_agencies(user)
    if clerk_of:
        where |= Q(recipient_id__in=clerk_of)
    return get_or_404(
        ExchangeRecord.objects.filter(where).select_related(
            "document", "sender", "recipient", "returned_by", "received_by"
        ),
        pk=exchange_id,
    )


def _pending_page(
    request: HttpRequest,
    *,
    error: str = "",
    failed_record: int | None = None,
    reason: str = "",
    note: str = "",
    status: int = 200,
) -> HttpResponse:
    page = Paginator(pending_for(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/exchange/pending.html",
        {
            "page_obj": page,
            "recent": recently_handled(request.user),
            "reasons": ReturnReason.choices,
            "error": error,
            "failed_record": failed_record,
            "reason": reason,
            "note": note,
        },
        status=status,
    )


@login_required
@require_GET
def pending(request: HttpRequest) -> HttpResponse:
    """待签收: what reached the agencies where the user is a 收发员, newest first, with 签收 and
    退文 per record and what was signed for or returned lately."""
    if not receiving_agencies(request.user):
        raise PermissionDenied("只有收发员（或其受托人）可以查看待签收公文。")
    return _pending_page(request)


@login_required
@require_POST
def receive_record(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """签收; on to the 收文 the receiving agency made of it, when workflows made one."""
    exchange = _record_for(request.user, exchange_id)
    try:
        receive(exchange, actor=request.user)
    except DocumentError as refused:
        return _pending_page(request, error=refused.message, failed_record=exchange.pk)
    incoming = incoming_document_id(exchange)
    messages.success(request, f"已签收《{exchange.document.title}》。")
    if incoming is not None:
        return redirect("documents:detail", document_id=incoming)
    return redirect("documents:pending")


@login_required
@require_POST
def return_record(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """退文 with a reason from the list and a note; a refusal shows the list again as typed."""
    exchange = _record_for(request.user, exchange_id)
    reason = request.POST.get("reason", "")
    note = request.POST.get("note", "")
    try:
        return_document(exchange, actor=request.user, reason=reason, note=note)
    except DocumentError as refused:
        return _pending_page(
            request, error=refused.message, failed_record=exchange.pk, reason=reason, note=note
        )
    messages.success(request, f"已退回《{exchange.document.title}》，发文机关已收到通知。")
    return redirect("documents:pending")


def _filter_state(request: HttpRequest) -> str:
    state = request.GET.get("state", "")
    return state if state in ExchangeState.values else ""


def _distribution_page(
    request: HttpRequest,
    document: OfficialDocument,
    senders: list[int],
    *,
    error: str = "",
    failed_record: int | None = None,
    reason: str = "",
    status: int = 200,
) -> HttpResponse:
    state = _filter_state(request)
    page = Paginator(tracking_rows(document, senders, state=state), TRACKING_PAGE).get_page(
        request.GET.get("page")
    )
    acting = [a for a in senders if can_send_for(request.user, a)]
    counts = tracking_counts(document, senders)
    context = {
        "document": document,
        "page_obj": page,
        "rows": tracking_view(page.object_list),
        "state_counts": [(value, label, counts[label]) for value, label in ExchangeState.choices],
        "completed": counts["已办结"],
        "state": state,
        "acting": acting,
        "may_act": bool(acting),
        "forwarded": len(senders) > 1 or senders != [document.agency_id],
        "error": error,
        "failed_record": failed_record,
        "reason": reason,
    }
    template = (
        "documents/exchange/_tracking.html"
        if request.headers.get("HX-Request")
        else "documents/exchange/distribution.html"
    )
    return render(request, template, context, status=status)


def _senders_for(request: HttpRequest, document: OfficialDocument) -> list[int]:
    senders = tracked_senders(request.user, document)
    if not senders:
        raise PermissionDenied("只有发文机关的办公室可以查看分发情况。")
    return senders


@login_required
@require_GET
def distribution(request: HttpRequest, document_id: int) -> HttpResponse:
    """回执 and tracking: each recipient with state, who and when, 退文 reason, 办结 and history,
    counts per state, filters, 催办 and 撤回. An agency that forwarded the document sees its own
    recipients. An htmx request (the live refresh, exchange.js) gets the table alone."""
    document = access.get_document_for(request.user, document_id)
    return _distribution_page(request, document, _senders_for(request, document))


def _text_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text: never a formula, whatever an agency name starts with
    return cell


def _local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _person(user: Any) -> str:
    return (user.real_name or user.username) if user is not None else ""


EXPORT_HEADER = [
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
]


@login_required
@require_GET
def distribution_export(request: HttpRequest, document_id: int) -> HttpResponse:
    """The distribution status as .xlsx (回执 tracking for the file room), audited."""
    document = access.get_document_for(request.user, document_id)
    if not tracked_senders(request.user, document):
        raise PermissionDenied("只有发文机关的办公室可以导出分发情况。")
    senders = tracked_senders(request.user, document)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("分发情况")
    sheet.append([_text_cell(sheet, f"{document.doc_number} {document.title}".strip())])
    sheet.append([_text_cell(sheet, h) for h in EXPORT_HEADER])
    for line in tracking_view(tracking_rows(document, senders, state=_filter_state(request))):
        r = line.record
        row = [
            r.recipient.name,
            r.get_kind_display(),
            r.get_state_display(),
            _local(r.sent_at),
            _person(r.sent_by),
            _local(r.received_at),
            _person(r.received_by),
            _local(r.returned_at),
            _person(r.returned_by),
            r.get_return_reason_display() if r.return_reason else "",
            r.return_note,
            _local(r.completed_at),
            r.result,
            str(line.urged),
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


def _sender_record(request: HttpRequest, exchange_id: int) -> ExchangeRecord:
    """A record the user may act on for its sender (撤回, 催办): 404 unless they see the document,
    403 unless they send for the record's sender."""
    exchange = get_or_404(
        ExchangeRecord.objects.filter(document__in=access.visible_documents(request.user)).select_related(
            "document", "recipient"
        ),
        pk=exchange_id,
    )
    if not can_send_for(request.user, exchange.sender_id):
        raise PermissionDenied("只有发文机关的文秘或收发员可以办理。")
    return exchange


@login_required
@require_POST
def withdraw_record(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """撤回 one recipient's copy that nobody has signed for yet; the reason is required."""
    exchange = _sender_record(request, exchange_id)
    document = exchange.document
    reason = request.POST.get("reason", "")
    try:
        withdraw(exchange, actor=request.user, reason=reason)
    except DocumentError as refused:
        return _distribution_page(
            request,
            document,
            _senders_for(request, document),
            error=refused.message,
            failed_record=exchange.pk,
            reason=reason,
        )
    messages.success(request, f"已撤回发给{exchange.recipient.name}的公文。")
    return redirect("documents:distribution", document_id=document.pk)


@login_required
@require_POST
def urge_record(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """催办 a recipient that has not signed: its 收发员 are told live."""
    exchange = _sender_record(request, exchange_id)
    document = exchange.document
    note = request.POST.get("note", "")
    try:
        urge_recipient(exchange, actor=request.user, note=note)
    except DocumentError as refused:
        return _distribution_page(
            request,
            document,
            _senders_for(request, document),
            error=refused.message,
            failed_record=exchange.pk,
            reason=note,
        )
    messages.success(request, f"已催办{exchange.recipient.name}。")
    return redirect("documents:distribution", document_id=document.pk)


FORWARD_QUERY_MAX_CHARS = 40


@login_required
@require_http_methods(["GET", "POST"])
def forward_record(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """转发: the recipient that signed passes the document on to agencies below it."""
    exchange = _record_for(request.user, exchange_id)
    if not can_send_for(request.user, exchange.recipient_id):
        raise PermissionDenied("只有收文机关的文秘或收发员可以转发公文。")
    q = " ".join((request.GET.get("q") or "").replace("\x00", "").split())[:FORWARD_QUERY_MAX_CHARS]
    every_choice = forward_choices(exchange)
    # The search box narrows what is listed; a POST is checked against every allowed agency.
    choices = list(
        every_choice.filter(Q(name__icontains=q) | Q(short_name__icontains=q)) if q else every_choice
    )
    chosen = [a for a in every_choice if str(a.pk) in request.POST.getlist("agencies")]
    error = ""
    if request.method == "POST":
        try:
            sent = forward(exchange, actor=request.user, agencies=chosen)
        except DocumentError as refused:
            error = refused.message
        else:
            if sent.message:
                messages.info(request, sent.message)
            if sent:
                messages.success(request, f"已转发给{'、'.join(r.recipient.name for r in sent)}。")
            return redirect("documents:distribution", document_id=exchange.document_id)
    return render(
        request,
        "documents/exchange/forward.html",
        {
            "exchange": exchange,
            "document": exchange.document,
            "choices": choices,
            "chosen": {a.pk for a in chosen},
            "q": q,
            "error": error,
        },
        status=200,
    )


RESEND_CHOICES = 50


@login_required
@require_http_methods(["GET", "POST"])
def resend_document(request: HttpRequest, document_id: int) -> HttpResponse:
    """补发: the sender's office sends a distributed document to more agencies (or again to one whose
    record was withdrawn). Agencies are found by name (a province has thousands), ticked, and sent."""
    document = access.get_document_for(request.user, document_id)
    if not can_distribute(request.user, document):
        raise PermissionDenied("只有发文机关的文秘或收发员可以补发公文。")
    query = " ".join((request.GET.get("q") or request.POST.get("q") or "").split())[:40]
    # isdigit() alone lets "²" through to int(), and 30 digits overflow the database: ids are ASCII
    # digits of an integer column's size, anything else is not an agency.
    chosen_ids = [
        int(v) for v in request.POST.getlist("agencies") if v.isascii() and v.isdigit() and len(v) <= 9
    ]
    chosen = list(Agency.objects.filter(pk__in=chosen_ids, is_active=True).order_by("path"))
    found: list[Agency] = []
    if query:
        found = list(
            Agency.objects.filter(Q(name__contains=query) | Q(short_name__contains=query), is_active=True)
            .exclude(pk=document.agency_id)
            .order_by("path")[:RESEND_CHOICES]
        )
    error = ""
    if request.method == "POST" and request.POST.get("action") == "send":
        try:
            sent = resend(document, actor=request.user, agencies=chosen)
        except DocumentError as refused:
            error = refused.message
        else:
            if sent.message:
                messages.info(request, sent.message)
            if sent:
                messages.success(request, f"已补发给{'、'.join(r.recipient.name for r in sent)}。")
            return redirect("documents:distribution", document_id=document.pk)
    already = set(
        ExchangeRecord.objects.filter(document=document)
        .exclude(state=ExchangeState.WITHDRAWN)
        .values_list("recipient_id", flat=True)
    )
    return render(
        request,
        "documents/exchange/resend.html",
        {
            "document": document,
            "query": query,
            "found": [a for a in found if a.pk not in {c.pk for c in chosen}],
            "chosen": chosen,
            "already": already,
            "error": error,
        },
    )


def _returned_record(request: HttpRequest, exchange_id: int) -> ExchangeRecord:
    """A returned record, for its sender's office and the recipient's: 404 for anything else."""
    exchange = _record_for(request.user, exchange_id)
    user = request.user
    sender_side = exchange.sender_id in tracked_senders(user, exchange.document)
    if exchange.state != ExchangeState.RETURNED or not (
        sender_side or can_follow(user, exchange.recipient_id)
    ):
        raise Http404("没有这份退文通知单。")
    return exchange


@login_required
@require_GET
def return_notice(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """退文通知单, printable."""
    exchange = _returned_record(request, exchange_id)
    return render(
        request,
        "documents/exchange/return_notice.html",
        {
            "exchange": exchange,
            "sentence": notice_sentence(exchange),
            "lines": notice_lines(exchange),
        },
    )


@login_required
@require_GET
def return_notice_download(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """退文通知单 as .docx, audited."""
    exchange = _returned_record(request, exchange_id)
    content = return_notice_docx(exchange)
    record_view(request, exchange.document, action="documents.exchange.return_notice")
    response = HttpResponse(content, content_type=DOCX)
    response["Content-Disposition"] = content_disposition_header(
        True, f"退文通知单-{exchange.recipient.short_name or exchange.recipient.name}.docx"
    )
    return response


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
    if not 1949 <= year <= 2999:
        # A year a date cannot hold (0, 99999 typed into the address) has no archive, not a 500.
        raise Http404("没有该年度的档案。")
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
    """The document page's 分发 panel (documents.panels): the sending office sees the count per
    state and a link to the tracking page; a recipient's 收发员 sees his agency's copy (and may
    forward it once signed); an archive reader of an archived document gets its package. ""
    when there is nothing to show."""
    user = request.user
    distributed = document.exchange_records.exists()
    senders = tracked_senders(user, document) if distributed else []
    clerk_of = receiving_agencies(user) if distributed else []
    mine = (
        list(document.exchange_records.filter(recipient_id__in=clerk_of).select_related("recipient"))
        if clerk_of
        else []
    )
    may_forward = {
        r.pk for r in mine if r.state == ExchangeState.RECEIVED and can_send_for(user, r.recipient_id)
    }
    package = document.is_archived and can_read_archive(user, document.agency_id)
    if not (senders or mine or package):
        return ""
    return render_to_string(
        "documents/exchange/_panel.html",
        {
            "document": document,
            "sender_view": bool(senders),
            "counts": tracking_counts(document, senders) if senders else {},
            "mine": mine,
            "may_forward": may_forward,
            "package": package,
        },
        request=request,
    )


urlpatterns: list[URLPattern] = [
    path("pending/", pending, name="pending"),
    path("<int:document_id>/distribution/", distribution, name="distribution"),
    path("<int:document_id>/distribution.xlsx", distribution_export, name="distribution_export"),
    path("<int:document_id>/resend/", resend_document, name="exchange_resend"),
    path("exchange/<int:exchange_id>/withdraw/", withdraw_record, name="exchange_withdraw"),
    path("exchange/<int:exchange_id>/receive/", receive_record, name="exchange_receive"),
    path("exchange/<int:exchange_id>/return/", return_record, name="exchange_return"),
    path("exchange/<int:exchange_id>/urge/", urge_record, name="exchange_urge"),
    path("exchange/<int:exchange_id>/forward/", forward_record, name="exchange_forward"),
    path("exchange/<int:exchange_id>/return-notice/", return_notice, name="exchange_return_notice"),
    path(
        "exchange/<int:exchange_id>/return-notice.docx",
        return_notice_download,
        name="exchange_return_notice_docx",
    ),
    path("archive/", archive_list, name="archive"),
    path("archive/<int:agency_id>/<int:year>.zip", archive_year, name="archive_year"),
    path("<int:document_id>/archive.zip", archive_package, name="archive_package"),
]
