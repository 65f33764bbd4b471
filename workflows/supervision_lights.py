"""红黄绿灯 of 督办事项 and their 进展反馈 schedule: the one place that decides an item's light.

`light_for` is THE function: dashboards, lists, item pages and the nightly job all read the stored
result it produces (`SupervisionItem.light`, `.light_reason`, `.next_report_on`), written by
`refresh_light` after every change (workflows/supervision.py calls it) and by `recompute_lights`
once a night, because "today" moves even when nothing else does.

Rules (issue 6, flows.md §3):
- red: the 完成时限 has passed ("已超期2个工作日");
- yellow: the 完成时限 is within SUPERVISION_YELLOW_DAYS working days ("距完成时限还有2个工作日"),
  or, while the lead unit is 承办-ing, a scheduled 进展反馈 is overdue ("进展反馈逾期（应于11月30日反馈）")
  — even far from the deadline;
- green otherwise;
- closed, archived and terminated items keep the light they had;
- a parent item (分解) shows the worst of its own light and its open children's.

Report schedules (`next_report_due`) — the periodic ones have nominal period ends, and each report is
due on the last working day of its period (on or before the nominal end):
- once: one report, due on the 完成时限 itself;
- weekly: calendar weeks Monday–Sunday, due on the week's last working day (usually Friday; the
  调休 Saturday 10月10日 2026 when that week works on Saturday). Chosen over "every 5 working days
  from 交办" because units file 周报 on a fixed weekday the whole office knows, and a holiday week
  does not shift every later date;
- monthly: due by the 25th (the last working day on or before it), so the 督查室 has the last days
  of the month to compile the monthly 督办通报 from reports already in ("每月25日前报送");
- quarterly: the last working day of the quarter;
- custom: every `report_interval_days` working days from the 收到/交办 day.
The first period counted is the first that starts after the 收到 day, so a unit always has one
whole period before its first report. A report answers every due date up to and including the
first one on or after it: a late report brings the item up to date (no back-filling of each missed
period), an early one answers the period it was written in. Periodic due dates after the 完成时限
are not asked for: the 办结报告 is due then, and the deadline light already speaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import DateTimeField, Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from officeapp.calendar.workdays import WorkingCalendar
from workflows.models import (
    OPEN_ITEM_STATES,
    ItemState,
    Light,
    ProgressReport,
    ReportFrequency,
    ReportState,
    SupervisionItem,
)

DEFAULT_YELLOW_DAYS = 3
# Reports that count: signed off by the unit head (submitted) or already reviewed (accepted).
COUNTING_REPORT_STATES = (ReportState.SUBMITTED, ReportState.ACCEPTED)
# After the unit's 办结报告, the item waits on the 督查室/leader: the light judges the unit's work.
COMPLETED_STATES = frozenset({ItemState.REVIEW, ItemState.LEADER_REVIEW})
# States before 承办: no report can be written yet, so only the deadline speaks.
REPORTING_STATES = frozenset({ItemState.HANDLE})
LIGHT_RANK = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}
REASON_MAX = 100  # SupervisionItem.light_reason max_length
# A guard on schedule walks: ten years of weekly periods.
MAX_PERIODS = 600
_UNSET: Any = object()


def yellow_days() -> int:
    """SUPERVISION_YELLOW_DAYS: how many working days before the 完成时限 an item turns yellow."""
    return int(getattr(settings, "SUPERVISION_YELLOW_DAYS", DEFAULT_YELLOW_DAYS))


def day_label(d: date, *, today: date | None = None) -> str:
    """ "11月30日"; with the year when it is not the current one."""
    if today is not None and d.year != today.year:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.month}月{d.day}日"


def _today(today: date | None) -> date:
    return today if today is not None else timezone.localdate()


# --- report schedule -----------------------------------------------------------------------------


def _last_working_day_in(cal: WorkingCalendar, after: date, upto: date) -> date | None:
    """The last working day in (after, upto], or None when that span has none."""
    d = upto
    while d > after:
        if cal.is_working_day(d):
            return d
        d -= timedelta(days=1)
    return None


def _month_25(year: int, month: int) -> date:
    return date(year, month, 25)


def _quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def _nominal_ends(frequency: str, anchor: date) -> Iterator[tuple[date, date]]:
    """(previous nominal end, nominal end) of each period, from the first period that starts after
    `anchor` (the previous end is on or after the anchor)."""
    if frequency == ReportFrequency.WEEKLY:
        # The Sunday on or after the anchor closes the anchor's own week.
        prev = anchor + timedelta(days=6 - anchor.weekday())
        while True:
            end = prev + timedelta(days=7)
            yield prev, end
            prev = end
    elif frequency == ReportFrequency.MONTHLY:
        y, m = anchor.year, anchor.month
        prev = _month_25(y, m)
        if prev < anchor:
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            prev = _month_25(y, m)
        while True:
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            end = _month_25(y, m)
            yield prev, end
            prev = end
    elif frequency == ReportFrequency.QUARTERLY:
        y, q = anchor.year, (anchor.month - 1) // 3 + 1
        prev = _quarter_end(y, q)
        while True:
            y, q = (y + 1, 1) if q == 4 else (y, q + 1)
            end = _quarter_end(y, q)
            yield prev, end
            prev = end


def report_due_dates(item: SupervisionItem, *, calendar: WorkingCalendar | None = None) -> Iterator[date]:
    """The item's scheduled report dates in order (without the 完成时限 cap)."""
    cal = calendar or WorkingCalendar()
    frequency = item.report_frequency
    anchor = item.received_on
    if frequency == ReportFrequency.ONCE:
        if item.due_on is not None:
            yield item.due_on
        return
    if frequency == ReportFrequency.CUSTOM:
        n = item.report_interval_days or 0
        if n <= 0:
            return
        d = anchor
        for _ in range(MAX_PERIODS):
            d = cal.add_working_days(d, n).due_on
            yield d
        return
    for count, (prev, end) in enumerate(_nominal_ends(frequency, anchor)):
        if count >= MAX_PERIODS:
            return
        due = _last_working_day_in(cal, prev, end)
        if due is not None:
            yield due


def next_report_due(
    item: SupervisionItem,
    *,
    today: date | None = None,
    calendar: WorkingCalendar | None = None,
    last_report_on: date | None = _UNSET,
) -> date | None:
    """The first scheduled report date not yet answered by a report (may be in the past: then the
    report is overdue); None when nothing more is asked before the 完成时限.

    `last_report_on` is the date of the lead unit's latest counted report (read when not given;
    the nightly job passes it for a whole batch)."""
    if last_report_on is _UNSET:
        last_report_on = latest_report_on(item)
    previous = item.received_on
    periodic = item.report_frequency != ReportFrequency.ONCE
    for due in report_due_dates(item, calendar=calendar):
        if periodic and item.due_on is not None and due > item.due_on:
            return None
        # A report dated after the previous due date answers this one (early or late).
        if last_report_on is None or last_report_on <= previous:
            return due
        previous = due
    return None


def latest_report_on(item: SupervisionItem) -> date | None:
    """The date of the lead unit's latest signed-off (submitted or accepted) report."""
    if item.pk is None:
        return None
    at = ProgressReport.objects.filter(item=item, is_lead=True, state__in=COUNTING_REPORT_STATES).aggregate(
        at=Max(Coalesce("submitted_at", "created_at", output_field=DateTimeField()))
    )["at"]
    return timezone.localdate(at) if at is not None else None


# --- the light -----------------------------------------------------------------------------------


def _own_light(
    item: SupervisionItem, *, today: date, cal: WorkingCalendar, last_report_on: date | None, next_due: Any
) -> tuple[str, str]:
    due_on = item.due_on
    if item.state in COMPLETED_STATES and item.completed_at is not None:
        done = timezone.localdate(item.completed_at)
        if due_on is not None and done > due_on:
            late = cal.working_days_between(due_on, done)
            return (
                Light.RED,
                f"超期办结{late}个工作日" if late else f"超过完成时限（{day_label(due_on)}）办结",
            )
        return Light.GREEN, "已按时报送办结报告"

    if due_on is not None and today > due_on:
        late = cal.working_days_between(due_on, today)
        if late:
            return Light.RED, f"已超期{late}个工作日"
        return Light.RED, f"已超过完成时限（{day_label(due_on, today=today)}）"

    reasons: list[str] = []
    if due_on is not None:
        left = cal.working_days_between(today, due_on)
        if left <= yellow_days():
            reasons.append("今天是完成时限" if left == 0 else f"距完成时限还有{left}个工作日")
    if item.state in REPORTING_STATES:
        if next_due is _UNSET:
            next_due = next_report_due(item, today=today, calendar=cal, last_report_on=last_report_on)
        if next_due is not None and next_due < today:
            reasons.append(f"进展反馈逾期（应于{day_label(next_due, today=today)}反馈）")
    if reasons:
        return Light.YELLOW, "；".join(reasons)
    return Light.GREEN, "进展正常"


def worst(own: tuple[str, str], children: Iterable[tuple[str, str, str]]) -> tuple[str, str]:
    """The worst of an item's own (light, reason) and its open children's (label, light, reason);
    on a tie the item's own reason stays."""
    light, reason = own
    for label, child_light, child_reason in children:
        if LIGHT_RANK[Light(child_light)] > LIGHT_RANK[Light(light)]:
            light = child_light
            reason = f"子事项“{label}”{Light(child_light).label}：{child_reason}"
    return light, reason[:REASON_MAX]


def _child_label(number: str, title: str) -> str:
    return number or (title if len(title) <= 20 else title[:19] + "…")


def open_children(item: SupervisionItem) -> list[tuple[str, str, str]]:
    """(label, light, reason) of the item's open sub-items, as stored (each refreshes its own)."""
    if item.pk is None:
        return []
    rows = item.children.filter(state__in=OPEN_ITEM_STATES).values_list(
        "number", "title", "light", "light_reason"
    )
    return [(_child_label(number, title), light, reason) for number, title, light, reason in rows]


def light_for(
    item: SupervisionItem,
    *,
    today: date | None = None,
    calendar: WorkingCalendar | None = None,
    last_report_on: date | None = _UNSET,
    children: list[tuple[str, str, str]] | None = None,
) -> tuple[str, str]:
    """(Light value, reason in Chinese) of `item` on `today` — THE light decision.

    Closed/archived/terminated items keep their stored light. `last_report_on` and `children` let
    a batch pass what it read in bulk; by default they are read (one query each)."""
    if item.state not in OPEN_ITEM_STATES:
        return item.light, item.light_reason
    day = _today(today)
    cal = calendar or WorkingCalendar()
    if last_report_on is _UNSET:
        last_report_on = latest_report_on(item) if item.state in REPORTING_STATES else None
    own = _own_light(item, today=day, cal=cal, last_report_on=last_report_on, next_due=_UNSET)
    kids = open_children(item) if children is None else children
    return worst(own, kids)


@dataclass
class LightResult:
    light: str
    reason: str
    next_report_on: date | None


def evaluate(
    item: SupervisionItem,
    *,
    today: date,
    calendar: WorkingCalendar,
    last_report_on: date | None,
    children: list[tuple[str, str, str]],
) -> LightResult:
    """The light and next report date from what the caller has read (no queries but calendar)."""
    if item.state not in OPEN_ITEM_STATES:
        return LightResult(item.light, item.light_reason, item.next_report_on)
    next_due = (
        next_report_due(item, today=today, calendar=calendar, last_report_on=last_report_on)
        if item.state in REPORTING_STATES
        else None
    )
    own = _own_light(item, today=today, cal=calendar, last_report_on=last_report_on, next_due=next_due)
    light, reason = worst(own, children)
    return LightResult(light, reason, next_due)


def refresh_light(item: SupervisionItem, *, today: date | None = None) -> None:
    """Compute and save the item's light, reason and next report date (only those columns, and
    only when they changed); then its parent's, whose light rolls up from its open children.

    Reads the item's latest counted report and its open children (one query each, plus one per
    ancestor); call it inside the service's transaction after the change is written."""
    day = _today(today)
    cal = WorkingCalendar()
    current: SupervisionItem | None = item
    seen: set[int] = set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        # A closed item keeps its light, but its parent stops counting it: walk up regardless.
        if current.state in OPEN_ITEM_STATES:
            last = latest_report_on(current) if current.state in REPORTING_STATES else None
            result = evaluate(
                current, today=day, calendar=cal, last_report_on=last, children=open_children(current)
            )
            changed = _apply(current, result)
            if changed:
                current.save(update_fields=changed)
        if current.parent_id is None:
            break
        current = SupervisionItem.objects.filter(pk=current.parent_id).first()


def _apply(item: SupervisionItem, result: LightResult) -> list[str]:
    changed = []
    for name, value in (
        ("light", result.light),
        ("light_reason", result.reason[:REASON_MAX]),
        ("next_report_on", result.next_report_on),
    ):
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed.append(name)
    return changed


__all__ = [
    "LightResult",
    "evaluate",
    "latest_report_on",
    "light_for",
    "next_report_due",
    "open_children",
    "refresh_light",
    "report_due_dates",
    "worst",
    "yellow_days",
]
