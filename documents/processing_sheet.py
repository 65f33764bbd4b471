"""发文处理单 (.docx): every step of a 发文 process — 环节, 办理人, 时间, 意见 — as one printable table.

The caller (workflows) turns its Opinion rows into plain `SheetRow`s; this module knows no ORM.
Times are shown in Asia/Shanghai.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from docx import Document
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
    SIZE_3,
    SIZE_4,
    TEXT_WIDTH,
    XIAOBIAOSONG,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = ("环节", "办理人", "时间", "意见")
COLUMNS = [1400, 1400, 2800, TEXT_WIDTH - 5600]


@dataclass(frozen=True)
class SheetRow:
    step: str  # 环节: 拟稿, 处室审核, 会签（财政厅）…
    person: str  # 办理人 (with 代 when a delegate acted)
    at: datetime | str | None  # 时间
    opinion: str  # 意见


def _time(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(SHANGHAI) if value.tzinfo else value
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return value


def _row(row: SheetRow | Sequence[object]) -> tuple[str, str, str, str]:
    if isinstance(row, SheetRow):
        return row.step, row.person, _time(row.at), row.opinion
    step, person, at, opinion = row
    return (
        str(step),
        str(person),
        _time(at if isinstance(at, datetime) or at is None else str(at)),
        str(opinion),
    )


def render_processing_sheet(
    title: str, doc_number: str, rows: Iterable[SheetRow | Sequence[object]]
) -> bytes:
    """The 发文处理单 of one document as .docx bytes."""
    document = Document()
    section = document.sections[0]
    section.page_width = Emu(PAGE_WIDTH * ooxml.EMU_PER_TWIP)
    section.page_height = Emu(PAGE_HEIGHT * ooxml.EMU_PER_TWIP)
    section.top_margin = Emu(MARGIN_TOP * ooxml.EMU_PER_TWIP)
    section.left_margin = Emu(MARGIN_LEFT * ooxml.EMU_PER_TWIP)
    section.right_margin = Emu(MARGIN_RIGHT * ooxml.EMU_PER_TWIP)
    section.bottom_margin = Emu(MARGIN_BOTTOM * ooxml.EMU_PER_TWIP)
    ooxml.set_document_defaults(document, face=FANGSONG, half_points=SIZE_4)

    heading = document.add_paragraph()
    ooxml.set_alignment(heading, "center")
    ooxml.style_run(heading.add_run("发文处理单"), face=XIAOBIAOSONG, half_points=SIZE_2)
    for label, value in (("标题", title), ("发文字号", doc_number or "（未编号）")):
        paragraph = document.add_paragraph()
        ooxml.style_run(paragraph.add_run(f"{label}："), face=HEITI, half_points=SIZE_3)
        ooxml.style_run(paragraph.add_run(value), face=FANGSONG, half_points=SIZE_3)

    values = [_row(r) for r in rows]
    table = document.add_table(rows=1 + len(values), cols=len(HEADER))
    ooxml.set_table_geometry(table, width=TEXT_WIDTH, columns=COLUMNS, cell_margin=80)
    line = ("single", 4, ooxml.BLACK)
    ooxml.set_table_borders(table, top=line, left=line, bottom=line, right=line, insideH=line, insideV=line)
    for cell, text in zip(table.rows[0].cells, HEADER, strict=True):
        paragraph = cell.paragraphs[0]
        ooxml.set_alignment(paragraph, "center")
        ooxml.style_run(paragraph.add_run(text), face=HEITI, half_points=SIZE_4)
    for row, texts in zip(table.rows[1:], values, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            ooxml.style_run(cell.paragraphs[0].add_run(text), face=FANGSONG, half_points=SIZE_4)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
