"""排版: the glue between the ORM and the GB/T 9704 renderer, and the Rendering rows' life.

`spec_for` reads a document into a DocumentSpec (plain values); `render_pdf` makes the PDF without
writing anything. `request_rendering` records a PENDING Rendering and queues the worker's
`produce` on commit; `produce` builds the file outside any transaction, stores it as a blob, then
marks the row READY — or FAILED with a short Chinese reason. A failure never touches the document
or its flow: only the Rendering row changes.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from documents import access
from documents.errors import DocumentError
from documents.gbt9704 import DocumentSpec, SealImage, render_docx
from documents.models import (
    Classification,
    DocumentVersion,
    Layout,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
    Urgency,
)
from documents.pdf import docx_to_pdf
from officeapp.audit.models import Outcome
from officeapp.audit.services import record
from officeapp.outbox.services import emit

logger = logging.getLogger(__name__)

# The 标志's last words by format when an agency keeps no 版头模板 (G13, G62; 信函: the name only).
MARK_SUFFIX = {Layout.STANDARD: "文件", Layout.MINUTES: "纪要", Layout.LETTER: ""}
PRODUCIBLE = frozenset({RenderKind.DOCX, RenderKind.PDF})
TASK = "documents.tasks.produce_rendering"


def _short(agency: Any) -> str:
    return agency.short_name or agency.name


def _recipients(agencies: Iterable[Any]) -> str:
    return "，".join(_short(a) for a in agencies)


def spec_for(
    document: OfficialDocument,
    *,
    version: DocumentVersion | None = None,
    seals: list[SealImage] | None = None,
) -> DocumentSpec:
    """The DocumentSpec of `document` at `version` (default: the current one)."""
    version = version or document.current_version
    co_issuers = [c.agency for c in document.co_issuers.select_related("agency").order_by("order", "pk")]
    issuers = [document.agency, *co_issuers]
    suffix = MARK_SUFFIX.get(document.layout, "文件")
    if co_issuers:
        # 联合行文: 主办机关 first, the suffix at their right (G13).
        mark_texts = [a.name for a in issuers]
    elif document.letterhead is not None:
        mark_texts = [document.letterhead.mark_text]
    else:
        mark_texts = [document.agency.name + suffix]
    main = document.main_recipients_text.strip() or _recipients(document.main_recipients.order_by("pk"))
    attachments = document.attachments.filter(removed_at__isnull=True).order_by("order", "pk")
    return DocumentSpec(
        title=document.title,
        layout=document.layout,
        upward=document.is_upward,
        classification=""
        if document.classification == Classification.NONE
        else document.get_classification_display(),
        secrecy_period=document.secrecy_period,
        urgency="" if document.urgency == Urgency.NORMAL else document.get_urgency_display(),
        mark_texts=mark_texts,
        mark_suffix=suffix,
        doc_number=document.doc_number,
        signers=[name for name in re.split(r"[，,、;；\s]+", document.signer_names) if name],
        main_recipients=main,
        body=list(version.body) if version is not None else [],
        attachments=[a.title for a in attachments],
        issuers=[a.name for a in issuers],
        issued_on=document.issued_on,
        remark=document.remark,
        copy_number=document.copy_number,
        attendees=list(document.minutes_attendees or []),
        on_leave=list(document.minutes_on_leave or []),
        observers=list(document.minutes_observers or []),
        cc=_recipients(document.cc_recipients.order_by("pk")),
        printed_by=document.printed_by.name if document.printed_by else "",
        printed_on=document.printed_on,
        seals=list(seals or []),
    )


def render_docx_of(
    document: OfficialDocument,
    *,
    version: DocumentVersion | None = None,
    seals: list[SealImage] | None = None,
) -> bytes:
    """The GB/T 9704 .docx of the document; no database writes."""
    return render_docx(spec_for(document, version=version, seals=seals))


def render_pdf(
    document: OfficialDocument,
    *,
    version: DocumentVersion | None = None,
    seals: list[SealImage] | None = None,
) -> bytes:
    """The 版式 PDF of the document (docx, then LibreOffice); no database writes."""
    return docx_to_pdf(render_docx_of(document, version=version, seals=seals))


def _create(document: OfficialDocument, *, actor: Any, kind: str) -> Rendering:
    if kind not in PRODUCIBLE:
        raise DocumentError("不支持的排版文件类型。")
    if actor is not None and not access.can_view(actor, document):
        raise DocumentError("您无权为该公文生成排版文件。")
    if document.current_version is None:
        raise DocumentError("该公文还没有正文，无法排版。")
    rendering = Rendering.objects.create(
        document=document,
        version=document.current_version,
        kind=kind,
        status=RenderStatus.PENDING,
        requested_by=actor,
    )
    record(
        "documents.rendering_requested",
        actor=actor,
        obj=rendering,
        details={"document": document.pk, "version": rendering.version_id, "kind": kind},
    )
    emit("documents.rendering.requested", rendering, payload={"document": document.pk, "kind": kind})
    return rendering


def _enqueue(rendering_id: int) -> None:
    from officeapp.worker.tasks import enqueue

    enqueue(TASK, rendering_id)


def request_rendering(document: OfficialDocument, *, actor: Any, kind: str) -> Rendering:
    """A PENDING Rendering of the current version; the worker produces it after commit."""
    with transaction.atomic():
        rendering = _create(document, actor=actor, kind=kind)
        transaction.on_commit(partial(_enqueue, rendering.pk), robust=True)
    return rendering


def render_now(document: OfficialDocument, *, actor: Any, kind: str) -> Rendering:
    """The same as request_rendering followed by the worker's job, in this process (commands, tests)."""
    with transaction.atomic():
        rendering = _create(document, actor=actor, kind=kind)
    produce(rendering.pk)
    rendering.refresh_from_db()
    return rendering


def _build(rendering: Rendering) -> bytes:
    docx = render_docx_of(rendering.document, version=rendering.version)
    if rendering.kind == RenderKind.DOCX:
        return docx
    return docx_to_pdf(docx)


def produce(rendering_id: int) -> None:
    """The worker's job. Idempotent: only a PENDING row is worked on, and it is marked under a row
    lock, so a redelivered task finds it READY/FAILED and returns. The file is built and stored
    before the transaction (LibreOffice may take seconds; a blob is content-addressed, an orphan
    is removed by retention)."""
    rendering = (
        Rendering.objects.select_related("document", "version", "requested_by")
        .filter(pk=rendering_id)
        .first()
    )
    if rendering is None or rendering.status != RenderStatus.PENDING:
        return
    try:
        data = _build(rendering)
        from officeapp.blobs.services import put

        blob = put(io.BytesIO(data), actor=rendering.requested_by)
    except DocumentError as exc:
        _fail(rendering_id, exc.message)
        return
    except Exception:
        logger.exception("rendering %s failed", rendering_id)
        _fail(rendering_id, "排版文件生成失败：系统内部错误，请稍后重试或联系系统管理员。")
        return
    with transaction.atomic():
        locked = Rendering.objects.select_for_update().get(pk=rendering_id)
        if locked.status != RenderStatus.PENDING:
            return
        locked.status = RenderStatus.READY
        locked.blob = blob
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "blob", "finished_at"])
        record(
            "documents.rendered",
            actor=locked.requested_by,
            obj=locked,
            details={"document": locked.document_id, "kind": locked.kind, "blob": blob.pk},
        )
        emit(
            "documents.rendering.ready", locked, payload={"document": locked.document_id, "kind": locked.kind}
        )


def _fail(rendering_id: int, reason: str) -> None:
    with transaction.atomic():
        locked = Rendering.objects.select_for_update().get(pk=rendering_id)
        if locked.status != RenderStatus.PENDING:
            return
        locked.status = RenderStatus.FAILED
        locked.error = reason[:300]
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "error", "finished_at"])
        record(
            "documents.rendered",
            actor=locked.requested_by,
            obj=locked,
            outcome=Outcome.FAILED,
            details={"document": locked.document_id, "kind": locked.kind},
        )
        emit(
            "documents.rendering.failed",
            locked,
            payload={"document": locked.document_id, "kind": locked.kind},
        )


def latest_rendering(document: OfficialDocument, kind: str) -> Rendering | None:
    """The newest READY rendering of the document's current version of `kind`."""
    return (
        Rendering.objects.filter(
            document=document, version=document.current_version, kind=kind, status=RenderStatus.READY
        )
        .order_by("-created_at", "-pk")
        .first()
    )
