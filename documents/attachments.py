"""附件: adding, removing (soft) and ordering a document's attachments, and the 附件说明 (G25).

The caller (the task page) has checked that the person holds the document's task; the services
re-check that they may see the document and refuse once 正文 is frozen (排版 on) or archived.
Files pass the upload checks before anything is stored, and are stored before the transaction
that references them (a failed transaction leaves an orphan blob for the retention job).

Also here: the blob referrer that lets the blobs app serve attachment and rendering files to
exactly those who may open the document holding them.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from documents.access import can_view, visible_documents
from documents.errors import DocumentError, DocumentFrozen, RenderFailed
from documents.models import Attachment, OfficialDocument, Rendering
from officeapp.audit.services import record
from officeapp.blobs.checks import CheckedUpload, UploadRefused, check_upload, msg_not_allowed
from officeapp.blobs.models import Blob
from officeapp.blobs.services import open_blob, put
from officeapp.outbox.services import emit

logger = logging.getLogger(__name__)

# What an attachment may be: 版式 and office files and images (no pptx or plain text: an 附件 is
# printed and bound with the 正文, G32).
ATTACHMENT_TYPES = frozenset({"pdf", "ofd", "docx", "xlsx", "png", "jpeg", "gif", "webp"})
ATTACHMENT_KINDS = ("document", "image")
TITLE_MAX = 200
# G25: the name carries no closing punctuation.
_TRAILING_PUNCTUATION = "。；;，,.、：:"
FROZEN_MESSAGE = "公文已定稿（排版后）或已归档，不能再增删或调整附件。"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PREVIEW_TASK = "documents.attachments.produce_preview"


def check_attachment_upload(upload: Any) -> CheckedUpload:
    """The upload checks of the blobs app, narrowed to the types an attachment may have."""
    checked = (
        upload if isinstance(upload, CheckedUpload) else check_upload(upload, allowed_kinds=ATTACHMENT_KINDS)
    )
    if checked.type.key not in ATTACHMENT_TYPES:
        raise UploadRefused(msg_not_allowed(ATTACHMENT_TYPES))
    return checked


def clean_title(title: str, filename: str = "") -> str:
    """The 附件名称: as typed, else the file name without its extension; no closing punctuation."""
    value = " ".join((title or "").split())
    if not value and filename:
        value = filename.rsplit(".", 1)[0].strip()
    value = value.rstrip(_TRAILING_PUNCTUATION).strip()
    if not value:
        raise DocumentError("请填写附件名称。")
    if len(value) > TITLE_MAX:
        raise DocumentError(f"附件名称不能超过{TITLE_MAX}个字。")
    return value


def live_attachments(document: OfficialDocument) -> QuerySet[Attachment]:
    return document.attachments.filter(removed_at__isnull=True).order_by("order", "pk")


def attachment_note(document: OfficialDocument) -> str:
    """附件说明 per G25: "附件：名称" for one; "附件：1.名称" and the next lines "2.名称" aligned
    under the first name's first character (three full-width spaces, the width of "附件：")."""
    titles = [a.title.rstrip(_TRAILING_PUNCTUATION) for a in live_attachments(document)]
    if not titles:
        return ""
    if len(titles) == 1:
        return f"附件：{titles[0]}"
    lines = [f"{n}.{t}" for n, t in enumerate(titles, 1)]
    return "附件：" + "\n".join([lines[0], *("\u3000\u3000\u3000" + line for line in lines[1:])])


def _lock_editable(document: OfficialDocument, actor: Any) -> OfficialDocument:
    if not can_view(actor, document):
        raise PermissionDenied("无权修改该公文的附件。")
    locked = OfficialDocument.objects.select_for_update().get(pk=document.pk)
    if locked.is_frozen or locked.is_archived:
        raise DocumentFrozen(FROZEN_MESSAGE)
    return locked


def _renumber_and_note(locked: OfficialDocument) -> None:
    """Orders 1…n without gaps (the 附件 numbers in G25/G32), and the stored 附件说明 kept in step."""
    for position, attachment in enumerate(live_attachments(locked), 1):
        if attachment.order != position:
            Attachment.objects.filter(pk=attachment.pk).update(order=position)
    locked.attachment_note = attachment_note(locked)
    locked.updated_at = timezone.now()
    locked.save(update_fields=["attachment_note", "updated_at"])


def add_attachment(document: OfficialDocument, *, actor: Any, upload: Any, title: str = "") -> Attachment:
    """Check, store and attach a file as the last attachment. UploadRefused for a refused file,
    DocumentFrozen once the document is frozen, BlobStoreUnavailable when storage is down."""
    if not can_view(actor, document):
        raise PermissionDenied("无权修改该公文的附件。")
    if document.is_frozen or document.is_archived:
        raise DocumentFrozen(FROZEN_MESSAGE)
    checked = check_attachment_upload(upload)
    name = clean_title(title, checked.name)
    blob = put(checked, actor=actor)
    with transaction.atomic():
        locked = _lock_editable(document, actor)
        last = locked.attachments.filter(removed_at__isnull=True).aggregate(m=Max("order"))["m"] or 0
        attachment = Attachment.objects.create(
            document=locked,
            order=last + 1,
            title=name,
            blob=blob,
            filename=checked.name,
            added_by=actor,
        )
        _renumber_and_note(locked)
        record(
            "documents.attachment_added",
            actor=actor,
            obj=locked,
            details={"attachment_id": attachment.pk, "blob_id": blob.pk, "type": checked.type.key},
        )
        emit("documents.document.changed", locked, payload={"attachment_added": attachment.pk})
        if blob.content_type == DOCX_MIME:
            transaction.on_commit(partial(_enqueue_preview, attachment.pk), robust=True)
    document.attachment_note = locked.attachment_note
    return attachment


def _enqueue_preview(attachment_id: int) -> None:
    from officeapp.worker.tasks import enqueue

    enqueue(PREVIEW_TASK, attachment_id)


def produce_preview(attachment_id: int) -> None:
    """The worker's job: a PDF of a Word attachment for the in-browser preview (LibreOffice).

    Idempotent: an attachment that has a preview, was removed, or is not a Word file is left alone.
    The conversion runs outside any transaction (it may take seconds); a conversion that fails is
    logged and the preview page keeps offering the download — the attachment itself is fine."""
    from documents.pdf import docx_to_pdf

    attachment = Attachment.objects.select_related("blob").filter(pk=attachment_id).first()
    if (
        attachment is None
        or attachment.preview_blob_id is not None
        or attachment.removed_at is not None
        or attachment.blob.content_type != DOCX_MIME
    ):
        return
    try:
        pdf = docx_to_pdf(b"".join(open_blob(attachment.blob)))
    except RenderFailed as exc:
        logger.warning("preview of attachment %s failed: %s", attachment_id, exc.message)
        return
    preview = put(io.BytesIO(pdf), actor=None)
    with transaction.atomic():
        locked = Attachment.objects.select_for_update().get(pk=attachment_id)
        if locked.preview_blob_id is not None or locked.document.is_archived:
            return
        locked.preview_blob = preview
        locked.save(update_fields=["preview_blob"])
        record(
            "documents.attachment_preview_made",
            actor=None,
            obj=locked.document,
            actor_label="后台任务",
            details={"attachment_id": locked.pk, "blob_id": preview.pk},
        )


def remove_attachment(attachment: Attachment, *, actor: Any) -> Attachment:
    """Soft removal (removed_at): the file stays for the record, the rest move up one place."""
    with transaction.atomic():
        locked = _lock_editable(attachment.document, actor)
        current = Attachment.objects.select_for_update().get(pk=attachment.pk, document=locked)
        if current.removed_at is not None:
            raise DocumentError("该附件已删除。")
        current.removed_at = timezone.now()
        current.save(update_fields=["removed_at"])
        _renumber_and_note(locked)
        record("documents.attachment_removed", actor=actor, obj=locked, details={"attachment_id": current.pk})
        emit("documents.document.changed", locked, payload={"attachment_removed": current.pk})
    return current


def reorder(document: OfficialDocument, *, actor: Any, attachment_ids: Sequence[int]) -> list[Attachment]:
    """Put the live attachments in the given order (every live attachment named exactly once)."""
    with transaction.atomic():
        locked = _lock_editable(document, actor)
        live = {a.pk: a for a in live_attachments(locked)}
        wanted = [int(i) for i in attachment_ids]
        if sorted(wanted) != sorted(live):
            raise DocumentError("附件列表已变化，请刷新页面后重新排序。")
        for position, pk in enumerate(wanted, 1):
            Attachment.objects.filter(pk=pk).update(order=position)
        _renumber_and_note(locked)
        record("documents.attachments_reordered", actor=actor, obj=locked, details={"order": wanted})
        emit("documents.document.changed", locked, payload={"attachments_reordered": True})
    document.attachment_note = locked.attachment_note
    return list(live_attachments(locked))


class DocumentFilesReferrer:
    """Attachment files, their PDF previews and renderings: readable by whoever may open the
    document holding them (documents.access). A removed attachment's file is kept (referenced)
    for the record but no longer served."""

    name = "documents.files"

    def can_read(self, user: Any, blob: Blob) -> bool:
        holders = Attachment.objects.filter(
            Q(blob=blob) | Q(preview_blob=blob), removed_at__isnull=True
        ).values("document_id")
        rendered = Rendering.objects.filter(blob=blob).values("document_id")
        return visible_documents(user).filter(Q(pk__in=holders) | Q(pk__in=rendered)).exists()

    def referenced_blob_ids(self) -> QuerySet[Any]:
        # Through Blob's own pk: a NOT IN over a column holding NULLs (preview_blob_id) would
        # exclude every row and stop the retention job from ever removing anything.
        return Blob.objects.filter(
            Q(pk__in=Attachment.objects.values("blob_id"))
            | Q(pk__in=Attachment.objects.filter(preview_blob__isnull=False).values("preview_blob_id"))
            | Q(pk__in=Rendering.objects.filter(blob__isnull=False).values("blob_id"))
        ).values("pk")


__all__ = [
    "ATTACHMENT_TYPES",
    "DocumentFilesReferrer",
    "add_attachment",
    "attachment_note",
    "live_attachments",
    "produce_preview",
    "remove_attachment",
    "reorder",
]
