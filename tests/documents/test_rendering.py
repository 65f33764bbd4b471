"""排版 glue: what the office notices when a document is laid out, rendered, exported — or fails."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from documents.errors import DocumentError, RenderFailed
from documents.models import (
    Attachment,
    CoIssuer,
    Letterhead,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
)
from documents.rendering import (
    produce,
    render_now,
    render_pdf,
    request_rendering,
    spec_for,
)
from documents.tasks import produce_rendering
from documents.versions import save_version
from officeapp.audit.models import AuditEvent
from officeapp.blobs.services import open_blob, put
from officeapp.outbox.models import OutboxEvent
from tests.documents.factories import SAMPLE_BODY, make_document
from tests.documents.gbt9704_reading import Docx

NUMBER = "粤府办〔2026〕12号"


def numbered(cast: Any, **fields: Any) -> OfficialDocument:
    """A draft with the fields 编号 and 签发 would have set (their services are not under test)."""
    document = make_document(cast)
    values = {
        "doc_number": NUMBER,
        "issued_on": date(2026, 6, 8),
        "printed_on": date(2026, 6, 9),
        "remark": "此件公开发布",
        "signer_names": "张三，李四",
    }
    values.update(fields)
    OfficialDocument.objects.filter(pk=document.pk).update(**values)
    document.refresh_from_db()
    return document


def attach(document: OfficialDocument, cast: Any, title: str, order: int, **fields: Any) -> Attachment:
    return Attachment.objects.create(
        document=document,
        order=order,
        title=title,
        blob=put(io.BytesIO(f"附件内容 {title}".encode()), actor=None),
        filename=f"{order}.pdf",
        added_by=cast.drafter,
        **fields,
    )


def test_spec_for_reads_the_document_its_letterhead_recipients_and_attachments(cast: Any) -> None:
    Letterhead.objects.create(
        agency=cast.gov_office,
        name="文件版头",
        mark_text="广东省人民政府办公厅文件",
        number_prefix="粤府办",
        is_default=True,
    )
    document = numbered(cast)
    attach(document, cast, "防汛责任人名单", 1)
    attach(document, cast, "值班表", 2)
    attach(document, cast, "已删除的附件", 3, removed_at=timezone.now())

    spec = spec_for(document)

    assert spec.mark_texts == ["广东省人民政府办公厅文件"]
    assert spec.doc_number == NUMBER
    assert spec.title == document.title
    assert spec.main_recipients == "省财政厅"
    assert spec.cc == "省教育厅"
    assert spec.body == SAMPLE_BODY
    assert spec.attachments == ["防汛责任人名单", "值班表"]
    assert spec.issuers == ["广东省人民政府办公厅"]
    assert spec.issued_on == date(2026, 6, 8)
    assert spec.printed_by == "广东省人民政府办公厅"
    assert spec.signers == ["张三", "李四"]
    assert spec.remark == "此件公开发布"
    assert spec.urgency == "" and spec.classification == ""


def test_spec_for_prefers_the_written_main_recipients_and_lists_co_issuers(cast: Any) -> None:
    document = numbered(cast, main_recipients_text="各地级以上市人民政府，省政府各部门")
    CoIssuer.objects.create(document=document, agency=cast.finance, order=1)

    spec = spec_for(document)

    assert spec.main_recipients == "各地级以上市人民政府，省政府各部门"
    assert spec.issuers == ["广东省人民政府办公厅", "广东省财政厅"]
    assert spec.mark_texts == ["广东省人民政府办公厅", "广东省财政厅"]
    assert spec.mark_suffix == "文件"


def test_spec_for_an_older_version_uses_that_version_text(cast: Any) -> None:
    document = numbered(cast)
    first = document.current_version
    save_version(document, actor=cast.drafter, body=[{"kind": "p", "text": "第二稿"}], based_on=1)
    document.refresh_from_db()

    assert spec_for(document).body == [{"kind": "p", "text": "第二稿"}]
    assert spec_for(document, version=first).body == SAMPLE_BODY


def test_render_now_stores_a_ready_docx_of_the_current_version_with_audit_and_outbox(cast: Any) -> None:
    document = numbered(cast)

    rendering = render_now(document, actor=cast.office_secretary, kind=RenderKind.DOCX)

    assert rendering.status == RenderStatus.READY
    assert rendering.version == document.current_version
    assert rendering.finished_at is not None
    produced = Docx(b"".join(open_blob(rendering.blob)))
    assert produced.para("^" + NUMBER + "$")
    assert AuditEvent.objects.filter(action="documents.rendered", object_id=str(rendering.pk)).exists()
    assert OutboxEvent.objects.filter(topic="documents.rendering.ready", object_id=str(rendering.pk)).exists()
    # Audit details hold ids and kinds, never the document's text.
    for event in AuditEvent.objects.filter(action__startswith="documents.render"):
        assert document.title not in str(event.details)


def test_request_rendering_is_pending_and_queues_the_worker_only_on_commit(
    cast: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    document = numbered(cast)
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr("officeapp.worker.tasks.enqueue", lambda *args, **kwargs: queued.append(args))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rendering = request_rendering(document, actor=cast.office_secretary, kind=RenderKind.PDF)
        assert queued == []
    for callback in callbacks:
        callback()

    assert rendering.status == RenderStatus.PENDING
    assert queued == [("documents.tasks.produce_rendering", rendering.pk)]
    assert AuditEvent.objects.filter(
        action="documents.rendering_requested", object_id=str(rendering.pk)
    ).exists()


def test_a_pdf_failure_marks_the_rendering_failed_with_a_reason_and_leaves_the_document_as_it_was(
    cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = numbered(cast)
    before = OfficialDocument.objects.values().get(pk=document.pk)

    def broken(docx: bytes) -> bytes:
        raise RenderFailed("版式文件生成超时（超过180秒），请稍后重试。")

    monkeypatch.setattr("documents.rendering.docx_to_pdf", broken)
    rendering = render_now(document, actor=cast.office_secretary, kind=RenderKind.PDF)

    assert rendering.status == RenderStatus.FAILED
    assert rendering.error == "版式文件生成超时（超过180秒），请稍后重试。"
    assert rendering.blob is None
    assert OfficialDocument.objects.values().get(pk=document.pk) == before
    assert OutboxEvent.objects.filter(
        topic="documents.rendering.failed", object_id=str(rendering.pk)
    ).exists()


def test_an_unexpected_error_is_a_failed_rendering_with_a_chinese_reason(
    cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = numbered(cast)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr("documents.rendering.put", broken, raising=False)
    monkeypatch.setattr("officeapp.blobs.services.put", broken)
    rendering = render_now(document, actor=cast.office_secretary, kind=RenderKind.DOCX)

    assert rendering.status == RenderStatus.FAILED
    assert "系统内部错误" in rendering.error
    assert "disk full" not in rendering.error


def test_a_doc_number_in_the_wrong_form_fails_the_rendering_naming_the_rule(cast: Any) -> None:
    document = numbered(cast, doc_number="粤府办[2026]12号")

    rendering = render_now(document, actor=cast.office_secretary, kind=RenderKind.DOCX)

    assert rendering.status == RenderStatus.FAILED
    assert "G14" in rendering.error


def test_produce_twice_does_the_work_once(cast: Any) -> None:
    document = numbered(cast)
    rendering = render_now(document, actor=cast.office_secretary, kind=RenderKind.DOCX)
    events = AuditEvent.objects.count()

    produce_rendering(rendering.pk)
    produce(rendering.pk)

    assert AuditEvent.objects.count() == events
    assert Rendering.objects.get(pk=rendering.pk).blob_id == rendering.blob_id


def test_the_worker_task_produces_a_pending_rendering(cast: Any) -> None:
    document = numbered(cast)
    rendering = request_rendering(document, actor=cast.office_secretary, kind=RenderKind.DOCX)

    produce_rendering(rendering.pk)

    rendering.refresh_from_db()
    assert rendering.status == RenderStatus.READY


def test_an_outsider_cannot_request_a_rendering(cast: Any) -> None:
    document = numbered(cast)

    with pytest.raises(DocumentError, match="无权"):
        request_rendering(document, actor=cast.outsider, kind=RenderKind.DOCX)
    assert not Rendering.objects.filter(document=document).exists()


def test_a_rendering_file_is_readable_by_who_sees_the_document_only(cast: Any) -> None:
    from officeapp.blobs.referrers import all_referrers

    document = numbered(cast)
    rendering = render_now(document, actor=cast.drafter, kind=RenderKind.DOCX)

    assert any(r.can_read(cast.drafter, rendering.blob) for r in all_referrers())
    assert not any(r.can_read(cast.outsider, rendering.blob) for r in all_referrers())


@pytest.mark.skipif(shutil.which(settings.LIBREOFFICE_BIN) is None, reason="LibreOffice 未安装")
def test_render_pdf_makes_a_pdf_and_writes_nothing(cast: Any) -> None:
    document = numbered(cast)
    renderings, events = Rendering.objects.count(), AuditEvent.objects.count()

    pdf = render_pdf(document)

    assert pdf.startswith(b"%PDF")
    assert (Rendering.objects.count(), AuditEvent.objects.count()) == (renderings, events)


def test_export_document_by_doc_number_writes_the_docx(cast: Any, tmp_path: Path) -> None:
    numbered(cast)
    out = tmp_path / "公文.docx"

    call_command("export_document", NUMBER, "--format", "docx", "--out", str(out))

    assert Docx(out.read_bytes()).para("^" + NUMBER + "$")


def test_export_document_writes_the_ready_rendering_when_there_is_one(cast: Any, tmp_path: Path) -> None:
    document = numbered(cast)
    rendering = render_now(document, actor=cast.office_secretary, kind=RenderKind.DOCX)
    out = tmp_path / "out.docx"

    call_command("export_document", str(document.pk), "--format", "docx", "--out", str(out))

    assert out.read_bytes() == b"".join(open_blob(rendering.blob))


def test_export_document_by_id_writes_the_pdf(
    cast: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = numbered(cast)
    monkeypatch.setattr("documents.rendering.docx_to_pdf", lambda docx: b"%PDF-1.7 from " + docx[:2])
    out = tmp_path / "out.pdf"

    call_command("export_document", str(document.pk), "--format", "pdf", "--out", str(out))

    assert out.read_bytes() == b"%PDF-1.7 from PK"


def test_export_document_of_an_unknown_document_says_so_in_chinese(cast: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="未找到公文"):
        call_command("export_document", "粤府办〔2026〕999号", "--out", str(tmp_path / "x.pdf"))


def test_export_document_reports_a_render_failure_in_chinese(
    cast: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = numbered(cast)

    def broken(docx: bytes) -> bytes:
        raise RenderFailed("版式文件生成失败：找不到 LibreOffice（soffice），请联系系统管理员。")

    monkeypatch.setattr("documents.rendering.docx_to_pdf", broken)
    with pytest.raises(CommandError, match="找不到 LibreOffice"):
        call_command("export_document", str(document.pk), "--format", "pdf", "--out", str(tmp_path / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()


def test_the_processing_sheet_lists_every_step_with_person_time_in_shanghai_and_opinion() -> None:
    from datetime import UTC, datetime

    from documents.processing_sheet import SheetRow, render_processing_sheet

    data = render_processing_sheet(
        "关于做好防汛工作的通知",
        NUMBER,
        [
            SheetRow(
                step="拟稿", person="王小明", at=datetime(2026, 6, 1, 1, 5, tzinfo=UTC), opinion="请审核"
            ),
            ("签发", "李副省长", datetime(2026, 6, 2, 16, 30, tzinfo=UTC), "同意"),
        ],
    )

    sheet = Docx(data)
    assert sheet.para("^发文处理单$")
    assert sheet.para("^标题：关于做好防汛工作的通知$")
    assert sheet.para("^发文字号：" + NUMBER + "$")
    cells = [p.text for p in sheet.paragraphs()[3:]]
    assert cells[:4] == ["环节", "办理人", "时间", "意见"]
    # 01:05 UTC is 09:05 in Beijing; 16:30 UTC is past midnight there: the next day.
    assert cells[4:8] == ["拟稿", "王小明", "2026年6月1日 09:05", "请审核"]
    assert cells[8:12] == ["签发", "李副省长", "2026年6月3日 00:30", "同意"]


def test_an_unnumbered_document_sheet_says_so() -> None:
    from documents.processing_sheet import render_processing_sheet

    sheet = Docx(render_processing_sheet("关于做好防汛工作的通知", "", []))
    assert sheet.para("^发文字号：（未编号）$")
