"""效能统计: how long the 发文 flow takes an agency, per flow, per step and per drafting department,
how much of it is overdue, and the trend over the last twelve months.

Who: the agency's office (办公室主任, 文秘) — `can_view_efficiency`; the page gives others 403.

What is counted: the HUMAN tasks of the agency's processes (the process's document is the agency's)
created in the chosen date range (Asia/Shanghai days; at most MAX_RANGE_DAYS), canceled tasks left
out (a 退回 or 撤回 cancels what was open; the redone task is counted). A task's processing time is
finished − created (only finished tasks have one). A task is overdue when its document has a 办理时限
(deadline) and the task finished on a later day, or is still open after that day. The flow row is
the process: created in the range, its duration finished − created, overdue when it finished after
the deadline or is still running past it.

Every figure is one GROUP BY in SQL (one query per chart) over rows bounded by the range:
- the agency's documents come from the documents(agency_id) index, their processes from
  workflows_outgoingprocess(document_id) (unique), the tasks of each from viewflow_task(process_id);
  the date range then filters task.created. For a large agency PostgreSQL may instead walk
  viewflow_task(created) (viewflow's own index) for the range and join upward: either way the rows
  read are the agency's tasks in the range, never the whole table.
- the department row joins documents(department_id) → org_department(pk) for the name;
- the trend groups by the month of task.created (Asia/Shanghai) over the last 12 months.
The lists behind a bar are at most LIST_LIMIT tasks, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from officeapp.access import has_role
from officeapp.org.models import Agency, Role
from workflows.flows import STEP_LABELS, STEP_ORDER
from workflows.models import OutgoingProcess

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 90
LIST_LIMIT = 100
TREND_MONTHS = 12
FLOW_LABELS = {"workflows/flows.OutgoingFlow": "发文"}
DIMENSIONS = {"flow": "流程", "step": "环节", "department": "处室", "month": "月份"}

_DURATION = ExpressionWrapper(F("finished") - F("created"), output_field=DurationField())


def can_view_efficiency(user: Any, agency: Agency | None) -> bool:
    if agency is None:
        return False
    return any(has_role(user, role, agency=agency) for role in (Role.OFFICE_DIRECTOR, Role.OFFICE_SECRETARY))


@dataclass
class Bar:
    """One row of a chart and of the table behind it."""

    key: str
    label: str
    total: int
    finished: int
    average: timedelta | None
    overdue: int

    @property
    def overdue_rate(self) -> float:
        return self.overdue / self.total if self.total else 0.0

    @property
    def average_hours(self) -> float:
        return self.average.total_seconds() / 3600 if self.average else 0.0


@dataclass
class Statistics:
    agency: Agency
    date_from: date
    date_to: date
    flows: list[Bar]
    steps: list[Bar]
    departments: list[Bar]
    trend: list[Bar]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def agency_tasks(agency: Agency, date_from: date, date_to: date) -> QuerySet[Task]:
    """The agency's human tasks created in [date_from, date_to] (Shanghai days), canceled left out."""
    return Task.objects.filter(
        process__outgoingprocess__document__agency=agency,
        flow_task_type="HUMAN",
        created__gte=_day_start(date_from),
        created__lt=_day_start(date_to + timedelta(days=1)),
    ).exclude(status=STATUS.CANCELED)


def _overdue(deadline: str) -> Q:
    # Finished on a later (Shanghai) day than the deadline, or still open after it.
    today = timezone.localdate()
    return Q(**{f"{deadline}__isnull": False}) & (
        Q(finished__isnull=False, finished_on__gt=F(deadline))
        | Q(finished__isnull=True, **{f"{deadline}__lt": today})
    )


def _aggregates(deadline: str) -> dict[str, Any]:
    return {
        "total": Count("pk"),
        "done": Count("pk", filter=Q(finished__isnull=False)),
        "average": Avg(_DURATION, filter=Q(finished__isnull=False)),
        "overdue": Count("pk", filter=_overdue(deadline)),
    }


def _grouped(rows: QuerySet[Any], group: str, deadline: str) -> list[dict[str, Any]]:
    return list(
        rows.annotate(finished_on=TruncDate("finished"))
        .values(group)
        .annotate(**_aggregates(deadline))
        .order_by(group)
    )


def _bar(key: Any, label: str, row: dict[str, Any]) -> Bar:
    average = row["average"]
    if average is not None and not isinstance(average, timedelta):
        # SQLite averages the microseconds as a number; PostgreSQL gives an interval.
        average = timedelta(microseconds=float(average))
    return Bar(str(key), label, int(row["total"]), int(row["done"]), average, int(row["overdue"]))


TASK_DEADLINE = "process__outgoingprocess__document__deadline"


def by_step(agency: Agency, date_from: date, date_to: date) -> list[Bar]:
    rows = _grouped(agency_tasks(agency, date_from, date_to), "flow_task", TASK_DEADLINE)
    bars = [_bar(step_of(r["flow_task"]), STEP_LABELS.get(step_of(r["flow_task"]), "其他"), r) for r in rows]
    return sorted(bars, key=lambda b: STEP_ORDER.index(b.key) if b.key in STEP_ORDER else len(STEP_ORDER))


def step_of(flow_task: Any) -> str:
    """The node name of a stored flow_task ("workflows/flows.OutgoingFlow.dept_review")."""
    name = getattr(flow_task, "name", None)
    return str(name) if name else str(flow_task).rsplit(".", 1)[-1]


def by_department(agency: Agency, date_from: date, date_to: date) -> list[Bar]:
    group = "process__outgoingprocess__document__department"
    rows = list(
        agency_tasks(agency, date_from, date_to)
        .annotate(finished_on=TruncDate("finished"))
        .values(group, f"{group}__name")
        .annotate(**_aggregates(TASK_DEADLINE))
        .order_by(f"{group}__name")
    )
    return [_bar(r[group], r[f"{group}__name"] or "未知处室", r) for r in rows]


def by_month(agency: Agency, today: date | None = None) -> list[Bar]:
    """The last TREND_MONTHS months (this one included), empty months shown as zero."""
    today = today or timezone.localdate()
    months = _last_months(today)
    rows = (
        agency_tasks(agency, months[0], today)
        .annotate(month=TruncMonth("created"), finished_on=TruncDate("finished"))
        .values("month")
        .annotate(**_aggregates(TASK_DEADLINE))
        .order_by("month")
    )
    found = {_month_key(r["month"]): r for r in rows}
    empty = {"total": 0, "done": 0, "average": None, "overdue": 0}
    return [
        _bar(m.strftime("%Y-%m"), f"{m.year}年{m.month}月", found.get(m.strftime("%Y-%m"), empty))
        for m in months
    ]


def _month_key(value: Any) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%Y-%m")


def _last_months(today: date) -> list[date]:
    first = today.replace(day=1)
    months = [first]
    while len(months) < TREND_MONTHS:
        months.insert(0, (months[0] - timedelta(days=1)).replace(day=1))
    return months


def by_flow(agency: Agency, date_from: date, date_to: date) -> list[Bar]:
    """Per flow: the processes started in the range, their duration and overdue rate."""
    rows = (
        OutgoingProcess.objects.filter(
            document__agency=agency,
            created__gte=_day_start(date_from),
            created__lt=_day_start(date_to + timedelta(days=1)),
        )
        .exclude(status=STATUS.CANCELED)
        .annotate(finished_on=TruncDate("finished"))
        .values("flow_class")
        .annotate(**_aggregates("document__deadline"))
        .order_by("flow_class")
    )
    return [_bar(str(r["flow_class"]), FLOW_LABELS.get(str(r["flow_class"]), "其他流程"), r) for r in rows]


def statistics(agency: Agency, date_from: date, date_to: date) -> Statistics:
    """All four charts: four GROUP BY queries."""
    return Statistics(
        agency=agency,
        date_from=date_from,
        date_to=date_to,
        flows=by_flow(agency, date_from, date_to),
        steps=by_step(agency, date_from, date_to),
        departments=by_department(agency, date_from, date_to),
        trend=by_month(agency),
    )


def tasks_behind(agency: Agency, date_from: date, date_to: date, dimension: str, key: str) -> list[Task]:
    """The tasks behind one bar (at most LIST_LIMIT, newest first); [] for an unknown bar."""
    if dimension == "month":
        try:
            start = date.fromisoformat(f"{key}-01")
        except ValueError:
            return []
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        rows = agency_tasks(agency, start, end)
    else:
        rows = agency_tasks(agency, date_from, date_to)
        if dimension == "step":
            rows = rows.filter(flow_task__endswith=f".{key}")
        elif dimension == "department" and key.isdigit():
            rows = rows.filter(process__outgoingprocess__document__department_id=int(key))
        elif dimension == "flow":
            rows = rows.filter(process__flow_class=key)
        else:
            return []
    return list(
        rows.select_related("owner", "process__outgoingprocess__document").order_by("-created", "-id")[
            :LIST_LIMIT
        ]
    )
