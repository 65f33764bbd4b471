"""督办通知单: what the 督查室 hands the units at 交办 — 编号, 来源, 领导批示, 事项, 办理要求, 主办/协办,
完成时限, 反馈频次, 督查员 and the date — as a printable page and as .docx (python-docx, GB/T 9704
page and faces like the 收文处理单)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from documents.gbt9704 import SIZE_4
from documents.printable import add_fact_table, add_title, new_sheet, sheet_bytes
from workflows.models import ReportFrequency, SupervisionItem

NOTICE_TITLE = "督办通知单"


@dataclass(frozen=True)
class SupervisionNotice:
    agency: str
    facts: list[tuple[str, str]]
    issued_on: date


def _day(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def deadline_text(item: SupervisionItem) -> str:
    if item.due_on:
        return _day(item.due_on)
    if item.due_in_working_days:
        return f"交办之日起{item.due_in_working_days}个工作日内"
    return "无"


def frequency_text(item: SupervisionItem) -> str:
    if item.report_frequency == ReportFrequency.CUSTOM and item.report_interval_days:
        return f"每{item.report_interval_days}个工作日反馈一次"
    return item.get_report_frequency_display()


def co_unit_labels(item: SupervisionItem) -> str:
    return "、".join(str(u.get("label") or "") for u in (item.co_units or []) if u.get("label")) or "无"


def source_text(item: SupervisionItem) -> str:
    label = item.get_source_display()
    return f"{label}（{item.source_label}）" if item.source_label else label


def supervision_notice(item: SupervisionItem) -> SupervisionNotice:
    """The notice's lines, in the order the 督查室 prints them."""
    issued = timezone.localdate(item.updated_at) if item.updated_at else timezone.localdate()
    return SupervisionNotice(
        agency=item.agency.name,
        issued_on=issued,
        facts=[
            ("督办编号", item.number or "（未编号）"),
            ("任务来源", source_text(item)),
            ("领导批示", item.instruction or "无"),
            ("督办事项", item.title),
            ("办理要求", item.requirement or "无"),
            ("牵头（主办）单位", item.lead_label),
            ("协办单位", co_unit_labels(item)),
            ("完成时限", deadline_text(item)),
            ("反馈频次", frequency_text(item)),
            ("重要程度", item.get_importance_display()),
            ("督查员", item.supervisor.real_name),
            ("日期", _day(issued)),
        ],
    )


def notice_docx(item: SupervisionItem) -> bytes:
    notice = supervision_notice(item)
    out = new_sheet(half_points=SIZE_4)
    add_title(out, f"{notice.agency}{NOTICE_TITLE}")
    add_fact_table(out, notice.facts, 2200, half_points=SIZE_4)
    return sheet_bytes(out)
