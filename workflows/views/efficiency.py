"""效能统计 page of an agency's office: four charts (inline SVG bars, no chart library) with the
numbers behind them; a bar links to the tasks it counts. Read-only: access → statistics → render."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from officeapp.audit.services import record_view
from workflows.efficiency import (
    DEFAULT_RANGE_DAYS,
    DIMENSIONS,
    LIST_LIMIT,
    MAX_RANGE_DAYS,
    Bar,
    can_view_efficiency,
    statistics,
    step_of,
    tasks_behind,
)
from workflows.flows import STEP_LABELS

ROW_HEIGHT = 26
BAR_X = 96
BAR_WIDTH = 170


class RangeForm(forms.Form):
    date_from = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = "请输入有效的日期，如 2026-01-31。"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        elif start and end and (end - start).days >= MAX_RANGE_DAYS:
            self.add_error("date_to", f"统计范围最长 {MAX_RANGE_DAYS} 天，请缩小日期范围。")
        return data

    def bounds(self) -> tuple[date, date]:
        """The range asked for; a refused or empty field takes the default (the last 90 days)."""
        today = timezone.localdate()
        data = getattr(self, "cleaned_data", {}) if not self.errors else {}
        end = data.get("date_to") or today
        start = data.get("date_from") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        return start, end


def _short(label: str, room: int = 7) -> str:
    return label if len(label) <= room else label[: room - 1] + "…"


def _hours(bar: Bar) -> str:
    if bar.average is None:
        return "—"
    hours = bar.average_hours
    return f"{hours / 24:.1f} 天" if hours >= 48 else f"{hours:.1f} 小时"


def chart(bars: list[Bar], dimension: str, base: dict[str, str], *, by_count: bool = False) -> dict[str, Any]:
    """Bars laid out for the SVG: width by average time (or by count for the trend), overdue in red."""
    peak = max((b.total if by_count else b.average_hours) for b in bars) if bars else 0
    rows = []
    for n, bar in enumerate(bars):
        value = bar.total if by_count else bar.average_hours
        width = round(BAR_WIDTH * value / peak, 1) if peak else 0
        overdue_width = round(width * bar.overdue / bar.total, 1) if by_count and bar.total else 0
        rows.append(
            {
                "bar": bar,
                # The SVG has room for about seven characters of label; months read as 2026-05.
                "short": bar.key if dimension == "month" else _short(bar.label),
                "y": n * ROW_HEIGHT,
                "text_y": n * ROW_HEIGHT + 17,
                "width": width,
                "overdue_width": overdue_width,
                "value_x": BAR_X + width + 4,
                "value": f"{bar.total} 件" if by_count else _hours(bar),
                "hours": _hours(bar),
                "rate": f"{bar.overdue_rate:.0%}",
                "url": "?" + urlencode({**base, "by": dimension, "key": bar.key}) + "#tasks",
            }
        )
    return {"rows": rows, "height": max(len(rows), 1) * ROW_HEIGHT, "bar_x": BAR_X, "dimension": dimension}


@login_required
@require_GET
def efficiency(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    agency = user.department.agency if user.department_id else None
    if not can_view_efficiency(user, agency):
        raise PermissionDenied("只有本机关办公室主任和文秘可以查看效能统计。")
    form = RangeForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    start, end = form.bounds()
    stats = statistics(agency, start, end)
    base = {"date_from": start.isoformat(), "date_to": end.isoformat()}
    dimension, key = request.GET.get("by", ""), request.GET.get("key", "")[:200]
    behind = tasks_behind(agency, start, end, dimension, key) if dimension in DIMENSIONS and key else None
    record_view(
        request,
        agency,
        action="workflows.efficiency.view",
        details={"from": base["date_from"], "to": base["date_to"]},
    )
    return render(
        request,
        "workflows/efficiency/page.html",
        {
            "form": form,
            "stats": stats,
            "charts": [
                ("flow", "各流程平均用时", chart(stats.flows, "flow", base)),
                ("step", "各环节平均用时", chart(stats.steps, "step", base)),
                ("department", "各处室平均用时", chart(stats.departments, "department", base)),
                ("month", "近12个月办件量（红色为超期）", chart(stats.trend, "month", base, by_count=True)),
            ],
            "behind": behind,
            "behind_title": _behind_title(stats, dimension, key),
            "list_limit": LIST_LIMIT,
            "rows_behind": [_task_line(t) for t in behind] if behind is not None else None,
        },
    )


def _behind_title(stats: Any, dimension: str, key: str) -> str:
    every = {"flow": stats.flows, "step": stats.steps, "department": stats.departments, "month": stats.trend}
    for bar in every.get(dimension, []):
        if bar.key == key:
            return f"{DIMENSIONS[dimension]}：{bar.label}"
    return f"{DIMENSIONS.get(dimension, '')}：{key}" if dimension in DIMENSIONS else ""


def _task_line(task: Any) -> dict[str, Any]:
    data = task.data if isinstance(task.data, dict) else {}
    document = task.process.outgoingprocess.document
    deadline = document.deadline
    if deadline is None:
        overdue = False
    elif task.finished:
        overdue = timezone.localdate(task.finished) > deadline
    else:
        overdue = timezone.localdate() > deadline
    took = task.finished - task.created if task.finished else None
    return {
        "task": task,
        "title": data.get("title") or document.title,
        "step": STEP_LABELS.get(step_of(task.flow_task), ""),
        "owner": task.owner.real_name if task.owner else "待签收",
        "took": _hours(Bar("", "", 1, 1, took, 0)) if took else "办理中",
        "overdue": overdue,
        "deadline": deadline,
    }


urlpatterns = [path("efficiency/", efficiency, name="efficiency")]
