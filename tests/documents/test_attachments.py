"""附件: what a drafter notices when she adds, removes and orders attachments, and the 附件说明."""

from __future__ import annotations

import io
import shutil
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from reportlab.pdfgen import canvas

from documents.attachments import (
    DocumentFilesReferrer,
    add_attachment,
    attachment_note,
    live_attachments,
    remove_attachment,
    reorder,
)
from documents.errors import DocumentError, DocumentFrozen
from documents.models import DocumentState, OfficialDocument
from officeapp.audit.models import AuditEvent
from officeapp.blobs.checks import UploadRefused
from officeapp.blobs.models import Blob
from tests.documents.factories import make_document


def pdf_bytes(pages: int = 1) -> bytes:
    out = io.BytesIO()
    drawing = canvas.Canvas(out)
    for n in range(pages):
        drawing.drawString(72, 720, f"page {n + 1}")
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_an_attachment_is_stored_numbered_and_named_in_the_attachment_note(cast: Any) -> None:
    document = make_document(cast)

    attachment = add_attachment(
        document, actor=cast.drafter, upload=upload("名单.pdf", pdf_bytes()), title="防汛责任人名单。"
    )

    assert attachment.order == 1
    assert attachment.title == "防汛责任人名单"  # G25: no closing punctuation
    assert attachment.filename == "名单.pdf"
    assert attachment.blob.size > 0
    document.refresh_from_db()
    assert document.attachment_note == "附件：防汛责任人名单"
    assert AuditEvent.objects.filter(action="documents.attachment_added").count() == 1


def test_several_attachments_are_numbered_and_aligned_under_the_first_name(cast: Any) -> None:
    document = make_document(cast)
    add_attachment(document, actor=cast.drafter, upload=upload("a.pdf", pdf_bytes()), title="防汛责任人名单")
    add_attachment(document, actor=cast.drafter, upload=upload("b.png", png_bytes()), title="值班表")

    assert attachment_note(document) == "附件：1.防汛责任人名单\n\u3000\u3000\u30002.值班表"


def test_a_missing_title_falls_back_to_the_file_name(cast: Any) -> None:
    document = make_document(cast)

    attachment = add_attachment(
        document, actor=cast.drafter, upload=upload("值班安排表.pdf", pdf_bytes()), title=""
    )

    assert attachment.title == "值班安排表"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("说明.txt", "这是一段纯文本".encode(), "不支持的文件类型"),
        ("名单.pdf", b"", "文件为空"),
        ("名单.docx", None, "扩展名与实际内容不符"),
    ],
)
def test_a_refused_file_is_never_stored(cast: Any, name: str, data: bytes | None, message: str) -> None:
    document = make_document(cast)
    before = Blob.objects.count()

    with pytest.raises(UploadRefused, match=message):
        add_attachment(
            document, actor=cast.drafter, upload=upload(name, data if data is not None else pdf_bytes())
        )

    assert Blob.objects.count() == before
    assert not document.attachments.exists()


def test_a_file_over_the_size_limit_is_refused(cast: Any, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 100
    document = make_document(cast)

    with pytest.raises(UploadRefused, match="文件过大"):
        add_attachment(document, actor=cast.drafter, upload=upload("a.pdf", pdf_bytes()), title="名单")


@pytest.mark.parametrize("state", [DocumentState.TYPESET, DocumentState.SEAL, DocumentState.DISTRIBUTE])
def test_attachments_cannot_change_once_the_document_is_frozen(cast: Any, state: str) -> None:
    document = make_document(cast)
    attachment = add_attachment(
        document, actor=cast.drafter, upload=upload("a.pdf", pdf_bytes()), title="名单"
    )
    OfficialDocument.objects.filter(pk=document.pk).update(state=state)
    document.refresh_from_db()

    with pytest.raises(DocumentFrozen):
        add_attachment(document, actor=cast.drafter, upload=upload("b.png", png_bytes()), title="值班表")
    with pytest.raises(DocumentFrozen):
        remove_attachment(attachment, actor=cast.drafter)


def test_someone_who_cannot_see_the_document_cannot_attach(cast: Any) -> None:
    document = make_document(cast)

    with pytest.raises(PermissionDenied):
        add_attachment(document, actor=cast.outsider, upload=upload("a.pdf", pdf_bytes()), title="名单")


def test_removing_keeps_the_file_and_renumbers_the_rest(cast: Any) -> None:
    document = make_document(cast)
    first = add_attachment(document, actor=cast.drafter, upload=upload("a.pdf", pdf_bytes()), title="名单")
    second = add_attachment(document, actor=cast.drafter, upload=upload("b.png", png_bytes()), title="值班表")

    remove_attachment(first, actor=cast.drafter)

    first.refresh_from_db()
    assert first.removed_at is not None
    assert [(a.pk, a.order) for a in live_attachments(document)] == [(second.pk, 1)]
    document.refresh_from_db()
    assert document.attachment_note == "附件：值班表"
    with pytest.raises(DocumentError, match="已删除"):
        remove_attachment(first, actor=cast.drafter)


def test_reordering_changes_the_numbers_in_the_note(cast: Any) -> None:
    document = make_document(cast)
    a = add_attachment(document, actor=cast.drafter, upload=upload("a.pdf", pdf_bytes()), title="名单")
    b = add_attachment(document, actor=cast.drafter, upload=upload("b.png", png_bytes()), title="值班表")

    reorder(document, actor=cast.drafter, attachment_ids=[b.pk, a.pk])

    assert attachment_note(document) == "附件：1.值班表\n\u3000\u3000\u30002.名单"
    with pytest.raises(DocumentError, match="刷新页面"):
        reorder(document, actor=cast.drafter, attachment_ids=[b.pk])


def test_the_referrer_lets_only_people_who_see_the_document_read_its_files(cast: Any) -> None:
    document = make_document(cast)
    attachment = add_attachment(
        document, actor=cast.drafter, upload=upload("a.pdf", pdf_bytes()), title="名单"
    )
    referrer = DocumentFilesReferrer()

    assert referrer.can_read(cast.drafter, attachment.blob)
    assert referrer.can_read(cast.office_secretary, attachment.blob)
    assert not referrer.can_read(cast.outsider, attachment.blob)
    assert not referrer.can_read(cast.other_clerk, attachment.blob)
    assert attachment.blob_id in set(referrer.referenced_blob_ids().values_list("pk", flat=True))

    remove_attachment(attachment, actor=cast.drafter)
    assert not referrer.can_read(cast.drafter, attachment.blob)
    # Still kept for the record: the retention job must not delete it.
    assert attachment.blob_id in set(referrer.referenced_blob_ids().values_list("pk", flat=True))


# --- previews of Word attachments (worker) --------------------------------------------------------


def docx_bytes(text: str = "防汛责任人名单") -> bytes:
    from docx import Document

    out = io.BytesIO()
    word = Document()
    word.add_paragraph(text)
    word.save(out)
    return out.getvalue()


def test_a_word_attachment_queues_its_preview_after_commit_and_a_pdf_does_not(
    cast: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from documents import attachments

    queued: list[int] = []
    monkeypatch.setattr(attachments, "_enqueue_preview", queued.append)
    document = make_document(cast)

    with django_capture_on_commit_callbacks(execute=True):
        word = add_attachment(
            document, actor=cast.drafter, upload=upload("名单.docx", docx_bytes()), title="名单"
        )
        add_attachment(document, actor=cast.drafter, upload=upload("表.pdf", pdf_bytes()), title="值班表")

    assert queued == [word.pk]


@pytest.mark.skipif(not shutil.which("soffice"), reason="needs LibreOffice (soffice)")
def test_the_worker_makes_a_pdf_preview_of_a_word_attachment_once(cast: Any) -> None:
    from documents.attachments import produce_preview

    document = make_document(cast)
    word = add_attachment(
        document, actor=cast.drafter, upload=upload("名单.docx", docx_bytes()), title="名单"
    )

    produce_preview(word.pk)
    word.refresh_from_db()
    first = word.preview_blob_id
    produce_preview(word.pk)
    word.refresh_from_db()

    assert word.preview_blob is not None and word.preview_blob.content_type == "application/pdf"
    assert word.preview_blob_id == first
    assert AuditEvent.objects.filter(action="documents.attachment_preview_made").count() == 1


def test_a_failed_conversion_leaves_the_attachment_as_it_was(
    cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from documents import pdf
    from documents.attachments import produce_preview
    from documents.errors import RenderFailed

    def broken(data: bytes) -> bytes:
        raise RenderFailed("版式文件生成失败：排版稿无法转换为 PDF。")

    monkeypatch.setattr(pdf, "docx_to_pdf", broken)
    document = make_document(cast)
    word = add_attachment(
        document, actor=cast.drafter, upload=upload("名单.docx", docx_bytes()), title="名单"
    )

    produce_preview(word.pk)

    word.refresh_from_db()
    assert word.preview_blob is None
    assert word.removed_at is None
