"""Writers for audit exports: xlsx (openpyxl in write-only mode, constant memory per row) and csv."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from officeapp.audit.models import AuditEvent, Outcome

# An export is a file for a person to read; beyond this the 审计管理员 narrows the filter first
# (the page says so before anything is written).
EXPORT_MAX_ROWS = 100_000

FORMATS: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

HEADER = [
    "ID",
    "时间",
    "操作人",
    "工号",
    "客户端地址",
    "操作",
    "对象类型",
    "对象",
    "结果",
    "详情",
    "链",
    "链序号",
    "哈希",
]
_OUTCOMES = dict(Outcome.choices)
# A cell starting with one of these is read as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportedFile:
    content: bytes
    content_type: str
    filename: str
    rows: int
    truncated: bool


def _rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    values = events.values_list(
        "id",
        "occurred_at",
        "actor_label",
        "actor__employee_no",
        "client_address",
        "action",
        "object_type",
        "object_id",
        "outcome",
        "details",
        "chain",
        "chain_seq",
        "row_hash",
    )
    for (
        pk,
        occurred_at,
        label,
        employee_no,
        address,
        action,
        object_type,
        object_id,
        outcome,
        details,
        chain,
        chain_seq,
        row_hash,
    ) in values.iterator(chunk_size=2000):
        yield [
            pk,
            timezone.localtime(occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
            label,
            employee_no or "",
            address or "",
            action,
            object_type,
            object_id,
            _OUTCOMES.get(outcome, outcome),
            json.dumps(details, ensure_ascii=False, sort_keys=True) if details else "",
            chain,
            chain_seq if chain_seq is not None else "",
            row_hash,
        ]


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _xlsx(rows: Iterable[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审计事件")
    sheet.append(HEADER)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text: never a formula, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(rows: Iterable[list[Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows([_csv_safe(v) for v in row] for row in rows)
    # The BOM makes Excel read the Chinese text as UTF-8.
    return text.getvalue().encode("utf-8-sig")


def write_events(events: QuerySet[AuditEvent], *, fmt: str) -> ExportedFile:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    # Streamed, one row at a time; the one row past the limit only tells that there were more.
    source = _rows(events[: EXPORT_MAX_ROWS + 1])
    written = 0

    def within_limit() -> Iterator[list[Any]]:
        nonlocal written
        for row in islice(source, EXPORT_MAX_ROWS):
            written += 1
            yield row

    content = _xlsx(within_limit()) if fmt == "xlsx" else _csv(within_limit())
    return ExportedFile(
        content=content,
        content_type=FORMATS[fmt],
        filename=f"审计事件-{stamp}.{fmt}",
        rows=written,
        truncated=next(source, None) is not None,
    )
