"""Version history, 痕迹, file previews and downloads, and the 文号 register, as people use them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from docx import Document
from pypdf import PdfReader

from documents.attachments import add_attachment, remove_attachment
from documents.models import DocNumber, NumberState, OfficialDocument, Rendering, RenderKind, RenderStatus
from documents.numbering import assign_number, reserve_number
from documents.versions import save_version
from documents.views.versions import files_panel
from officeapp.audit.models import AuditEvent
from officeapp.blobs.services import put
from tests.documents.factories import make_document
from tests.documents.test_attachments import pdf_bytes, png_bytes


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def document(cast: Any) -> OfficialDocument:
    document = make_document(cast, body=[{"kind": "p", "text": "各地要加强值班值守。"}])
    save_version(
        document, actor=cast.drafter, body=[{"kind": "p", "text": "各地要严格值班值守。"}], based_on=1
    )
    return document


# --- versions and 痕迹 ----------------------------------------------------------------------------


def test_the_version_list_shows_every_save_with_its_author(cast: Any, document: Any, sign_in: Any) -> None:
    response = sign_in(cast.drafter).get(reverse("documents:versions", args=[document.pk]))

    text = response.content.decode()
    assert response.status_code == 200
    assert "第2版（当前）" in text and "第1版" in text
    assert "林小梅" in text
    assert "?old=1&amp;new=2" in text


def test_one_version_shows_its_own_text(cast: Any, document: Any, sign_in: Any) -> None:
    response = sign_in(cast.office_secretary).get(reverse("documents:version", args=[document.pk, 1]))

    assert "各地要加强值班值守。" in response.content.decode()
    assert "严格" not in response.content.decode()
    assert AuditEvent.objects.filter(action="documents.version.view", details__version=1).exists()


def test_a_version_that_does_not_exist_is_404(cast: Any, document: Any, sign_in: Any) -> None:
    response = sign_in(cast.drafter).get(reverse("documents:version", args=[document.pk, 9]))

    assert response.status_code == 404


def test_the_trace_marks_deleted_and_inserted_words(cast: Any, document: Any, sign_in: Any) -> None:
    response = sign_in(cast.drafter).get(reverse("documents:version_diff", args=[document.pk]))

    text = response.content.decode()
    assert response.status_code == 200
    assert "<del>加强</del>" in text and "<ins>严格</ins>" in text
    assert "增加 2 字，删除 2 字" in text


def test_any_two_versions_can_be_compared_and_the_text_is_escaped(
    cast: Any, document: Any, sign_in: Any
) -> None:
    save_version(
        document, actor=cast.drafter, body=[{"kind": "p", "text": "<script>alert(1)</script>"}], based_on=2
    )

    response = sign_in(cast.drafter).get(
        reverse("documents:version_diff", args=[document.pk]) + "?old=1&new=3"
    )

    text = response.content.decode()
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;" in text


@pytest.mark.parametrize(
    ("query", "message"), [("?old=abc&new=2", "“abc”不是版本号"), ("?old=1&new=7", "第7版不存在")]
)
def test_a_bad_version_number_is_explained_and_what_was_typed_stays(
    cast: Any, document: Any, sign_in: Any, query: str, message: str
) -> None:
    response = sign_in(cast.drafter).get(reverse("documents:version_diff", args=[document.pk]) + query)

    text = response.content.decode()
    assert response.status_code == 400
    assert message in text
    typed = query.split("&")[0].split("=")[1]
    assert f'value="{typed}"' in text


@pytest.mark.parametrize("name", ["documents:versions", "documents:version_diff"])
def test_the_outsider_gets_404_for_the_history(cast: Any, document: Any, sign_in: Any, name: str) -> None:
    assert sign_in(cast.outsider).get(reverse(name, args=[document.pk])).status_code == 404
    assert sign_in(cast.other_clerk).get(reverse(name, args=[document.pk])).status_code == 404


# --- attachments and renderings -------------------------------------------------------------------


def test_a_downloaded_pdf_attachment_carries_the_viewers_watermark_and_is_audited(
    cast: Any, document: Any, sign_in: Any
) -> None:
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.pdf", pdf_bytes()), title="名单"
    )

    response = sign_in(cast.office_secretary).get(
        reverse("documents:attachment_download", args=[document.pk, attachment.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    page = PdfReader(io.BytesIO(_content(response))).pages[0].extract_text()
    assert cast.office_secretary.real_name in page and "page 1" in page
    event = AuditEvent.objects.get(action="documents.attachment.download")
    assert event.actor_id == cast.office_secretary.pk
    assert event.details["watermarked"] is True and event.details["document_id"] == document.pk


def test_the_preview_fetch_is_inline_and_audited_as_a_view(cast: Any, document: Any, sign_in: Any) -> None:
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.pdf", pdf_bytes()), title="名单"
    )
    url = reverse("documents:attachment_download", args=[document.pk, attachment.pk])

    response = sign_in(cast.drafter).get(url + "?for=preview")

    assert response["Content-Disposition"].startswith("inline;")
    assert AuditEvent.objects.filter(action="documents.attachment.view").count() == 1


def test_an_image_attachment_is_served_as_it_is(cast: Any, document: Any, sign_in: Any) -> None:
    data = png_bytes()
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("值班表.png", data), title="值班表"
    )

    response = sign_in(cast.drafter).get(
        reverse("documents:attachment_download", args=[document.pk, attachment.pk])
    )

    assert _content(response) == data
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_pdf_preview_page_draws_the_watermarked_copy_with_pdfjs(
    cast: Any, document: Any, sign_in: Any
) -> None:
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.pdf", pdf_bytes()), title="名单"
    )

    response = sign_in(cast.drafter).get(
        reverse("documents:attachment_preview", args=[document.pk, attachment.pk])
    )

    text = response.content.decode()
    download = reverse("documents:attachment_download", args=[document.pk, attachment.pk])
    assert f'data-src="{download}?for=preview"' in text
    assert "pdf.min.mjs" in text and "pdf.worker.min.mjs" in text and 'type="module"' in text
    assert "<iframe" not in text


def test_a_word_attachment_without_a_preview_says_so(cast: Any, document: Any, sign_in: Any) -> None:
    out = io.BytesIO()
    word = Document()
    word.add_paragraph("名单")
    word.save(out)
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.docx", out.getvalue()), title="名单"
    )

    response = sign_in(cast.drafter).get(
        reverse("documents:attachment_preview", args=[document.pk, attachment.pk])
    )

    assert "暂无在线预览" in response.content.decode()
    assert "pdf-preview" not in response.content.decode()


def test_a_removed_attachment_is_gone_for_everyone(cast: Any, document: Any, sign_in: Any) -> None:
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.pdf", pdf_bytes()), title="名单"
    )
    remove_attachment(attachment, actor=cast.drafter)

    response = sign_in(cast.drafter).get(
        reverse("documents:attachment_download", args=[document.pk, attachment.pk])
    )

    assert response.status_code == 404


def test_the_outsider_gets_404_for_an_attachment(cast: Any, document: Any, sign_in: Any) -> None:
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.pdf", pdf_bytes()), title="名单"
    )

    for name in ("documents:attachment_download", "documents:attachment_preview"):
        assert sign_in(cast.outsider).get(reverse(name, args=[document.pk, attachment.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="documents.attachment.").exists()


def _rendering(cast: Any, document: Any, kind: str, data: bytes) -> Rendering:
    return Rendering.objects.create(
        document=document,
        version=document.current_version,
        kind=kind,
        status=RenderStatus.READY,
        blob=put(io.BytesIO(data), actor=cast.office_secretary),
    )


def test_a_rendered_pdf_downloads_watermarked_under_the_document_number(
    cast: Any, document: Any, sign_in: Any
) -> None:
    assign_number(document, actor=cast.office_secretary)
    document.refresh_from_db()
    rendering = _rendering(cast, document, RenderKind.PDF, pdf_bytes())

    response = sign_in(cast.office_director).get(
        reverse("documents:rendering_download", args=[document.pk, rendering.pk])
    )

    assert cast.office_director.real_name in PdfReader(io.BytesIO(_content(response))).pages[0].extract_text()
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="documents.rendering.download", details__kind="pdf").exists()


def _docx_header(content: bytes) -> str:
    return "\n".join(
        p.text for s in Document(io.BytesIO(content)).sections for p in s.header.paragraphs
    ).strip()


def test_a_docx_rendering_is_offered_for_download_not_preview(cast: Any, document: Any, sign_in: Any) -> None:
    out = io.BytesIO()
    Document().save(out)
    rendering = _rendering(cast, document, RenderKind.DOCX, out.getvalue())
    client = sign_in(cast.drafter)

    preview = client.get(reverse("documents:rendering_preview", args=[document.pk, rendering.pk]))
    download = client.get(reverse("documents:rendering_download", args=[document.pk, rendering.pk]))

    assert "不能在浏览器中预览" in preview.content.decode()
    assert _docx_header(_content(download)).startswith("林小梅")  # the viewer's watermarked copy


def test_a_rendering_still_in_progress_is_404(cast: Any, document: Any, sign_in: Any) -> None:
    rendering = Rendering.objects.create(
        document=document, version=document.current_version, kind=RenderKind.PDF
    )

    response = sign_in(cast.drafter).get(
        reverse("documents:rendering_preview", args=[document.pk, rendering.pk])
    )

    assert response.status_code == 404


def test_when_the_file_store_is_down_the_download_says_so(
    cast: Any, document: Any, sign_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from documents.views import versions as views
    from officeapp.blobs.backends import BlobStoreUnavailable

    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.pdf", pdf_bytes()), title="名单"
    )

    def down(blob: Any) -> Any:
        raise BlobStoreUnavailable()

    monkeypatch.setattr(views, "open_blob", down)
    response = sign_in(cast.drafter).get(
        reverse("documents:attachment_download", args=[document.pk, attachment.pk])
    )

    assert response.status_code == 503
    assert "文件存储服务" in response.content.decode()


def test_the_files_panel_links_versions_attachments_and_renderings(cast: Any, document: Any) -> None:
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.pdf", pdf_bytes()), title="名单"
    )
    rendering = _rendering(cast, document, RenderKind.PDF, pdf_bytes())
    request = RequestFactory().get("/")
    request.user = cast.drafter

    html = files_panel(request, document)

    assert reverse("documents:versions", args=[document.pk]) in html
    assert reverse("documents:attachment_preview", args=[document.pk, attachment.pk]) in html
    assert reverse("documents:rendering_preview", args=[document.pk, rendering.pk]) in html


# --- the 文号 register ----------------------------------------------------------------------------


def test_the_office_sees_the_years_numbers_with_their_state(cast: Any, sign_in: Any) -> None:
    numbered = make_document(cast)
    number = assign_number(numbered, actor=cast.office_secretary)
    reserve_number(cast.gov_office, actor=cast.office_secretary, prefix="粤府办", year=number.sequence.year)

    response = sign_in(cast.office_director).get(
        reverse("documents:number_register", args=[cast.gov_office.pk]) + f"?year={number.sequence.year}"
    )

    text = response.content.decode()
    assert number.text in text and "已使用" in text and "预留" in text
    assert "已使用 1 个，预留 1 个，作废 0 个" in text


def test_someone_outside_the_office_gets_403_for_the_register(cast: Any, sign_in: Any) -> None:
    url = reverse("documents:number_register", args=[cast.gov_office.pk])

    assert sign_in(cast.drafter).get(url).status_code == 403
    assert sign_in(cast.other_clerk).get(url).status_code == 403
    assert (
        sign_in(cast.office_secretary).get(reverse("documents:number_register", args=[999999])).status_code
        == 404
    )


def test_reserving_a_number_from_the_register(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.office_secretary).post(
        reverse("documents:number_reserve", args=[cast.gov_office.pk]),
        {"prefix": "粤府办", "year": "2026", "reason": "为全省会议通知预留"},
    )

    assert response.status_code == 302
    number = DocNumber.objects.get()
    assert (number.text, number.state, number.reason) == (
        "粤府办〔2026〕1号",
        NumberState.RESERVED,
        "为全省会议通知预留",
    )


def test_a_bad_year_is_refused_and_the_reason_typed_stays(cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.office_secretary).post(
        reverse("documents:number_reserve", args=[cast.gov_office.pk]),
        {"prefix": "粤府办", "year": "26", "reason": "为全省会议通知预留"},
    )

    text = response.content.decode()
    assert response.status_code == 400
    assert "年份应为四位数字" in text
    assert 'value="为全省会议通知预留"' in text
    assert not DocNumber.objects.exists()


def test_voiding_needs_a_reason_and_then_clears_the_documents_number(cast: Any, sign_in: Any) -> None:
    numbered = make_document(cast)
    number = assign_number(numbered, actor=cast.office_secretary)
    client = sign_in(cast.office_secretary)
    url = reverse("documents:number_void", args=[cast.gov_office.pk, number.pk])

    refused = client.post(url, {"reason": ""})
    done = client.post(url, {"reason": "标题有误"})

    assert refused.status_code == 400 and "请填写作废原因" in refused.content.decode()
    assert done.status_code == 302
    number.refresh_from_db()
    numbered.refresh_from_db()
    assert number.state == NumberState.VOIDED and numbered.doc_number == ""


def test_a_number_of_another_agency_is_404_in_this_register(cast: Any, sign_in: Any) -> None:
    from officeapp.org.models import Role
    from officeapp.org.services import grant_role

    grant_role(actor=None, user=cast.other_clerk, role=Role.OFFICE_SECRETARY, agency=cast.finance)
    theirs = reserve_number(cast.finance, actor=cast.other_clerk, prefix="粤财", year=2026)

    response = sign_in(cast.office_secretary).get(
        reverse("documents:number_void", args=[cast.gov_office.pk, theirs.pk])
    )

    assert response.status_code == 404


def test_a_word_attachment_with_a_made_preview_is_shown_as_its_watermarked_pdf(
    cast: Any, document: Any, sign_in: Any
) -> None:
    from documents.models import Attachment

    out = io.BytesIO()
    word = Document()
    word.add_paragraph("名单")
    word.save(out)
    attachment = add_attachment(
        document, actor=cast.drafter, upload=SimpleUploadedFile("名单.docx", out.getvalue()), title="名单"
    )
    Attachment.objects.filter(pk=attachment.pk).update(preview_blob=put(io.BytesIO(pdf_bytes()), actor=None))
    client = sign_in(cast.drafter)

    page = client.get(reverse("documents:attachment_preview", args=[document.pk, attachment.pk]))
    preview = client.get(
        reverse("documents:attachment_download", args=[document.pk, attachment.pk]) + "?for=preview"
    )
    download = client.get(reverse("documents:attachment_download", args=[document.pk, attachment.pk]))

    assert "pdf-preview" in page.content.decode()
    assert preview["Content-Type"] == "application/pdf" and preview["Content-Disposition"].endswith(
        "''%E5%90%8D%E5%8D%95.pdf"
    )  # 名单.pdf
    assert "林小梅" in PdfReader(io.BytesIO(_content(preview))).pages[0].extract_text()
    assert _docx_header(_content(download)).startswith("林小梅")
