"""The viewer's watermark on every page of a downloaded or printed PDF.

A copy that leaves the platform says who took it: real name, employee number, time (Asia/Shanghai)
and agency, tiled diagonally in light grey over each page. reportlab draws one overlay per page
size (CID font STSong-Light, which every PDF reader carries, so no font file is embedded) and pypdf
merges it on top of the page. The stored file is never changed: each download gets its own copy.
"""

from __future__ import annotations

import datetime
import io
import math
from typing import Any

from django.utils import timezone
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from reportlab.lib.colors import Color
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from documents.errors import RenderFailed

FONT = "STSong-Light"
FONT_SIZE = 13
# Light grey, partly transparent: the text below stays readable in print and on screen.
GREY = Color(0.55, 0.55, 0.55, alpha=0.22)
ANGLE = 30
STEP_X = 260
STEP_Y = 140

_font_ready = False


def _ensure_font() -> None:
    global _font_ready
    if not _font_ready:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _font_ready = True


def watermark_text(user: Any, *, at: datetime.datetime | None = None) -> str:
    """ "林小梅 BGT001 2026-07-01 09:30 广东省人民政府办公厅": who, when (China time) and where."""
    moment = timezone.localtime(at or timezone.now())
    department = getattr(user, "department", None)
    agency = getattr(department, "agency", None) if department is not None else None
    parts = [
        getattr(user, "real_name", "") or getattr(user, "username", ""),
        getattr(user, "employee_no", "") or "",
        f"{moment:%Y-%m-%d %H:%M}",
        getattr(agency, "name", "") if agency is not None else "",
    ]
    return " ".join(p for p in parts if p)


def overlay_page(width: float, height: float, text: str) -> bytes:
    """One transparent page of `width`×`height` points with `text` tiled at ANGLE degrees."""
    _ensure_font()
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=(width, height))
    drawing.setFillColor(GREY)
    drawing.setFont(FONT, FONT_SIZE)
    # Rotate about the page centre and cover the page's diagonal, so no corner is left bare.
    reach = math.hypot(width, height)
    drawing.translate(width / 2, height / 2)
    drawing.rotate(ANGLE)
    y = -reach / 2
    row = 0
    while y < reach / 2:
        x = -reach / 2 + (STEP_X / 2 if row % 2 else 0)
        while x < reach / 2:
            drawing.drawString(x, y, text)
            x += STEP_X
        y += STEP_Y
        row += 1
    drawing.showPage()
    drawing.save()
    return out.getvalue()


def watermark_pdf(pdf: bytes, *, user: Any, at: datetime.datetime | None = None) -> bytes:
    """A copy of `pdf` with the user's watermark on every page. RenderFailed when it is not a
    readable PDF (or one protected by a password we do not have)."""
    text = watermark_text(user, at=at)
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted and not reader.decrypt(""):
            raise RenderFailed("该 PDF 文件设有密码，无法加盖水印，请上传未加密的文件。")
        # Pages are changed on the writer's copy (pypdf wants pages merged there, not on the reader's).
        writer = PdfWriter(clone_from=reader)
        overlays: dict[tuple[float, float], Any] = {}
        for page in writer.pages:
            # A rotated page is drawn in its unrotated space: turn the content first, so the
            # watermark is laid out on the page as the reader sees it.
            if page.rotation:
                page.transfer_rotation_to_content()
            box = page.mediabox
            size = (float(box.width), float(box.height))
            if size not in overlays:
                overlays[size] = PdfReader(io.BytesIO(overlay_page(*size, text))).pages[0]
            overlay = overlays[size]
            # The overlay starts at (0, 0); a media box with another origin needs the offset.
            page.merge_translated_page(overlay, float(box.left), float(box.bottom), over=True)
        out = io.BytesIO()
        writer.write(out)
    except RenderFailed:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RenderFailed("PDF 文件无法读取，不能加盖水印。") from exc
    return out.getvalue()


__all__ = ["overlay_page", "watermark_pdf", "watermark_text"]


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def watermark_docx(content: bytes, *, user: Any, at: datetime.datetime | None = None) -> bytes:
    """The viewer's watermark in every header of a downloaded .docx (first, odd and even pages).

    A Word copy is editable, so this marks rather than protects: whoever prints or forwards it
    prints or forwards their own name. The text sits in the 天头 (37 mm), above the 版心, so the GB/T
    9704 layout of the body is untouched. The stored file is never changed.
    """
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from docx.shared import Pt, RGBColor

    try:
        document = Document(io.BytesIO(content))
    except (PackageNotFoundError, ValueError, KeyError) as exc:
        raise RenderFailed("文件无法读取，不能加水印。") from exc
    text = f"{watermark_text(user, at=at)} 下载"
    for section in document.sections:
        headers = [section.header]
        if document.settings.odd_and_even_pages_header_footer:
            headers.append(section.even_page_header)
        if section.different_first_page_header_footer:
            headers.append(section.first_page_header)
        for header in headers:
            header.is_linked_to_previous = False
            paragraph = header.add_paragraph()
            run = paragraph.add_run(text)
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x99, 0x99, 0x99)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
