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
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, F, Max
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from officeapp.audit.services import record
from officeapp.calendar.workdays import WorkingCalendar
from officeapp.org.models import User
from officeapp.outbox.services import emit
from workflows import urging
from workflows.acting import OPEN_STATUSES
from workflows.flows import SupervisionFlow
from workflows.models import (
    OPEN_ITEM_STATES,
    ItemState,
    Light,
    ProgressReport,
    Reminder,
    ReminderKind,
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
    if frequency == ReportFrequency.ONCE:
        if item.due_on is not None:
            yield item.due_on
        return
    if isinstance(cal, CountingCalendar):
        yield from cal.schedule(frequency, item.received_on, item.report_interval_days)
        return
    yield from _schedule(cal, frequency, item.received_on, item.report_interval_days)


def _schedule(cal: WorkingCalendar, frequency: str, anchor: date, interval: int | None) -> Iterator[date]:
    if frequency == ReportFrequency.CUSTOM:
        n = interval or 0
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


@dataclass
class CountingCalendar(WorkingCalendar):
    """A WorkingCalendar that remembers, for one run over many items, the working days between two
    dates and each report schedule: 100,000 items share a few hundred deadlines and 收到 days, so
    each span and each schedule is walked once instead of once per item."""

    _between: dict[tuple[date, date], int] = field(default_factory=dict)
    _schedules: dict[tuple[str, date, int | None], tuple[list[date], Iterator[date]]] = field(
        default_factory=dict
    )

    def working_days_between(self, a: date, b: date) -> int:
        key = (a, b)
        if key not in self._between:
            self._between[key] = super().working_days_between(a, b)
        return self._between[key]

    def schedule(self, frequency: str, anchor: date, interval: int | None) -> Iterator[date]:
        """The schedule's due dates, computed once and extended as far as any item needs."""
        key = (frequency, anchor, interval)
        entry = self._schedules.get(key)
        if entry is None:
            entry = self._schedules[key] = ([], _schedule(self, frequency, anchor, interval))
        known, source = entry
        i = 0
        while True:
            if i < len(known):
                yield known[i]
                i += 1
                continue
            following = next(source, None)
            if following is None:
                return
            known.append(following)


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
    cal = CountingCalendar()
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


# --- the nightly recompute -----------------------------------------------------------------------

RECOMPUTE_BATCH = 1000
LIGHT_FIELDS = ["light", "light_reason", "next_report_on"]
# What the light reads of an item: loading only these keeps a 100,000-item run light on memory.
READ_FIELDS = (
    "pk",
    "parent_id",
    "number",
    "title",
    "state",
    "received_on",
    "due_on",
    "report_frequency",
    "report_interval_days",
    "completed_at",
    *LIGHT_FIELDS,
)


@dataclass
class RecomputeReport:
    today: date
    scanned: int = 0
    changed: int = 0
    batches: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {light.value: 0 for light in Light})

    def summary(self) -> str:
        lights = "，".join(f"{Light(k).label}{n}" for k, n in self.counts.items())
        return f"{self.today}: 督办事项 {self.scanned} 件（{lights}），变化 {self.changed} 件"


def latest_reports_of(item_ids: Iterable[int]) -> dict[int, date]:
    """The date of the lead unit's latest counted report per item, in one query."""
    rows = (
        ProgressReport.objects.filter(
            item_id__in=list(item_ids), is_lead=True, state__in=COUNTING_REPORT_STATES
        )
        .order_by()
        .values("item_id")
        .annotate(at=Max(Coalesce("submitted_at", "created_at", output_field=DateTimeField())))
        .values_list("item_id", "at")
    )
    return {item_id: timezone.localdate(at) for item_id, at in rows if at is not None}


def recompute_lights(today: date | None = None, *, batch_size: int = RECOMPUTE_BATCH) -> RecomputeReport:
    """The nightly (and hourly) job: every open item's light on `today`, written where it changed.

    Leaves first, in batches by pk: per batch one read of the items (locked, skipping rows a service
    holds right now — that service refreshes them itself), one read of their latest reports, one
    bulk UPDATE of the changed rows only. Then the parents (分解), few, each with its children's
    fresh lights. Idempotent: a second run the same day changes nothing."""
    day = _today(today)
    cal = CountingCalendar()
    report = RecomputeReport(today=day)
    open_items = SupervisionItem.objects.filter(state__in=OPEN_ITEM_STATES)
    parent_ids = set(
        open_items.filter(parent__isnull=False).order_by().values_list("parent_id", flat=True).distinct()
    )
    children: dict[int, list[tuple[str, str, str]]] = {}
    after = 0
    while True:
        with transaction.atomic():
            batch = list(
                open_items.exclude(pk__in=parent_ids)
                .filter(pk__gt=after)
                .only(*READ_FIELDS)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))[:batch_size]
            )
            if not batch:
                break
            after = batch[-1].pk
            _recompute_batch(batch, day, cal, report, children)
        if len(batch) < batch_size:
            break
    # Parents, deepest first: a parent is done once none of its open children waits.
    pending = {
        item.pk: item for item in open_items.filter(pk__in=parent_ids).only(*READ_FIELDS).order_by("pk")
    }
    waiting_on = {pk: {i.pk for i in pending.values() if i.parent_id == pk} for pk in pending}
    while pending:
        ready = [item for pk, item in pending.items() if not (waiting_on[pk] & set(pending))]
        if not ready:  # a cycle cannot be built through the services; do not loop on bad data
            ready = list(pending.values())
        with transaction.atomic():
            locked = set(
                SupervisionItem.objects.filter(pk__in=[i.pk for i in ready])
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)
            )
            _recompute_batch([i for i in ready if i.pk in locked], day, cal, report, children)
        for item in ready:
            pending.pop(item.pk)
    return report


def _write_lights(items: list[SupervisionItem]) -> None:
    """One UPDATE for the batch's changed rows. On PostgreSQL an UPDATE … FROM (VALUES …): Django's
    bulk_update builds a CASE per column and row, which costs more Python time than the lights."""
    if connection.vendor != "postgresql":
        SupervisionItem.objects.bulk_update(items, LIGHT_FIELDS)
        return
    table = connection.ops.quote_name(SupervisionItem._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s::date)"] * len(items))
    params: list[Any] = []
    for item in items:
        params += [item.pk, item.light, item.light_reason, item.next_report_on]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS i SET light = v.light, light_reason = v.reason, next_report_on = v.next "  # noqa: S608 - table name from the model, values bound
            f"FROM (VALUES {values}) AS v(id, light, reason, next) WHERE i.id = v.id",
            params,
        )


def _recompute_batch(
    batch: list[SupervisionItem],
    day: date,
    cal: WorkingCalendar,
    report: RecomputeReport,
    children: dict[int, list[tuple[str, str, str]]],
) -> None:
    latest = latest_reports_of(i.pk for i in batch if i.state in REPORTING_STATES)
    changed = []
    for item in batch:
        result = evaluate(
            item,
            today=day,
            calendar=cal,
            last_report_on=latest.get(item.pk),
            children=children.get(item.pk, []),
        )
        if _apply(item, result):
            changed.append(item)
        report.counts[item.light] = report.counts.get(item.light, 0) + 1
        if item.parent_id is not None:
            children.setdefault(item.parent_id, []).append(
                (_child_label(item.number, item.title), item.light, item.light_reason)
            )
    if changed:
        _write_lights(changed)
    report.scanned += len(batch)
    report.changed += len(changed)
    report.batches += 1


# --- 进展反馈 reminders ----------------------------------------------------------------------------

SCAN_BATCH = 500
REPORT_KINDS = (ReminderKind.REPORT_DUE, ReminderKind.REPORT_LATE)
# The notifications are 催办 like any other (urging._notify_batch writes them with its kind).
NOTIFY_KIND = urging.NOTIFY_KIND


@dataclass
class ScanReport:
    today: date
    rest_day: bool = False
    scanned: int = 0  # items read: a report due tomorrow or late, and no reminder for it yet today
    batches: int = 0
    retried: int = 0  # batches redone after another scan inserted the same reminders
    sent: dict[str, int] = field(default_factory=dict)  # kind -> reminders sent by this run
    to_head: int = 0  # late reminders that also went to the unit's head(s) (once per lateness)
    to_leader: int = 0  # … and to the 分管 leader(s)
    no_task: int = 0  # due, but the item has no open 承办 task to attach the reminder to
    nobody: int = 0  # due, but nobody to tell

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    def summary(self) -> str:
        if self.rest_day:
            return f"{self.today}: 非工作日，不发送进展反馈催报"
        sent = ", ".join(f"{kind}={n}" for kind, n in sorted(self.sent.items())) or "none"
        return (
            f"{self.today}: scanned {self.scanned} items, sent {sent}, to_head {self.to_head}, "
            f"to_leader {self.to_leader}, no task {self.no_task}, retried batches {self.retried}"
        )


@dataclass
class _Plan:
    """One reminder owed today: the item, its open 承办 task, which kind, about which due date."""

    item: SupervisionItem
    task: Task
    kind: str
    due: date
    late: int = 0
    to_head: bool = False
    to_leader: bool = False


def _handle_tasks(items: Iterable[SupervisionItem]) -> dict[int, Task]:
    """The open 承办 task of each item (by item pk), with its owner, in one query. An item with
    several (a 协办 split someday) gets its first: the lead unit's."""
    by_process = {item.process_pk: item.pk for item in items if getattr(item, "process_pk", None)}
    found: dict[int, Task] = {}
    for task in (
        Task.objects.filter(
            process_id__in=list(by_process), status__in=OPEN_STATUSES, flow_task=SupervisionFlow.handle
        )
        .select_related("owner")
        .order_by("pk")
    ):
        found.setdefault(by_process[task.process_id], task)
    return found


def _escalation_start(due: date, after: int, cal: WorkingCalendar) -> date:
    """The working day a report due on `due` has been late `after` working days."""
    return cal.add_working_days(due, after).due_on


def scan_report_reminders(today: date | None = None, *, batch_size: int = SCAN_BATCH) -> ScanReport:
    """The worker's job: 进展反馈 reminders, each exactly once.

    On each working day, for items being handled (承办):
    - REPORT_DUE on the last working day before a report is due, to whoever holds the 承办 task;
    - REPORT_LATE on each working day the report is late, to them — and, once per lateness, also to
      the unit head(s) after REMINDER_RULE's `head` working days late and to the 分管 leader(s)
      after its `leader` days, as 收文's TO_HEAD/TO_LEADER (the escalation rides on that day's
      REPORT_LATE row: TO_HEAD/TO_LEADER rows belong to the deadline and go out once per task).
    The deadline's own reminders come from urging.scan_reminders through the 承办 task's TaskDue.

    Exactly once: every reminder is a Reminder row on the item's open 承办 task, unique per
    (task, kind, day), inserted in the same transaction as its notifications, a batch at a time;
    a run that dies has committed whole batches only, and a batch that meets a concurrent run's
    rows is redone after reading them."""
    day = _today(today)
    report = ScanReport(today=day)
    cal = CountingCalendar()
    if not cal.is_working_day(day):
        report.rest_day = True
        return report
    rule = urging.current_rule()
    tomorrow = cal.add_working_days(day, 1).due_on
    # Items reminded today, as NOT IN (…): PostgreSQL hashes it once. A correlated NOT EXISTS
    # through the task was planned as a nested loop over today's rows, which the statistics
    # never know yet (they were all inserted today): seconds per repeat run at 100,000 items.
    reminded_today = (
        Reminder.objects.filter(
            kind__in=REPORT_KINDS,
            for_date=day,
            by__isnull=True,
            task__process__supervisionprocess__isnull=False,
        )
        .order_by()
        .values("task__process__supervisionprocess__item_id")
    )
    # The stored next report date is independent of the day (it moves when a report or the
    # schedule changes, and each such change refreshes it); each batch re-checks it against the
    # reports themselves.
    candidates = (
        SupervisionItem.objects.filter(
            state=ItemState.HANDLE, next_report_on__isnull=False, next_report_on__lte=tomorrow
        )
        .exclude(next_report_on=day)  # due today: yesterday's REPORT_DUE told them; late from tomorrow
        .exclude(pk__in=reminded_today)
        .annotate(process_pk=F("process__pk"))
        .only(*READ_FIELDS, "lead_department_id", "lead_agency_id", "supervisor_id")
        .order_by("pk")
    )
    directory = _Escalations()
    after = 0
    while True:
        batch = list(candidates.filter(pk__gt=after)[:batch_size])
        if not batch:
            break
        after = batch[-1].pk
        report.scanned += len(batch)
        plans = _plan_batch(batch, day, tomorrow, cal, rule, report)
        if plans:
            _send_report_batch(plans, day, report, directory)
        if len(batch) < batch_size:
            break
    return report


def _plan_batch(
    batch: list[SupervisionItem],
    day: date,
    tomorrow: date,
    cal: WorkingCalendar,
    rule: urging.ReminderRule,
    report: ScanReport,
) -> list[_Plan]:
    latest = latest_reports_of(i.pk for i in batch)
    tasks = _handle_tasks(batch)
    plans: list[_Plan] = []
    for item in batch:
        due = next_report_due(item, today=day, calendar=cal, last_report_on=latest.get(item.pk))
        if due is None or due == day or due > tomorrow:
            continue  # a report came in since the stored date was written
        task = tasks.get(item.pk)
        if task is None:
            report.no_task += 1
            continue
        if due > day:
            plans.append(_Plan(item, task, ReminderKind.REPORT_DUE, due))
            continue
        late = cal.working_days_between(due, day)
        plans.append(_Plan(item, task, ReminderKind.REPORT_LATE, due, late=late))
    # Escalations once per lateness: not when an earlier late reminder of this lateness (a row
    # after the due date) already reached the threshold.
    late_plans = [p for p in plans if p.kind == ReminderKind.REPORT_LATE]
    if late_plans:
        earlier: dict[int, list[date]] = {}
        for task_id, for_date in Reminder.objects.filter(
            task_id__in=[p.task.pk for p in late_plans],
            kind=ReminderKind.REPORT_LATE,
            by__isnull=True,
            for_date__gt=min(p.due for p in late_plans),
            for_date__lt=day,
        ).values_list("task_id", "for_date"):
            earlier.setdefault(task_id, []).append(for_date)
        for p in late_plans:
            before = [d for d in earlier.get(p.task.pk, []) if d > p.due]
            for threshold, attr in ((rule.to_head_after, "to_head"), (rule.to_leader_after, "to_leader")):
                if threshold and p.late >= threshold:
                    start = _escalation_start(p.due, threshold, cal)
                    setattr(p, attr, not any(d >= start for d in before))
    return plans


@dataclass
class _Escalations:
    """Unit heads and 分管 leaders per department, read once per scan."""

    heads: dict[int, list[User]] = field(default_factory=dict)
    leaders: dict[int, list[User]] = field(default_factory=dict)

    def load(self, department_ids: Iterable[int]) -> None:
        missing = sorted(set(department_ids) - set(self.heads))
        if not missing:
            return
        heads, leaders = urging._escalation_targets(missing)
        for dept_id in missing:
            self.heads[dept_id] = heads.get(dept_id, [])
            self.leaders[dept_id] = leaders.get(dept_id, [])


def _send_report_batch(plans: list[_Plan], day: date, report: ScanReport, directory: _Escalations) -> None:
    for attempt in range(1, urging.BATCH_ATTEMPTS + 1):
        partial_report = ScanReport(today=day)
        try:
            with transaction.atomic():
                _send_report_batch_once(plans, day, partial_report, directory, recheck=attempt > 1)
        except IntegrityError:
            if attempt == urging.BATCH_ATTEMPTS:
                raise
            report.retried += 1
            continue
        report.batches += 1
        report.nobody += partial_report.nobody
        report.to_head += partial_report.to_head
        report.to_leader += partial_report.to_leader
        for kind, n in partial_report.sent.items():
            report.sent[kind] = report.sent.get(kind, 0) + n
        return


def _item_url(item: SupervisionItem, task: Task) -> str:
    try:
        return reverse("workflows:supervision_item", args=[item.pk])
    except NoReverseMatch:  # the item page (helper S3) not mounted yet: the task's own link
        return urging._task_url(task)


def _send_report_batch_once(
    plans: list[_Plan], day: date, report: ScanReport, directory: _Escalations, *, recheck: bool
) -> None:
    todo = sorted(plans, key=lambda p: (p.task.pk, p.kind))
    if recheck:
        # A concurrent run sent some of these meanwhile (and maybe escalated): read what it sent.
        sent = set(
            Reminder.objects.filter(
                task_id__in=[p.task.pk for p in todo], kind__in=REPORT_KINDS, for_date=day, by__isnull=True
            ).values_list("task_id", "kind")
        )
        still_open = set(
            Task.objects.filter(pk__in=[p.task.pk for p in todo], status__in=OPEN_STATUSES).values_list(
                "pk", flat=True
            )
        )
        todo = [p for p in todo if (p.task.pk, p.kind) not in sent and p.task.pk in still_open]
        if not todo:
            return
    holdings = urging.holdings_of(list({p.task.pk: p.task for p in todo}.values()))
    directory.load(d for p in todo if p.to_head or p.to_leader for d in holdings[p.task.pk].department_ids)
    rows: list[Reminder] = []
    outgoing: list[Any] = []
    for p in todo:
        holding = holdings[p.task.pk]
        holders = holding.everyone
        mine = {u.pk for u in holders}
        heads = _people(holding.department_ids, directory.heads, mine) if p.to_head else []
        leaders = (
            _people(holding.department_ids, directory.leaders, mine | {u.pk for u in heads})
            if p.to_leader
            else []
        )
        if not (holders or heads or leaders):
            report.nobody += 1
            continue
        item = p.item
        url = _item_url(item, p.task)
        name = f"{item.number} {item.title}".strip()
        when = day_label(p.due, today=day)
        names = "、".join(u.real_name for u in holding.holders) or "（无）"
        if p.kind == ReminderKind.REPORT_DUE:
            title = f"进展反馈将于{when}到期：{item.title}"
            body = f"督办事项：{name}；请于{when}前报送进展反馈（{item.get_report_frequency_display()}）。"
        else:
            title = f"进展反馈逾期{p.late}个工作日：{item.title}"
            body = f"督办事项：{name}；进展反馈应于{when}报送，已逾期{p.late}个工作日；承办人：{names}。"
        reminder = Reminder(
            task_id=p.task.pk,
            kind=p.kind,
            for_date=day,
            recipients=[u.pk for u in [*holders, *heads, *leaders]],
            note=("已升级至处室负责人" if heads else "")
            + ("、分管领导" if heads and leaders else "分管领导" if leaders else ""),
        )
        rows.append(reminder)
        if holders:
            outgoing.append(
                urging._Outgoing(reminder=reminder, recipients=holders, title=title, body=body, url=url)
            )
        if heads:
            outgoing.append(
                urging._Outgoing(
                    reminder=reminder, recipients=heads, title=f"本处室{title}", body=body, url=url
                )
            )
            report.to_head += 1
        if leaders:
            outgoing.append(
                urging._Outgoing(
                    reminder=reminder, recipients=leaders, title=f"分管处室{title}", body=body, url=url
                )
            )
            report.to_leader += 1
    if not rows:
        return
    # Reminders and notifications commit together; a unique conflict rolls the batch back.
    Reminder.objects.bulk_create(rows)
    urging._notify_batch(outgoing)
    counts: dict[str, int] = {}
    for row in rows:
        report.sent[row.kind] = report.sent.get(row.kind, 0) + 1
        counts[row.kind] = counts.get(row.kind, 0) + 1
    record(
        "workflows.supervision_reminders_sent",
        actor=None,
        object_type="workflows.reminder",
        details={"for_date": day.isoformat(), "items": len(rows), **counts},
    )
    emit(
        "workflows.supervision_reminders_sent",
        object_type="workflows.reminder",
        payload={
            "for_date": day.isoformat(),
            "reminders": [
                [p.item.pk, p.task.pk, p.kind] for p in todo if any(r.task_id == p.task.pk for r in rows)
            ],
        },
    )


def _people(department_ids: list[int], above: dict[int, list[User]], exclude: set[int]) -> list[User]:
    seen: dict[int, User] = {}
    for dept_id in department_ids:
        for user in above.get(dept_id, []):
            if user.pk not in exclude and user.is_active:
                seen.setdefault(user.pk, user)
    return list(seen.values())
