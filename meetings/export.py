"""The attendance sheet (签到表) of one meeting as Excel: one row per 回执, in invitation order.

Columns: 姓名, 单位, 回执, 请假事由, 指派, 签到时间, 签到方式. 指派 says whom a person sent ("指派：林小梅")
or who sent them ("受陈志强指派"). Text cells are written as text (never a formula, whatever a name or
a reason starts with); the workbook is write-only (streamed rows, no cell objects kept).
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from meetings.models import CheckinMethod, Meeting, Reply, Rsvp
from meetings.stats import unit_of

HEADER = ["姓名", "单位", "回执", "请假事由", "指派", "签到时间", "签到方式"]
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_REPLIES = dict(Reply.choices)
_METHODS = dict(CheckinMethod.choices)


def _name(user: Any) -> str:
    return user.real_name or user.username


def attendance_rows(meeting: Meeting) -> list[list[Any]]:
    rsvps = list(
        Rsvp.objects.filter(meeting=meeting)
        .select_related("user__department__agency", "delegated_from__user")
        .order_by("pk")
    )
    sent = {r.delegated_from_id: r for r in rsvps if r.delegated_from_id}
    rows: list[list[Any]] = []
    for rsvp in rsvps:
        if rsvp.reply == Reply.DELEGATE and rsvp.pk in sent:
            delegate = f"指派：{_name(sent[rsvp.pk].user)}"
        elif rsvp.delegated_from_id:
            delegate = f"受{_name(rsvp.delegated_from.user)}指派"
        else:
            delegate = ""
        checked = (
            timezone.localtime(rsvp.checked_in_at).strftime("%Y-%m-%d %H:%M") if rsvp.checked_in_at else ""
        )
        rows.append(
            [
                _name(rsvp.user),
                unit_of(rsvp.user),
                _REPLIES.get(rsvp.reply, ""),
                rsvp.reason,
                delegate,
                checked,
                _METHODS.get(rsvp.checkin_method, ""),
            ]
        )
    return rows


def attendance_workbook(meeting: Meeting) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("签到表")
    sheet.append([meeting.title])
    sheet.append(HEADER)
    for row in attendance_rows(meeting):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text stays text: never a formula
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename_for(meeting: Meeting) -> str:
    day = timezone.localtime(meeting.starts_at).strftime("%Y%m%d")
    return f"签到表-{day}-{meeting.pk}.xlsx"
