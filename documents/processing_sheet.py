"""发文处理单 (.docx): every step of a 发文 process — 环节, 办理人, 时间, 意见 — as one printable table.

The caller (workflows) turns its Opinion rows into plain `SheetRow`s; this module knows no ORM.
Times are shown in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from documents import ooxml
from documents.gbt9704 import FANGSONG, HEITI, SIZE_3, SIZE_4, TEXT_WIDTH
from documents.printable import add_grid, add_title, new_sheet, sheet_bytes

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
    document = new_sheet(half_points=SIZE_4)
    add_title(document, "发文处理单")
    for label, value in (("标题", title), ("发文字号", doc_number or "（未编号）")):
        paragraph = document.add_paragraph()
        ooxml.style_run(paragraph.add_run(f"{label}："), face=HEITI, half_points=SIZE_3)
        ooxml.style_run(paragraph.add_run(value), face=FANGSONG, half_points=SIZE_3)
    add_grid(document, HEADER, [_row(r) for r in rows], COLUMNS, half_points=SIZE_4, center_header=True)
    return sheet_bytes(document)
