"""Benchmark: the 督办 nightly job over 100,000 items with 500,000 reports (PostgreSQL only).

Set-up in bulk (tests/bench/supervision_data.py, COPY): one agency with 50 departments (a head and
2 staff each, a leader whose 分管 covers the agency), SUPERVISION_BENCH_ITEMS (default 100,000)
items in 承办 with SUPERVISION_BENCH_REPORTS (default 500,000) reports, their lights stored as of
the day before the first night. Then, on three working days in a row, as the hourly worker job
runs them: `recompute_lights` (the first run of the day turns what the day changes; REPEATS more
runs the same day must change nothing) and `scan_report_reminders` (the first run sends the day's
进展反馈 reminders; the repeats send nothing). Printed: set-up time, the median of the first and of
the repeat runs, queries per batch, rows changed, reminders sent.

Real commits (transactional database): each batch commits and its notifications are pushed after
commit through the configured channel layer. Asserted: queries per batch do not grow with the
items; a repeat run changes and sends nothing; every reminder the schedule makes due exists exactly
once, attached to the item's open 承办 task.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/officeapp_s2 REDIS_URL=redis://127.0.0.1:6379/12 \
        TESTING=1 .venv/bin/python -m pytest -q -s tests/bench/test_supervision_nightly_bench.py -p no:randomly
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from officeapp.calendar.models import CalendarDay, CalendarYear

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.IS_POSTGRES, reason="基准测试只在 PostgreSQL 上运行：请设置 DATABASE_URL=postgres://…"
    ),
]

ITEMS = int(os.environ.get("SUPERVISION_BENCH_ITEMS", "100000"))
REPORTS = int(os.environ.get("SUPERVISION_BENCH_REPORTS", str(ITEMS * 5)))
DEPARTMENTS = 50
STAFF_PER_DEPARTMENT = 2
# A holiday-free stretch of 2026: data as of Monday 16 November, nights Tuesday to Thursday.
DATA_DAY = date(2026, 11, 16)
NIGHTS = [date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)]
REPEATS = 2
# Per batch: BEGIN, the items (locked), their latest reports, one UPDATE, COMMIT; once per run:
# the parents' ids and the calendar.
RECOMPUTE_QUERIES_PER_BATCH = 5
RECOMPUTE_QUERIES_ONCE = 9  # the parents' ids, the calendar, the last (empty) read
# Per batch of the scan: items, reports, 承办 tasks, earlier late reminders, holders (candidates,
# delegations), reminders, notifications, audit, outbox, the org chart when first needed.
SCAN_QUERIES_PER_BATCH_MAX = 14
REPEAT_SCAN_QUERIES_MAX = 3


def build_org() -> tuple[Any, list[Any]]:
    from officeapp.org import services
    from officeapp.org.models import AgencyLevel, Portfolio, Role

    agency = services.create_agency(
        actor=None, name="督办基准测试厅", short_name="督办厅", level=AgencyLevel.PROVINCE, code="BENCH-SV"
    )
    departments = []
    for d in range(DEPARTMENTS):
        department = services.create_department(
            actor=None, agency=agency, name=f"第{d + 1}处", code=f"BENCH-SV-{d}"
        )
        head = services.create_user(
            actor=None, username=f"sv.head.{d}", real_name=f"处长{d}", department=department
        )
        services.grant_role(actor=None, user=head, role=Role.DEPT_HEAD, department=department)
        for s in range(STAFF_PER_DEPARTMENT):
            services.create_user(
                actor=None, username=f"sv.staff.{d}.{s}", real_name=f"科员{d}-{s}", department=department
            )
        departments.append(department)
    leader = services.create_user(
        actor=None, username="sv.leader", real_name="分管领导", department=departments[0]
    )
    Portfolio.objects.create(leader=leader, agency=agency)
    return agency, departments


def expected_reminders(days: list[date]) -> set[tuple[int, str, date]]:
    """What the schedule makes due on each day for every item (no report arrives meanwhile),
    computed item by item with the one schedule function."""
    from viewflow.workflow.models import Task

    from workflows.models import ReminderKind, SupervisionItem, SupervisionProcess
    from workflows.supervision_lights import CountingCalendar, latest_reports_of, next_report_due

    calendar = CountingCalendar()
    items = list(
        SupervisionItem.objects.only(
            "pk", "received_on", "due_on", "report_frequency", "report_interval_days"
        ).order_by("pk")
    )
    latest: dict[int, date] = {}
    for start in range(0, len(items), 5000):
        latest.update(latest_reports_of(i.pk for i in items[start : start + 5000]))
    task_of = dict(SupervisionProcess.objects.values_list("item_id", "pk"))
    handle_task = dict(
        Task.objects.filter(flow_task__endswith="SupervisionFlow.handle").values_list("process_id", "pk")
    )
    expected: set[tuple[int, str, date]] = set()
    for item in items:
        due = next_report_due(item, calendar=calendar, last_report_on=latest.get(item.pk))
        if due is None:
            continue
        task_id = handle_task[task_of[item.pk]]
        for day in days:
            tomorrow = calendar.add_working_days(day, 1).due_on
            if day < due <= tomorrow:
                expected.add((task_id, ReminderKind.REPORT_DUE, day))
            elif due < day:
                expected.add((task_id, ReminderKind.REPORT_LATE, day))
    return expected


@pytest.mark.django_db(transaction=True)
def test_nightly_lights_and_report_reminders_over_100000_items(bench: Any) -> None:
    from tests.bench.supervision_data import build_supervision_data
    from workflows.models import Reminder
    from workflows.supervision_lights import recompute_lights, scan_report_reminders

    CalendarYear.objects.get_or_create(year=2026)
    CalendarDay.objects.filter(date__range=(date(2026, 11, 1), date(2026, 11, 30))).delete()

    started = time.perf_counter()
    agency, departments = build_org()
    build_supervision_data(
        items=ITEMS, reports=REPORTS, agency=agency, departments=departments, today=DATA_DAY
    )
    setup_s = time.perf_counter() - started
    print(f"\n准备数据 {setup_s:.1f} 秒")

    rows = []
    checks: list[tuple[bool, str]] = []
    times: dict[str, list[float]] = {"lights": [], "lights_repeat": [], "scan": [], "scan_repeat": []}
    for day in NIGHTS:
        for n in range(1 + REPEATS):
            repeat = n > 0
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                lights = recompute_lights(day)
                lights_s = time.perf_counter() - t0
            lights_queries = len(queries.captured_queries)
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                scan = scan_report_reminders(day)
                scan_s = time.perf_counter() - t0
            scan_queries = len(queries.captured_queries)
            times["lights_repeat" if repeat else "lights"].append(lights_s)
            times["scan_repeat" if repeat else "scan"].append(scan_s)
            lights_per_batch = lights_queries / max(lights.batches, 1)
            scan_per_batch = scan_queries / max(scan.batches, 1)
            rows.append(
                (
                    f"{day:%m-%d}{f'（同日第{n + 1}次）' if repeat else '（首次）'}",
                    f"{lights.scanned:,}",
                    f"{lights.changed:,}",
                    " ".join(f"{k}={v:,}" for k, v in lights.counts.items()),
                    lights_s,
                    lights_queries,
                    f"{scan.scanned:,}",
                    f"{scan.total_sent:,}",
                    f"{scan.to_head:,}/{scan.to_leader:,}",
                    scan_s,
                    scan_queries,
                    scan_per_batch,
                )
            )
            # Checked after the table is printed, so a failing run still shows its figures.
            if repeat:
                checks.append((lights.changed == 0, f"{day}: 同日重跑改了 {lights.changed} 件"))
                checks.append(
                    (
                        scan.total_sent == 0 and scan.scanned == 0,
                        f"{day}: 同日重跑又催了 {scan.total_sent} 条",
                    )
                )
                checks.append(
                    (scan_queries <= REPEAT_SCAN_QUERIES_MAX, f"{day}: 同日重跑 {scan_queries} 次查询")
                )
            else:
                once = RECOMPUTE_QUERIES_PER_BATCH * lights.batches + RECOMPUTE_QUERIES_ONCE
                checks.append((lights_queries <= once, f"{day}: 重算 {lights_per_batch:.1f} 次查询/批"))
                checks.append((scan.total_sent > 0, f"{day}: 没有催报"))
                checks.append(
                    (
                        scan_per_batch <= SCAN_QUERIES_PER_BATCH_MAX,
                        f"{day}: 催报 {scan_per_batch:.1f} 次查询/批",
                    )
                )

    bench.print_table(
        f"督办夜间任务：{ITEMS:,} 个承办中的督办事项、{REPORTS:,} 条进展反馈；准备数据 {setup_s:.1f} 秒；"
        f"亮灯重算首次中位 {statistics.median(times['lights']):.2f} 秒、同日重跑中位 "
        f"{statistics.median(times['lights_repeat']):.2f} 秒；催报扫描首次中位 {statistics.median(times['scan']):.2f} 秒、"
        f"同日重跑中位 {statistics.median(times['scan_repeat']) * 1000:.0f} 毫秒",
        [
            "日期",
            "重算事项",
            "变化",
            "各灯数",
            "重算(秒)",
            "重算查询",
            "待催事项",
            "催报发送",
            "升级处长/领导",
            "催报(秒)",
            "催报查询",
            "查询/批",
        ],
        rows,
    )

    assert [message for ok, message in checks if not ok] == []
    got = Counter(Reminder.objects.filter(by__isnull=True).values_list("task_id", "kind", "for_date"))
    assert set(got.values()) == {1}
    assert set(got) == expected_reminders(NIGHTS)
