"""The 收文处理单: the 登记 facts of a 收文 and every opinion in order — 拟办意见, 领导批示, each unit's
承办 result, the 传阅 readers with time and comment, the 办理结果 — for the printable page, the .docx
and the archive package."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from documents import ooxml
from documents.gbt9704 import HEITI, SIZE_4, TEXT_WIDTH
from documents.models import OfficialDocument
from documents.printable import add_grid, add_title, new_sheet, sheet_bytes
from documents.processing_sheet import SheetRow
from workflows.models import Opinion

SHEET_TITLE = "收文处理单"
# 批示 (the leader's instruction) is what a reader looks for first: highlighted on the page.
INSTRUCTION_STEPS = frozenset({"instruct"})


@dataclass(frozen=True)
class ReadingRow:
    reader: str
    state: str
    arrived_at: datetime | None
    read_at: datetime | None
    comment: str


@dataclass
class IncomingSheet:
    title: str
    facts: list[tuple[str, str]]
    rows: list[SheetRow] = field(default_factory=list)
    instruction_rows: set[int] = field(default_factory=set)  # indexes of 批示 rows
    readings: list[ReadingRow] = field(default_factory=list)
    result: str = ""


def _day(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def registration_facts(document: OfficialDocument) -> list[tuple[str, str]]:
    """收文登记 as label/value pairs, in the order of the 登记簿."""
    incoming = document.incoming  # type: ignore[attr-defined]
    process = getattr(document, "incoming_process", None)
    deadline = (process.deadline if process is not None else None) or document.deadline
    return [
        ("收文号", incoming.number or "（未登记）"),
        ("来文单位", incoming.source_name),
        ("来文字号", incoming.source_number or "无"),
        ("标题", document.title),
        ("文种", document.get_doc_type_display()),
        ("份数", str(incoming.copies)),
        ("紧急程度", document.get_urgency_display()),
        ("成文日期", _day(document.issued_on)),
        ("收文日期", _day(incoming.received_on)),
        ("办理时限", _day(deadline) or "无"),
    ]


def reading_rows(document: OfficialDocument) -> list[ReadingRow]:
    """Who read it in 传阅, when, with what comment; who has not (helper D's `readings_of`)."""
    from workflows.circulation import readings_of

    rows: list[ReadingRow] = []
    for circulation in reversed(readings_of(document)):  # oldest round first, as it happened
        for reading in circulation.readers.all():
            name = reading.reader.real_name
            if reading.on_behalf_of_id:
                name = f"{name}（代{reading.on_behalf_of.real_name}）"
            rows.append(
                ReadingRow(
                    reader=name,
                    state=reading.get_state_display(),
                    arrived_at=reading.arrived_at,
                    read_at=reading.read_at,
                    comment=reading.comment,
                )
            )
    return rows


def incoming_sheet(document: OfficialDocument) -> IncomingSheet:
    sheet = IncomingSheet(title=document.title, facts=registration_facts(document))
    opinions = Opinion.objects.filter(document=document).select_related("author", "on_behalf_of")
    for o in opinions.order_by("created_at", "pk"):
        person = o.author.real_name
        if o.on_behalf_of_id:
            person = f"{person}（代{o.on_behalf_of.real_name}）"
        step = o.step_label + (f"（{o.party_label}）" if o.party_label else "")
        text = o.text
        if o.decision not in ("agree", "note") and o.get_decision_display() not in text:
            text = f"【{o.get_decision_display()}】{text}"
        if o.step in INSTRUCTION_STEPS:
            sheet.instruction_rows.add(len(sheet.rows))
        sheet.rows.append(SheetRow(step=step, person=person, at=o.created_at, opinion=text))
    sheet.readings = reading_rows(document)
    sheet.result = document.incoming.result  # type: ignore[attr-defined]
    return sheet


def _table(document: Any, header: list[str], rows: list[list[str]], columns: list[int]) -> None:
    add_grid(document, header, rows, columns, half_points=SIZE_4)


def _heading(document: Any, text: str) -> None:
    paragraph = document.add_paragraph()
    ooxml.style_run(paragraph.add_run(text), face=HEITI, half_points=SIZE_4)


def sheet_docx(document: OfficialDocument) -> bytes:
    """The 收文处理单 as .docx: 登记 facts, every opinion in order, 传阅, 办理结果."""
    sheet = incoming_sheet(document)
    out = new_sheet(half_points=SIZE_4)
    add_title(out, SHEET_TITLE)

    _table(out, ["项目", "内容"], [[k, v] for k, v in sheet.facts], [1800, TEXT_WIDTH - 1800])
    _heading(out, "办理过程")
    opinion_rows = [[r.step, r.person, _moment(r.at), r.opinion] for r in sheet.rows] or [
        ["", "", "", "暂无办理记录"]
    ]
    _table(out, ["环节", "办理人", "时间", "意见"], opinion_rows, [1400, 1400, 2800, TEXT_WIDTH - 5600])
    if sheet.readings:
        _heading(out, "传阅")
        _table(
            out,
            ["阅读人", "状态", "阅读时间", "阅读意见"],
            [[r.reader, r.state, _moment(r.read_at), r.comment] for r in sheet.readings],
            [1800, 1000, 2800, TEXT_WIDTH - 5600],
        )
    _heading(out, f"办理结果：{sheet.result or '（尚未办结）'}")
    return sheet_bytes(out)


def archive_part(document: OfficialDocument) -> tuple[str, bytes] | None:
    """The 收文处理单 in a 收文's archive package (documents.archiving.archive_parts)."""
    if not getattr(document, "is_incoming", False) or not hasattr(document, "incoming"):
        return None
    return f"{SHEET_TITLE}.docx", sheet_docx(document)
