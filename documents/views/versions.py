"""Versions and 痕迹, attachment and rendering previews and (watermarked) downloads, and the
文号 register of an agency's office.

Documents, their versions and files are looked up only through documents/access.py (one 404 for
missing and not yours); the register is the office's (403 for anyone else who reaches it).
Every view and download of a file is audited (record_view); PDFs leave with the viewer's
watermark. Previews render PDFs on the page with the vendored pdf.js (no iframe: X-Frame-Options
is DENY), fetching the same watermarked PDF the download gives.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from documents import access, numbering
from documents.attachments import live_attachments
from documents.diffing import change_counts, diff_html, diff_versions
from documents.errors import DocumentError
from documents.models import (
    Attachment,
    DocNumber,
    DocumentVersion,
    NumberState,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
)
from documents.watermark import DOCX, watermark_docx, watermark_pdf
from officeapp.access import get_or_404
from officeapp.audit.services import record_view
from officeapp.blobs.backends import BlobMissing, BlobStoreUnavailable
from officeapp.blobs.checks import sanitise_name
from officeapp.blobs.models import Blob
from officeapp.blobs.services import open_blob
from officeapp.org.models import Agency

PDF = "application/pdf"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MISSING_MESSAGE = "文件内容已丢失，请联系系统管理员。"
NOT_OFFICE = "只有本机关办公室（办公室主任、文秘）可以管理发文字号。"
RENDER_EXTENSIONS = {RenderKind.DOCX: "docx", RenderKind.PDF: "pdf", RenderKind.SEALED_PDF: "pdf"}


# --- lookups --------------------------------------------------------------------------------------


def _version(document: OfficialDocument, number: int) -> DocumentVersion:
    return get_or_404(document.versions.select_related("author"), number=number)


def _attachment(document: OfficialDocument, attachment_id: int) -> Attachment:
    return get_or_404(live_attachments(document).select_related("blob", "preview_blob"), pk=attachment_id)


def _rendering(document: OfficialDocument, rendering_id: int) -> Rendering:
    ready = document.renderings.filter(status=RenderStatus.READY, blob__isnull=False)
    return get_or_404(ready.select_related("blob", "version"), pk=rendering_id)


def _office_agency(user: Any, agency_id: int) -> Agency:
    # Agencies are public (the directory lists them): a missing one is 404, a wrong role 403.
    agency = get_or_404(Agency.objects.all(), pk=agency_id)
    if not access.can_keep_letterheads(user, agency.pk):
        raise PermissionDenied(NOT_OFFICE)
    return agency


# --- serving files --------------------------------------------------------------------------------


def _unavailable(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "blobs/unavailable.html", {"message": message}, status=status)


def _file_response(
    request: HttpRequest,
    blob: Blob,
    *,
    filename: str,
    inline: bool,
    audited: Any,
    action: str,
    details: dict[str, Any],
) -> HttpResponse:
    """The blob as a response: a PDF or .docx as the viewer's watermarked copy, anything else streamed."""
    try:
        chunks = open_blob(blob)
        watermarked = blob.content_type in (PDF, DOCX)
        body: bytes | None = None
        if blob.content_type == PDF:
            body = watermark_pdf(b"".join(chunks), user=request.user)
        elif blob.content_type == DOCX:
            body = watermark_docx(b"".join(chunks), user=request.user)
    except BlobStoreUnavailable as exc:
        return _unavailable(request, exc.message, 503)
    except BlobMissing:
        # The user may read it (access passed), so say what happened rather than "not found".
        return _unavailable(request, MISSING_MESSAGE, 404)
    except DocumentError as exc:
        return _unavailable(request, exc.message, 422)
    record_view(request, audited, action=action, details={**details, "watermarked": watermarked})
    if body is not None:
        response: HttpResponse = HttpResponse(body, content_type=blob.content_type)
        response["Content-Length"] = str(len(body))
    else:
        response = StreamingHttpResponse(chunks, content_type=blob.content_type)
        response["Content-Length"] = str(blob.size)
    response["Content-Disposition"] = content_disposition_header(
        not inline, sanitise_name(filename) or "file"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # A file opened directly must never run as part of our origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _wants_preview(request: HttpRequest) -> bool:
    return request.GET.get("for") == "preview"


def _pdf_name(name: str) -> str:
    return (name.rsplit(".", 1)[0] if "." in name else name) + ".pdf"


# --- versions and 痕迹 ----------------------------------------------------------------------------


@login_required
@require_GET
def version_list(request: HttpRequest, document_id: int) -> HttpResponse:
    document = access.get_document_for(request.user, document_id)
    versions = list(document.versions.select_related("author").order_by("-number"))
    return render(
        request,
        "documents/versions/list.html",
        {"document": document, "versions": versions, "current": document.current_version_id},
    )


@login_required
@require_GET
def version_detail(request: HttpRequest, document_id: int, version_number: int) -> HttpResponse:
    document = access.get_document_for(request.user, document_id)
    version = _version(document, version_number)
    record_view(request, document, action="documents.version.view", details={"version": version.number})
    return render(request, "documents/versions/detail.html", {"document": document, "version": version})


def _version_number(raw: str | None, default: int | None) -> tuple[int | None, str]:
    if raw in (None, ""):
        return default, ""
    text = str(raw).strip().lstrip("第").rstrip("版")
    if not text.isascii() or not text.isdigit():
        return None, f"“{raw}”不是版本号，请填写数字，如 2。"
    return int(text), ""


@login_required
@require_GET
def version_diff(request: HttpRequest, document_id: int) -> HttpResponse:
    """痕迹 between any two versions (?old=&new=); by default the latest against the one before."""
    document = access.get_document_for(request.user, document_id)
    versions = {v.number: v for v in document.versions.select_related("author")}
    latest = max(versions) if versions else None
    new_number, new_error = _version_number(request.GET.get("new"), latest)
    default_old = (new_number - 1) if new_number and new_number - 1 in versions else new_number
    old_number, old_error = _version_number(request.GET.get("old"), default_old)
    errors = [e for e in (old_error, new_error) if e]
    for number in (old_number, new_number):
        if number is not None and not errors and number not in versions:
            errors.append(f"第{number}版不存在，本公文共有{len(versions)}个版本。")
    context: dict[str, Any] = {
        "document": document,
        "versions": sorted(versions, reverse=True),
        "typed_old": request.GET.get("old", old_number or ""),
        "typed_new": request.GET.get("new", new_number or ""),
        "errors": errors,
    }
    if not errors and old_number is not None and new_number is not None:
        old, new = versions[old_number], versions[new_number]
        ops = diff_versions(old, new)
        inserted, deleted = change_counts(ops)
        context.update(old=old, new=new, diff=diff_html(ops), inserted=inserted, deleted=deleted)
        record_view(
            request, document, action="documents.version.diff", details={"old": old_number, "new": new_number}
        )
    return render(request, "documents/versions/diff.html", context, status=400 if errors else 200)


# --- attachments ----------------------------------------------------------------------------------


@login_required
@require_GET
def attachment_download(request: HttpRequest, document_id: int, attachment_id: int) -> HttpResponse:
    """The attachment (?for=preview: inline, and its PDF preview when it is not a PDF itself)."""
    document = access.get_document_for(request.user, document_id)
    attachment = _attachment(document, attachment_id)
    preview = _wants_preview(request)
    blob, filename = attachment.blob, attachment.filename
    if preview and blob.content_type != PDF and attachment.preview_blob is not None:
        blob, filename = attachment.preview_blob, _pdf_name(attachment.filename)
    return _file_response(
        request,
        blob,
        filename=filename,
        inline=preview,
        audited=attachment,
        action="documents.attachment.view" if preview else "documents.attachment.download",
        details={"document_id": document.pk, "blob_id": blob.pk},
    )


@login_required
@require_GET
def attachment_preview(request: HttpRequest, document_id: int, attachment_id: int) -> HttpResponse:
    document = access.get_document_for(request.user, document_id)
    attachment = _attachment(document, attachment_id)
    download = reverse("documents:attachment_download", args=[document.pk, attachment.pk])
    kind = "none"
    if attachment.blob.content_type == PDF or attachment.preview_blob is not None:
        kind = "pdf"
    elif attachment.blob.content_type in IMAGE_TYPES:
        kind = "image"
    return render(
        request,
        "documents/versions/preview.html",
        {
            "document": document,
            "title": f"附件{attachment.order}：{attachment.title}",
            "kind": kind,
            "source": f"{download}?for=preview",
            "download": download,
            "none_message": "该附件暂无在线预览（Word、Excel 附件的预览正在生成或无法生成），请下载查看。",
        },
    )


# --- renderings -----------------------------------------------------------------------------------


def _rendering_name(document: OfficialDocument, rendering: Rendering) -> str:
    stem = document.doc_number or document.title
    suffix = "（盖章）" if rendering.kind == RenderKind.SEALED_PDF else ""
    return f"{stem}{suffix}.{RENDER_EXTENSIONS.get(RenderKind(rendering.kind), 'bin')}"


@login_required
@require_GET
def rendering_download(request: HttpRequest, document_id: int, rendering_id: int) -> HttpResponse:
    document = access.get_document_for(request.user, document_id)
    rendering = _rendering(document, rendering_id)
    preview = _wants_preview(request)
    return _file_response(
        request,
        rendering.blob,
        filename=_rendering_name(document, rendering),
        inline=preview,
        audited=rendering,
        action="documents.rendering.view" if preview else "documents.rendering.download",
        details={"document_id": document.pk, "kind": rendering.kind, "version": rendering.version.number},
    )


@login_required
@require_GET
def rendering_preview(request: HttpRequest, document_id: int, rendering_id: int) -> HttpResponse:
    document = access.get_document_for(request.user, document_id)
    rendering = _rendering(document, rendering_id)
    download = reverse("documents:rendering_download", args=[document.pk, rendering.pk])
    return render(
        request,
        "documents/versions/preview.html",
        {
            "document": document,
            "title": f"{rendering.get_kind_display()}（第{rendering.version.number}版）",
            "kind": "pdf" if rendering.blob.content_type == PDF else "none",
            "source": f"{download}?for=preview",
            "download": download,
            "none_message": "排版稿（.docx）不能在浏览器中预览：请预览版式文件（PDF），或下载后查看。",
        },
    )


# --- 文号 register --------------------------------------------------------------------------------


class ReserveForm(forms.Form):
    prefix = forms.ChoiceField(label="机关代字", error_messages={"required": "请选择机关代字。"})
    year = forms.IntegerField(
        label="年份",
        min_value=1900,
        max_value=2099,
        error_messages={
            "required": "请填写年份。",
            "invalid": "年份应为四位数字，如 2026。",
            "min_value": "年份应为四位数字，如 2026。",
            "max_value": "年份应为四位数字，如 2026。",
        },
    )
    reason = forms.CharField(
        label="预留原因", max_length=200, required=False, help_text="如：为全省防汛工作会议通知预留"
    )

    def __init__(self, *args: Any, prefixes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prefix"].choices = [(p, p) for p in prefixes]  # type: ignore[attr-defined]
        self.fields["prefix"].error_messages["invalid_choice"] = (
            "所选机关代字不是本机关的机关代字，请重新选择。"
        )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="作废原因", max_length=200, error_messages={"required": "请填写作废原因。"}, strip=True
    )


def _year_from(raw: str | None) -> tuple[int, str]:
    today = timezone.localdate().year
    if raw in (None, ""):
        return today, ""
    if not str(raw).isascii() or not str(raw).isdigit() or not 1900 <= int(raw) <= 2099:
        return today, f"“{raw}”不是年份，请填写四位数字，如 {today}。已显示{today}年的文号。"
    return int(raw), ""


def _register(
    request: HttpRequest,
    agency: Agency,
    *,
    year: int,
    reserve_form: ReserveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = list(numbering.numbers_of(agency, year))
    visible = set(
        access.visible_documents(request.user)
        .filter(pk__in=[r.document_id for r in rows if r.document_id])
        .values_list("pk", flat=True)
    )
    prefixes = numbering.prefixes_of(agency)
    form = reserve_form or ReserveForm(initial={"year": year}, prefixes=prefixes)
    years = sorted({*numbering.years_of(agency), year, timezone.localdate().year}, reverse=True)
    counts = {state.value: sum(1 for r in rows if r.state == state) for state in NumberState}
    return render(
        request,
        "documents/versions/numbers.html",
        {
            "agency": agency,
            "year": year,
            "years": years,
            "rows": rows,
            "visible": visible,
            "form": form,
            "prefixes": prefixes,
            "counts": counts,
        },
        status=status,
    )


@login_required
@require_GET
def number_register(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = _office_agency(request.user, agency_id)
    year, error = _year_from(request.GET.get("year"))
    if error:
        messages.error(request, error)
    return _register(request, agency, year=year)


@login_required
@require_http_methods(["GET", "POST"])
def number_reserve(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = _office_agency(request.user, agency_id)
    if request.method == "GET":
        return redirect("documents:number_register", agency_id=agency.pk)
    form = ReserveForm(request.POST, prefixes=numbering.prefixes_of(agency))
    year = timezone.localdate().year
    if form.is_valid():
        try:
            number = numbering.reserve_number(
                agency,
                actor=request.user,
                prefix=form.cleaned_data["prefix"],
                year=form.cleaned_data["year"],
                reason=form.cleaned_data["reason"],
            )
        except DocumentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已预留文号 {number.text}。编号时可选用该文号。")
            return redirect(
                f"{reverse('documents:number_register', args=[agency.pk])}?year={number.sequence.year}"
            )
        year = form.cleaned_data["year"]
    elif not numbering.prefixes_of(agency):
        form.add_error(None, "本机关尚未设置机关代字，请先在版头模板中设置。")
    return _register(request, agency, year=year, reserve_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def number_void(request: HttpRequest, agency_id: int, doc_number_id: int) -> HttpResponse:
    agency = _office_agency(request.user, agency_id)
    number = get_or_404(
        DocNumber.objects.select_related("sequence", "document").filter(sequence__agency=agency),
        pk=doc_number_id,
    )
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            numbering.void_number(number, actor=request.user, reason=form.cleaned_data["reason"])
        except DocumentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"文号 {number.text} 已作废，该序号不再使用。")
            return redirect(
                f"{reverse('documents:number_register', args=[agency.pk])}?year={number.sequence.year}"
            )
    return render(
        request,
        "documents/versions/number_void.html",
        {"agency": agency, "number": number, "form": form},
        status=400 if form.errors else 200,
    )


# --- the document page's panel --------------------------------------------------------------------


def files_panel(request: HttpRequest, document: OfficialDocument) -> str:
    """版本记录, 附件 and 排版文件 links for the document page (registered as a document panel)."""
    renderings = list(
        document.renderings.filter(status=RenderStatus.READY, blob__isnull=False)
        .select_related("version")
        .order_by("-created_at")[:6]
    )
    return render_to_string(
        "documents/versions/_files_panel.html",
        {
            "document": document,
            "attachments": list(live_attachments(document)),
            "renderings": renderings,
            "version_count": document.versions.count(),
        },
        request=request,
    )


urlpatterns: list[URLPattern] = [
    path("<int:document_id>/versions/", version_list, name="versions"),
    path("<int:document_id>/versions/<int:version_number>/", version_detail, name="version"),
    path("<int:document_id>/versions/diff/", version_diff, name="version_diff"),
    path(
        "<int:document_id>/attachments/<int:attachment_id>/",
        attachment_preview,
        name="attachment_preview",
    ),
    path(
        "<int:document_id>/attachments/<int:attachment_id>/download/",
        attachment_download,
        name="attachment_download",
    ),
    path("<int:document_id>/renderings/<int:rendering_id>/", rendering_preview, name="rendering_preview"),
    path(
        "<int:document_id>/renderings/<int:rendering_id>/download/",
        rendering_download,
        name="rendering_download",
    ),
    path("office/<int:agency_id>/numbers/", number_register, name="number_register"),
    path("office/<int:agency_id>/numbers/reserve/", number_reserve, name="number_reserve"),
    path("office/<int:agency_id>/numbers/<int:doc_number_id>/void/", number_void, name="number_void"),
]
