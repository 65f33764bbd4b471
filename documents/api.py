"""The REST API of documents (公文) and their exchange (公文交换), under /api/v1/documents/.

Who sees what — the pages' rules, nothing more:
- a user's token (OIDC sign-in through an app): `access.visible_documents(user)`, exactly what the
  document pages show that person; the exchange records only to whoever may open the sender's
  分发情况 page (`exchange.tracked_senders`), and only those senders' records;
- an app's own token (client credentials): `access.documents_for_app(app)`, what a 收发员 of the
  app's 数据范围 (or its owner agency) sees — never a draft; exchange records whose recipient or
  sender is one of those agencies (a 收发员 follows their own distributions and their own copies).
Missing and forbidden are the same 404. Downloads are the page's: the same lookups, the watermark of
who took the copy (an app's own token: the app's name) and the page's audit action names.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from documents import access
from documents.attachments import live_attachments
from documents.errors import DocumentError
from documents.exchange import tracked_senders
from documents.models import (
    ExchangeRecord,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
)
from documents.serializers import (
    DocumentAttachmentSerializer,
    DocumentDetailSerializer,
    DocumentFilterSerializer,
    DocumentSummarySerializer,
    ExchangeRecordSerializer,
    RenderingQuerySerializer,
)
from documents.watermark import DOCX, watermark_docx, watermark_pdf
from officeapp.access import get_or_404
from officeapp.audit.services import record
from officeapp.blobs.backends import BlobMissing, BlobStoreUnavailable
from officeapp.blobs.checks import sanitise_name
from officeapp.blobs.models import Blob
from officeapp.integration.apiview import ApiView
from officeapp.integration.rest import Caller, caller

PDF = "application/pdf"
NO_RENDERING = "该公文当前版本尚未生成{kind}。"
MISSING_MESSAGE = "文件内容已丢失，请联系系统管理员。"
RENDER_EXTENSIONS = {RenderKind.DOCX: "docx", RenderKind.PDF: "pdf", RenderKind.SEALED_PDF: "pdf"}
# ?format=pdf serves the sealed PDF when there is one (the copy that was sent), else the plain PDF.
FORMAT_KINDS = {"pdf": (RenderKind.SEALED_PDF, RenderKind.PDF), "docx": (RenderKind.DOCX,)}
FORMAT_NAMES = {"pdf": "版式文件（PDF）", "docx": "排版稿（.docx）"}


# --- who sees what ---------------------------------------------------------------------------------


def documents_of(found: Caller) -> QuerySet[OfficialDocument]:
    """The documents the caller may read: the user's (a user token) or the app's (its own token)."""
    if found.user is not None:
        return access.visible_documents(found.user)
    return access.documents_for_app(found.app)


def document_of(found: Caller, document_id: int) -> OfficialDocument:
    return get_or_404(
        documents_of(found).select_related("agency", "department", "current_version__author"),
        pk=document_id,
    )


def exchange_records_of(found: Caller, document: OfficialDocument) -> QuerySet[ExchangeRecord]:
    """The records of `document` the caller follows; 404 when none (not the caller's to track)."""
    if found.user is not None:
        senders = tracked_senders(found.user, document)
        if not senders:
            raise Http404
        where = Q(sender_id__in=senders)
    else:
        agencies = found.app.reading_agency_ids()
        where = Q(recipient_id__in=agencies) | Q(sender_id__in=agencies)
    rows = ExchangeRecord.objects.filter(where, document=document)
    if not rows.exists():
        raise Http404
    return rows.select_related("sender", "recipient", "received_by")


# --- serving files -----------------------------------------------------------------------------------


class _FormatIsOurs(DefaultContentNegotiation):
    """?format= names the file wanted (pdf/docx), not DRF's renderer: errors are always JSON."""

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> Any:
        return renderers[0], renderers[0].media_type


def _watermark_subject(found: Caller) -> Any:
    """Whose mark a copy carries: the user's; for the app's own token, the app's name and agency."""
    if found.user is not None:
        return found.user
    return SimpleNamespace(
        real_name=found.label, employee_no="", department=SimpleNamespace(agency=found.app.owner_agency)
    )


def audit(request: Request, found: Caller, action: str, obj: Any, details: dict[str, Any]) -> None:
    """The page's audit row for a view or download (same action names), saying which app fetched it:
    a user's on their agency's chain as on the page, an app's own on the app's chain."""
    record(
        action,
        actor=found.user,
        actor_label=found.label if found.user is None else f"{found.user}（经{found.label}）",
        obj=obj,
        details={**details, "app": found.app.pk},
        client_address=getattr(request, "client_address", None),
        chain="" if found.user is not None else f"app:{found.app.pk}",
    )


def _error(status: int, code: str, message: str) -> Response:
    return Response({"error": {"code": code, "message": message}}, status=status)


def file_response(
    request: Request,
    found: Caller,
    blob: Blob,
    *,
    filename: str,
    audited: Any,
    action: str,
    details: dict[str, Any],
) -> HttpResponse | Response:
    """The blob as the page serves it (documents.views.versions): a PDF or .docx as the caller's
    watermarked copy, anything else streamed; audited with the page's action, the app beside."""
    from officeapp.blobs.services import open_blob

    try:
        chunks = open_blob(blob)
        watermarked = blob.content_type in (PDF, DOCX)
        body: bytes | None = None
        if blob.content_type == PDF:
            body = watermark_pdf(b"".join(chunks), user=_watermark_subject(found))
        elif blob.content_type == DOCX:
            body = watermark_docx(b"".join(chunks), user=_watermark_subject(found))
    except BlobStoreUnavailable as exc:
        return _error(503, "unavailable", exc.message)
    except BlobMissing:
        return _error(404, "file_missing", MISSING_MESSAGE)
    except DocumentError as exc:
        return _error(422, "unprocessable", exc.message)
    audit(request, found, action, audited, {**details, "watermarked": watermarked})
    if body is not None:
        response: HttpResponse = HttpResponse(body, content_type=blob.content_type)
        response["Content-Length"] = str(len(body))
    else:
        response = StreamingHttpResponse(chunks, content_type=blob.content_type)
        response["Content-Length"] = str(blob.size)
    response["Content-Disposition"] = content_disposition_header(True, sanitise_name(filename) or "file")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def current_rendering(document: OfficialDocument, fmt: str) -> Rendering | None:
    """The newest ready file of the current version in `fmt` (for pdf, the sealed one first)."""
    if document.current_version_id is None:
        return None
    ready = list(
        Rendering.objects.filter(
            document=document,
            version_id=document.current_version_id,
            kind__in=FORMAT_KINDS[fmt],
            status=RenderStatus.READY,
            blob__isnull=False,
        )
        .select_related("blob", "version")
        .order_by("-created_at", "-pk")
    )
    for kind in FORMAT_KINDS[fmt]:
        for rendering in ready:
            if rendering.kind == kind:
                return rendering
    return None


def _rendering_name(document: OfficialDocument, rendering: Rendering) -> str:
    stem = document.doc_number or document.title
    suffix = "（盖章）" if rendering.kind == RenderKind.SEALED_PDF else ""
    return f"{stem}{suffix}.{RENDER_EXTENSIONS[RenderKind(rendering.kind)]}"


# --- views ---------------------------------------------------------------------------------------------


class DocumentListView(ApiView, generics.ListAPIView):
    """公文列表：调用方可见的公文（用户令牌按页面规则，应用令牌按其数据范围的收发员所见），按 id 倒序分页，不含正文。"""

    required_scopes = ("documents.read",)
    serializer_class = DocumentSummarySerializer

    def get_queryset(self) -> QuerySet[OfficialDocument]:
        filters = DocumentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        given = filters.validated_data
        documents = documents_of(caller(self.request)).select_related("agency")
        for field in ("category", "doc_type", "state"):
            if field in given:
                documents = documents.filter(**{field: given[field]})
        if "agency" in given:
            documents = documents.filter(agency_id=given["agency"])
        if "year" in given:
            year = given["year"]
            documents = documents.filter(
                Q(issued_on__year=year) | Q(issued_on__isnull=True, created_at__year=year)
            )
        if "updated_since" in given:
            documents = documents.filter(updated_at__gte=given["updated_since"])
        if given.get("q"):
            # A substring of the title (at most 50 characters), within the caller's documents and
            # the other filters; the cursor pages by id, so a page stops at its size.
            documents = documents.filter(title__contains=given["q"])
        return documents

    @extend_schema(summary="公文列表", parameters=[DocumentFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DocumentDetailView(ApiView):
    """公文详情：元数据、附件（含下载地址）、当前版本（版本号、保存人、时间）与正文纯文本。"""

    required_scopes = ("documents.read",)

    @extend_schema(summary="公文详情（元数据、附件、当前版本与正文）", responses=DocumentDetailSerializer)
    def get(self, request: Request, document_id: int) -> Response:
        found = caller(request)
        document = document_of(found, document_id)
        attachments = list(live_attachments(document).select_related("blob"))
        audit(request, found, "documents.viewed", document, {})
        context = {"request": request, "attachments": attachments}
        return Response(DocumentDetailSerializer(document, context=context).data)


class AttachmentListView(ApiView):
    """公文的附件列表（已删除的附件不列出）。"""

    required_scopes = ("documents.read",)

    @extend_schema(summary="公文附件列表", responses=DocumentAttachmentSerializer(many=True))
    def get(self, request: Request, document_id: int) -> Response:
        document = document_of(caller(request), document_id)
        attachments = live_attachments(document).select_related("blob")
        return Response(
            DocumentAttachmentSerializer(attachments, many=True, context={"request": request}).data
        )


class AttachmentDownloadView(ApiView):
    """下载附件：与页面相同的权限、审计；PDF 与 Word 附件带调用方水印。"""

    required_scopes = ("documents.read",)

    @extend_schema(
        summary="下载附件（PDF、Word 附件带调用方水印）",
        # The attachment's own type (PDF, Word, images, archives …), as uploaded.
        responses={(200, "*/*"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, document_id: int, attachment_id: int) -> HttpResponse | Response:
        found = caller(request)
        document = document_of(found, document_id)
        attachment = get_or_404(live_attachments(document).select_related("blob"), pk=attachment_id)
        return file_response(
            request,
            found,
            attachment.blob,
            filename=attachment.filename,
            audited=attachment,
            action="documents.attachment.download",
            details={"document_id": document.pk, "blob_id": attachment.blob_id},
        )


class RenderingDownloadView(ApiView):
    """下载当前版本的排版文件：format=pdf（有盖章版时为盖章版）或 docx；带调用方水印，记入审计；尚未生成时 404。"""

    required_scopes = ("documents.read",)
    content_negotiation_class = _FormatIsOurs

    @extend_schema(
        summary="下载当前排版文件（带调用方水印）",
        parameters=[RenderingQuerySerializer],
        responses={
            (200, PDF): OpenApiTypes.BINARY,
            (200, DOCX): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="公文不存在、无权访问，或尚未生成该格式的排版文件"),
        },
    )
    def get(self, request: Request, document_id: int) -> HttpResponse | Response:
        query = RenderingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = query.validated_data["format"]
        found = caller(request)
        document = document_of(found, document_id)
        rendering = current_rendering(document, fmt)
        if rendering is None:
            return _error(404, "no_rendering", NO_RENDERING.format(kind=FORMAT_NAMES[fmt]))
        return file_response(
            request,
            found,
            rendering.blob,
            filename=_rendering_name(document, rendering),
            audited=rendering,
            action="documents.rendering.download",
            details={"document_id": document.pk, "kind": rendering.kind, "version": rendering.version.number},
        )


class ExchangeListView(ApiView, generics.ListAPIView):
    """公文交换状态：用户令牌须能查看发文机关的分发情况；应用令牌只见收文或分发机关属其数据范围的记录。"""

    required_scopes = ("exchange.read",)
    serializer_class = ExchangeRecordSerializer

    def get_queryset(self) -> QuerySet[ExchangeRecord]:
        found = caller(self.request)
        document = document_of(found, self.kwargs["document_id"])
        return exchange_records_of(found, document)

    @extend_schema(summary="公文交换状态（各收文机关的签收、退文、办结）")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("", DocumentListView.as_view(), name="list"),
    path("<int:document_id>/", DocumentDetailView.as_view(), name="detail"),
    path("<int:document_id>/rendering", RenderingDownloadView.as_view(), name="rendering"),
    path("<int:document_id>/attachments/", AttachmentListView.as_view(), name="attachments"),
    path(
        "<int:document_id>/attachments/<int:attachment_id>/",
        AttachmentDownloadView.as_view(),
        name="attachment",
    ),
    path("<int:document_id>/exchange/", ExchangeListView.as_view(), name="exchange"),
]
