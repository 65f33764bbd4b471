"""Downloaded and printed PDFs carry the viewer's watermark on every page."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4, landscape

from documents.errors import RenderFailed
from documents.watermark import watermark_pdf, watermark_text
from tests.documents.test_attachments import pdf_bytes

MOMENT = datetime.datetime(2026, 7, 1, 1, 30, tzinfo=datetime.UTC)  # 09:30 in Asia/Shanghai


def test_the_text_names_the_person_their_number_the_time_in_china_and_their_agency(cast: Any) -> None:
    assert watermark_text(cast.drafter, at=MOMENT) == "林小梅 BGT001 2026-07-01 09:30 广东省人民政府办公厅"


def test_every_page_carries_the_watermark(cast: Any) -> None:
    marked = watermark_pdf(pdf_bytes(pages=3), user=cast.drafter, at=MOMENT)

    reader = PdfReader(io.BytesIO(marked))
    assert len(reader.pages) == 3
    for number, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        assert "BGT001" in text
        assert f"page {number}" in text  # the page's own content is still there


def test_chinese_names_are_drawn_in_the_cid_font(cast: Any) -> None:
    marked = watermark_pdf(pdf_bytes(), user=cast.drafter, at=MOMENT)

    page = PdfReader(io.BytesIO(marked)).pages[0]
    fonts = {str(f["/BaseFont"]) for f in page["/Resources"]["/Font"].get_object().values()}
    assert any("STSong-Light" in f for f in fonts)


def test_the_chinese_name_is_readable_text_in_the_copy(cast: Any) -> None:
    marked = watermark_pdf(pdf_bytes(), user=cast.drafter, at=MOMENT)

    assert "林小梅 BGT001 2026-07-01 09:30" in PdfReader(io.BytesIO(marked)).pages[0].extract_text()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
def test_the_watermark_is_light_and_tiled_over_every_quarter_of_the_page(cast: Any, tmp_path: Path) -> None:
    from PIL import Image
    from reportlab.pdfgen import canvas

    blank = io.BytesIO()
    drawing = canvas.Canvas(blank, pagesize=A4)
    drawing.showPage()
    drawing.save()
    source = tmp_path / "marked.pdf"
    source.write_bytes(watermark_pdf(blank.getvalue(), user=cast.drafter, at=MOMENT))
    subprocess.run(  # noqa: S603 - fixed binary, our own temporary files
        ["pdftoppm", "-r", "30", "-gray", "-png", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    image = Image.open(tmp_path / "page.png").convert("L")
    width, height = image.size

    for left, top in [(0, 0), (width // 2, 0), (0, height // 2), (width // 2, height // 2)]:
        quarter = image.crop((left, top, left + width // 2, top + height // 2))
        darkest = quarter.getextrema()[0]
        assert darkest < 250, "every quarter of the page carries some watermark"
        assert darkest > 120, "the watermark is light grey, never black over the text"


def test_pages_of_another_size_and_rotation_are_covered_too(cast: Any) -> None:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=landscape(A4))
    drawing.drawString(72, 72, "wide table")
    drawing.showPage()
    drawing.save()
    reader = PdfReader(io.BytesIO(out.getvalue()))
    writer = PdfWriter()
    writer.add_page(reader.pages[0])
    writer.pages[0].rotate(90)
    rotated = io.BytesIO()
    writer.write(rotated)

    marked = PdfReader(io.BytesIO(watermark_pdf(rotated.getvalue(), user=cast.drafter, at=MOMENT)))

    assert "BGT001" in marked.pages[0].extract_text()


def test_the_stored_file_is_left_as_it_was(cast: Any) -> None:
    original = pdf_bytes()
    copy = bytes(original)

    watermark_pdf(original, user=cast.drafter)

    assert original == copy


def test_something_that_is_not_a_pdf_is_refused_with_a_message(cast: Any) -> None:
    with pytest.raises(RenderFailed, match="无法读取"):
        watermark_pdf(b"%PDF-1.4 broken", user=cast.drafter)


def test_a_downloaded_docx_carries_the_viewers_name_in_every_header(cast: Any) -> None:
    import io

    import docx

    from documents.watermark import watermark_docx

    source = docx.Document()
    source.add_paragraph("正文")
    buffer = io.BytesIO()
    source.save(buffer)

    marked = docx.Document(io.BytesIO(watermark_docx(buffer.getvalue(), user=cast.drafter)))

    header_text = "\n".join(p.text for s in marked.sections for p in s.header.paragraphs)
    assert "林小梅" in header_text and "BGT001" in header_text
    assert marked.paragraphs[0].text == "正文"
