"""The python-docx set-up every printable sheet shares (发文处理单, 收文处理单, 退文通知单, 督办通知单):
an A4 page with GB/T 9704 margins and default face, the centred 小标宋 title, and bordered tables —
a grid with a 黑体 header row, or a fact table of 黑体 labels beside 仿宋 values.

One place, so the sheets cannot drift apart in page, faces or borders. Knows no ORM: callers hand
it plain strings (documents is the lower app; workflows builds its sheets on this too).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Emu

from documents import ooxml
from documents.gbt9704 import (
    FANGSONG,
    HEITI,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    SIZE_2,
    TEXT_WIDTH,
    XIAOBIAOSONG,
)

__all__ = ["add_fact_table", "add_grid", "add_title", "new_sheet", "sheet_bytes"]


def new_sheet(*, half_points: int) -> DocxDocument:
    """An empty A4 document with GB/T 9704 margins, 仿宋 at `half_points` by default."""
    document = Document()
    section = document.sections[0]
    section.page_width = Emu(PAGE_WIDTH * ooxml.EMU_PER_TWIP)
    section.page_height = Emu(PAGE_HEIGHT * ooxml.EMU_PER_TWIP)
    section.top_margin = Emu(MARGIN_TOP * ooxml.EMU_PER_TWIP)
    section.left_margin = Emu(MARGIN_LEFT * ooxml.EMU_PER_TWIP)
    section.right_margin = Emu(MARGIN_RIGHT * ooxml.EMU_PER_TWIP)
    section.bottom_margin = Emu(MARGIN_BOTTOM * ooxml.EMU_PER_TWIP)
    ooxml.set_document_defaults(document, face=FANGSONG, half_points=half_points)
    return document


def add_title(document: DocxDocument, text: str) -> None:
    """The sheet's name, centred, 小标宋 二号."""
    heading = document.add_paragraph()
    ooxml.set_alignment(heading, "center")
    ooxml.style_run(heading.add_run(text), face=XIAOBIAOSONG, half_points=SIZE_2)


def _bordered_table(document: DocxDocument, rows: int, columns: list[int]) -> Any:
    table = document.add_table(rows=rows, cols=len(columns))
    ooxml.set_table_geometry(table, width=TEXT_WIDTH, columns=columns, cell_margin=80)
    line = ("single", 4, ooxml.BLACK)
    ooxml.set_table_borders(table, top=line, left=line, bottom=line, right=line, insideH=line, insideV=line)
    return table


def add_grid(
    document: DocxDocument,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    columns: list[int],
    *,
    half_points: int,
    center_header: bool = False,
) -> None:
    """A bordered table: one 黑体 header row, then the rows in 仿宋."""
    table = _bordered_table(document, 1 + len(rows), columns)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        paragraph = cell.paragraphs[0]
        if center_header:
            ooxml.set_alignment(paragraph, "center")
        ooxml.style_run(paragraph.add_run(text), face=HEITI, half_points=half_points)
    for row, texts in zip(table.rows[1:], rows, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            ooxml.style_run(cell.paragraphs[0].add_run(text), face=FANGSONG, half_points=half_points)


def add_fact_table(
    document: DocxDocument, facts: Sequence[tuple[str, str]], label_width: int, *, half_points: int
) -> None:
    """A bordered two-column table with no header: the 黑体 label beside its 仿宋 value."""
    table = _bordered_table(document, len(facts), [label_width, TEXT_WIDTH - label_width])
    for row, (label, value) in zip(table.rows, facts, strict=True):
        label_cell, value_cell = row.cells
        ooxml.style_run(label_cell.paragraphs[0].add_run(label), face=HEITI, half_points=half_points)
        ooxml.style_run(value_cell.paragraphs[0].add_run(value), face=FANGSONG, half_points=half_points)


def sheet_bytes(document: DocxDocument) -> bytes:
    """The finished sheet as .docx bytes."""
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
