"""督办 data at scale for the benchmarks (PostgreSQL only): items, their units, reports and their open
承办 tasks, written in bulk (COPY), no flow run.

    build_supervision_data(items=100_000, reports=500_000, agency=agency, departments=departments,
                           today=date(2026, 11, 17))

- `items` SupervisionItems of `agency` in state 承办 (HANDLE), led by `departments` in turn, a fifth
  with a 协办 department; received over the ten months before `today`, deadlines from two months
  overdue to a year ahead; report frequencies mixed (monthly half, weekly, quarterly, once, every 10
  working days); numbered 督〔year〕n after the agency's existing serials.
- `reports` ProgressReports spread over the items (on average reports/items each) between the
  item's 收到 day and `today`: most items reported lately, a quarter not for weeks; most signed off
  (submitted/accepted), some drafts and 协办 contributions.
- One SupervisionUnit per unit, and per item a SupervisionProcess with its open 承办 task held by
  the lead department's first staff member (its head when it has no staff).
- Lights, reasons and next report dates are stored as `light_for` gives them on `today`, so a
  dashboard reads realistic colours at once and the nightly job's first run changes only what the
  next day changes.
Deterministic (seeded). The caller owns the transaction; sequences are moved past the new ids.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
FREQUENCIES = [("monthly", 50), ("weekly", 20), ("quarterly", 15), ("once", 10), ("custom", 5)]
IMPORTANCES = [("normal", 70), ("important", 25), ("critical", 5)]
SOURCES = ["instruction", "meeting", "document", "higher", "proposal", "public", "other"]
TITLES = [
    "推进政务服务“一网通办”",
    "落实安全生产大检查部署",
    "加快重点项目建设进度",
    "做好防汛防台风准备工作",
    "优化营商环境专项行动",
    "推进老旧小区改造",
    "开展耕地保护专项整治",
    "落实稳就业政策措施",
]


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows (already in database types) into a table; returns how many."""
    if connection.vendor != "postgresql":
        raise RuntimeError("build_supervision_data 只在 PostgreSQL 上运行（COPY）")
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=SHANGHAI)


def build_supervision_data(
    *,
    items: int = 100_000,
    reports: int = 500_000,
    agency: Any,
    departments: Sequence[Any],
    today: date,
    seed: int = 2026,
) -> None:
    """Write `items` 督办事项 in 承办 with `reports` 进展反馈 (see the module docstring)."""
    from viewflow.workflow.models import Process, Task
    from viewflow.workflow.status import PROCESS, STATUS

    from officeapp.management.commands.generate_scale import _next_id, _reset_sequences
    from officeapp.org.models import User
    from workflows.models import ItemState, ProgressReport, ReportState, SupervisionItem, SupervisionUnit
    from workflows.supervision_lights import CountingCalendar, evaluate

    if not departments:
        raise ValueError("build_supervision_data: departments must not be empty")
    rng = random.Random(seed)
    calendar = CountingCalendar()
    now = timezone.now()
    people: dict[int, list[int]] = defaultdict(list)
    for user_id, department_id in (
        User.objects.filter(department__in=departments, is_active=True)
        .order_by("pk")
        .values_list("pk", "department_id")
    ):
        people[department_id].append(user_id)
    if not any(people.values()):
        raise ValueError("build_supervision_data: the departments have no users")
    someone = next(iter(u for users in people.values() for u in users))
    holder_of = {
        d.pk: (people[d.pk][1] if len(people[d.pk]) > 1 else (people[d.pk] or [None])[0]) for d in departments
    }
    year = today.year
    first_serial = (
        SupervisionItem.objects.filter(agency=agency, year=year)
        .order_by("-serial")
        .values_list("serial", flat=True)
        .first()
        or 0
    ) + 1

    first_item = _next_id(SupervisionItem)
    first_process = _next_id(Process)
    first_task = _next_id(Task)
    first_report = _next_id(ProgressReport)
    first_unit = _next_id(SupervisionUnit)

    # Reports per item: `reports` spread, at least one for most items.
    per_item = [0] * items
    for _ in range(reports):
        per_item[rng.randrange(items)] += 1

    item_rows: list[list[Any]] = []
    unit_rows: list[list[Any]] = []
    report_rows: list[list[Any]] = []
    report_id = first_report
    unit_id = first_unit
    for n in range(items):
        item_id = first_item + n
        lead = departments[n % len(departments)]
        co = departments[(n * 7 + 3) % len(departments)] if n % 5 == 0 and len(departments) > 1 else None
        if co is not None and co.pk == lead.pk:
            co = None
        received = today - timedelta(days=rng.randint(10, 300))
        due = today + timedelta(days=rng.randint(-60, 365))
        if due <= received:
            due = received + timedelta(days=30)
        frequency = _weighted(rng, FREQUENCIES)
        interval = 10 if frequency == "custom" else None
        # The item's reports: up to a recent day for most, weeks ago for a quarter.
        lag = rng.randint(0, 7) if rng.random() < 0.75 else rng.randint(8, 90)
        last_day = max(received, today - timedelta(days=lag))
        span = (last_day - received).days
        days = sorted(received + timedelta(days=rng.randint(0, span)) for _ in range(per_item[n]))
        latest: date | None = None
        author = holder_of[lead.pk] or someone
        for k, day in enumerate(days):
            is_lead = co is None or rng.random() < 0.85
            roll = rng.random()
            state = (
                ReportState.ACCEPTED
                if roll < 0.6
                else ReportState.SUBMITTED
                if roll < 0.93
                else ReportState.DRAFT
            )
            unit = lead if is_lead else co
            at = _at(day)
            report_rows.append(
                [
                    report_id,
                    item_id,
                    "progress",
                    unit.pk,
                    None,
                    unit.name,
                    is_lead,
                    None,
                    f"第{k + 1}次进展反馈：按计划推进。",
                    min(100, 10 + 15 * k),
                    None,
                    state,
                    author,
                    author if state != ReportState.DRAFT else None,
                    at if state != ReportState.DRAFT else None,
                    "",
                    at,
                    at if state != ReportState.DRAFT else None,
                ]
            )
            report_id += 1
            if is_lead and state != ReportState.DRAFT:
                latest = day
        co_units = [{"kind": "department", "id": co.pk, "label": co.name}] if co is not None else []
        item = SupervisionItem(
            pk=item_id,
            agency_id=agency.pk,
            state=ItemState.HANDLE,
            received_on=received,
            due_on=due,
            report_frequency=frequency,
            report_interval_days=interval,
        )
        result = evaluate(item, today=today, calendar=calendar, last_report_on=latest, children=[])
        serial = first_serial + n
        item_rows.append(
            [
                item_id,
                agency.pk,
                None,
                year,
                serial,
                f"督〔{year}〕{serial}号",
                rng.choice(SOURCES),
                None,
                None,
                "",
                "",
                f"{TITLES[n % len(TITLES)]}（第{n + 1}项）",
                "按期报送进展，按时办结。",
                lead.pk,
                None,
                _json(co_units),
                received,
                due,
                None,
                frequency,
                interval,
                result.next_report_on,
                _weighted(rng, IMPORTANCES),
                someone,
                None,
                ItemState.HANDLE,
                result.light,
                result.reason,
                min(100, 10 + 15 * max(len(days) - 1, 0)) if days else 0,
                _at(latest) if latest else None,
                None,
                None,
                None,
                someone,
                _at(received, 9),
                now,
            ]
        )
        unit_rows.append([unit_id, item_id, lead.pk, None, True])
        unit_id += 1
        if co is not None:
            unit_rows.append([unit_id, item_id, co.pk, None, False])
            unit_id += 1

    _copy("workflows_supervisionitem", _columns(SupervisionItem), item_rows)
    _copy("workflows_supervisionunit", ["id", "item_id", "department_id", "agency_id", "is_lead"], unit_rows)
    _copy("workflows_progressreport", _columns_of("workflows.ProgressReport"), report_rows)
    flow = "workflows/flows.SupervisionFlow"
    _copy(
        "viewflow_process",
        ["id", "flow_class", "status", "created", "finished", "data"],
        ([first_process + n, flow, _value(PROCESS.NEW), now, None, "{}"] for n in range(items)),
    )
    _copy(
        "workflows_supervisionprocess",
        ["process_ptr_id", "item_id", "route", "suspended"],
        ([first_process + n, first_item + n, "next", False] for n in range(items)),
    )
    _copy(
        "viewflow_task",
        [
            "id",
            "process_id",
            "flow_task",
            "flow_task_type",
            "status",
            "created",
            "assigned",
            "token",
            "owner_id",
            "data",
            "external_task_id",
        ],
        _task_rows(
            items, first_task, first_process, flow, _value(STATUS.ASSIGNED), now, item_rows, holder_of
        ),
    )
    _reset_sequences(SupervisionItem, SupervisionUnit, ProgressReport, Process, Task)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE workflows_supervisionitem; ANALYZE workflows_progressreport; "
            "ANALYZE workflows_supervisionunit; ANALYZE viewflow_task; ANALYZE viewflow_process; "
            # The dashboard's counts, written by the triggers during the COPY (autovacuum would
            # analyze it after a load this size too).
            "ANALYZE workflows_supervisiontally"
        )


def _task_rows(
    items: int,
    first_task: int,
    first_process: int,
    flow: str,
    status: str,
    now: datetime,
    item_rows: list[list[Any]],
    holder_of: dict[int, int | None],
) -> Iterator[list[Any]]:
    for n in range(items):
        row = item_rows[n]
        title, lead_id = row[11], row[13]
        yield [
            first_task + n,
            first_process + n,
            f"{flow}.handle",
            "HUMAN",
            status,
            now,
            now,
            "start",
            holder_of.get(lead_id),
            _json({"title": title, "step_label": "承办"}),
            None,
        ]


def _value(choice: Any) -> str:
    return str(getattr(choice, "value", choice))


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.local_concrete_fields]


def _columns_of(label: str) -> list[str]:
    from django.apps import apps

    return _columns(apps.get_model(label))
