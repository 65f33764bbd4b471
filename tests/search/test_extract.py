"""Attachment text extraction: .docx, PDF, .xlsx and plain text read in a child process, bounded in
size, time and length; a corrupt or hostile file gives a status, never an exception."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from officeapp.blobs.services import put
from search import extract
from search.extract import ensure_extracted, extract_file
from search.models import ExtractedText, ExtractionStatus


def _docx() -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("关于防汛防台风工作的通知")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "责任单位"
    table.cell(0, 1).text = "联系人"
    table.cell(1, 0).text = "省水利厅"
    table.cell(1, 1).text = "林小梅"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pdf(text: str = "Flood prevention 2026 budget") -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.showPage()
    page.drawString(72, 720, "second page reservoir")
    page.save()
    return out.getvalue()


def _xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "资金分配表"
    sheet.append(["地市", "乡村振兴资金（万元）"])
    sheet.append(["广州市", 1200])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _blob(data: bytes) -> Any:
    return put(io.BytesIO(data), actor=None)


@pytest.mark.django_db
def test_a_word_attachments_paragraphs_and_table_cells_are_extracted() -> None:
    row = ensure_extracted(_blob(_docx()), filename="通知.docx")

    assert row.status == ExtractionStatus.OK
    assert "关于防汛防台风工作的通知" in row.text
    assert "省水利厅" in row.text and "林小梅" in row.text


@pytest.mark.django_db
def test_every_page_of_a_pdf_attachment_is_extracted() -> None:
    row = ensure_extracted(_blob(_pdf()), filename="budget.pdf")

    assert row.status == ExtractionStatus.OK
    assert "Flood prevention 2026 budget" in row.text
    assert "reservoir" in row.text


@pytest.mark.django_db
def test_a_spreadsheets_sheet_names_and_cell_values_are_extracted() -> None:
    row = ensure_extracted(_blob(_xlsx()), filename="分配表.xlsx")

    assert row.status == ExtractionStatus.OK
    assert "资金分配表" in row.text
    assert "乡村振兴资金（万元）" in row.text
    assert "广州市\t1200" in row.text


@pytest.mark.django_db
def test_the_same_content_is_extracted_once_whatever_file_holds_it(monkeypatch: Any) -> None:
    blob = _blob(_docx())
    first = ensure_extracted(blob, filename="a.docx")
    monkeypatch.setattr(extract, "extract_blob", lambda *a, **k: pytest.fail("read again"))

    again = ensure_extracted(blob, filename="b.docx")

    assert again.pk == first.pk
    assert ExtractedText.objects.count() == 1


@pytest.mark.django_db
def test_a_file_above_the_size_bound_is_not_read(settings: Any, monkeypatch: Any) -> None:
    settings.SEARCH_EXTRACT_MAX_BYTES = 1000
    blob = _blob(_docx())  # a .docx is several kilobytes
    monkeypatch.setattr(extract, "extract_file", lambda *a, **k: pytest.fail("a large file was read"))

    row = ensure_extracted(blob, filename="大文件.docx")

    assert row.status == ExtractionStatus.TOO_LARGE
    assert row.text == ""


@pytest.mark.django_db
def test_the_text_is_cut_at_the_character_bound(settings: Any) -> None:
    settings.SEARCH_EXTRACT_MAX_CHARS = 50
    blob = _blob(("防汛" * 5000).encode())

    row = ensure_extracted(blob, filename="长文本.txt")

    assert row.status == ExtractionStatus.OK
    assert row.text == "防汛" * 25


@pytest.mark.django_db
def test_a_corrupt_file_is_marked_failed_without_an_exception() -> None:
    blob = _blob(b"PK\x03\x04" + b"\x00garbage" * 200)

    row = ensure_extracted(blob, filename="坏文件.docx")

    assert row.status == ExtractionStatus.FAILED
    assert row.text == ""
    assert row.detail  # the parser's complaint, for the administrator


@pytest.mark.django_db
def test_an_image_is_unsupported_and_found_by_name_only() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

    row = ensure_extracted(_blob(png), filename="现场照片.png")

    assert row.status == ExtractionStatus.UNSUPPORTED


def test_a_reader_that_hangs_is_killed_at_the_timeout(tmp_path: Path, monkeypatch: Any) -> None:
    # A hostile file that keeps the parser busy: the child never answers; the worker moves on.
    monkeypatch.setattr(
        extract, "_child_command", lambda *a: [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    path = tmp_path / "hostile.pdf"
    path.write_bytes(b"%PDF-1.4\n")

    started = time.monotonic()
    result = extract_file(path, kind="pdf", timeout=0.5, max_chars=1000)

    assert result.status == extract.TIMEOUT
    assert time.monotonic() - started < 10


@pytest.mark.django_db
def test_a_timeout_is_stored_as_such_and_not_retried(settings: Any, monkeypatch: Any) -> None:
    settings.SEARCH_EXTRACT_TIMEOUT_SECONDS = 0.5
    monkeypatch.setattr(
        extract, "_child_command", lambda *a: [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    blob = _blob(_pdf())

    row = ensure_extracted(blob, filename="slow.pdf")

    assert row.status == ExtractionStatus.TIMEOUT
    assert ExtractedText.objects.get(sha256=blob.sha256).status == ExtractionStatus.TIMEOUT


def test_the_child_reads_a_file_as_a_separate_python_process(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("乡村振兴 资金\x00安排", encoding="utf-8")

    result = extract_file(path, kind="text", timeout=30, max_chars=1000)

    assert result.status == extract.OK
    assert result.text == "乡村振兴 资金安排"  # NUL dropped: PostgreSQL text refuses it
