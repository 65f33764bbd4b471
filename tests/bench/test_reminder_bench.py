"""Benchmark: the reminder scan (催办) over 100,000 open tasks with deadlines (PostgreSQL only).

Set-up, in bulk (COPY, as `generate_scale` writes tasks): one agency with 50 departments, each with a
head and 4 staff, a leader whose 分管 covers the agency; REMINDER_BENCH_TASKS (default 100,000) open
发文 tasks (plain viewflow Process/Task rows of OutgoingFlow's 处室审核 node, one process each) held
by the staff, and a TaskDue row each, deadlines spread over the two weeks before and after the
first scan day. Then, on three working days in a row, `scan_reminders` as the worker runs it: once
fresh (it sends the day's reminders) and REPEATS more times the same day (the worker's next runs,
every 10 minutes: they must send nothing). Printed: the median time of the fresh and of the repeat
runs, queries in total and per batch, reminders sent, and the time spent pushing to sockets.

The test runs with real commits (transactional database): each batch commits, and its
notifications are pushed after commit through the configured channel layer (Redis with
REDIS_URL), so both are in the times. Asserted: the queries per batch do not grow with the tasks; a
repeat run reads no task in a few queries; every reminder the rule makes due exists exactly once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/officeapp REDIS_URL=redis://127.0.0.1:6379/13 \
        TESTING=1 .venv/bin/python -m pytest -q -s tests/bench/test_reminder_bench.py -p no:randomly
"""

from __future__ import annotations

import os
import random
import re
import statistics
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from officeapp.calendar.models import CalendarDay, CalendarYear

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.IS_POSTGRES, reason="基准测试只在 PostgreSQL 上运行：请设置 DATABASE_URL=postgres://…"
    ),
]

TASKS = int(os.environ.get("REMINDER_BENCH_TASKS", "100000"))
DEPARTMENTS = 50
STAFF_PER_DEPARTMENT = 4
# A holiday-free stretch of 2026: Tuesday to Thursday, 17–19 November.
SCAN_DAYS = [date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)]
SPREAD_DAYS = 14
REPEATS = 3
# Queries per batch of tasks: its tasks with their holders, delegations, reminders,
# notifications, audit, outbox; candidates and the org chart when first needed.
QUERIES_PER_BATCH_MAX = 10
# A repeat run: the report's count and one empty read (the calendar is read from the database too).
REPEAT_QUERIES_MAX = 5


def build_org() -> tuple[Any, list[Any]]:
    from officeapp.org import services
    from officeapp.org.models import AgencyLevel, Portfolio, Role

    agency = services.create_agency(
        actor=None, name="基准测试厅", short_name="基准厅", level=AgencyLevel.PROVINCE, code="BENCH-RM"
    )
    staff = []
    for d in range(DEPARTMENTS):
        department = services.create_department(
            actor=None, agency=agency, name=f"第{d + 1}处", code=f"BENCH-RM-{d}"
        )
        head = services.create_user(
            actor=None, username=f"rm.head.{d}", real_name=f"处长{d}", department=department
        )
        services.grant_role(actor=None, user=head, role=Role.DEPT_HEAD, department=department)
        for s in range(STAFF_PER_DEPARTMENT):
            staff.append(
                services.create_user(
                    actor=None, username=f"rm.staff.{d}.{s}", real_name=f"科员{d}-{s}", department=department
                )
            )
    leader = services.create_user(
        actor=None, username="rm.leader", real_name="分管领导", department=department
    )
    Portfolio.objects.create(leader=leader, agency=agency)
    return agency, staff


def build_tasks(staff: list[Any]) -> dict[int, tuple[date, int]]:
    """TASKS open tasks with deadlines; returns task id → (due_on, owner id)."""
    from viewflow.workflow.models import Process, Task
    from viewflow.workflow.status import PROCESS, STATUS
    from viewflow.workflow.token import Token

    from officeapp.management.commands.generate_scale import _next_id, _reset_sequences, copy_or_bulk
    from workflows.models import TaskDue

    rng = random.Random(2026)
    now = timezone.now()
    flow_ref = "workflows/flows.OutgoingFlow"
    first_process, first_task = _next_id(Process), _next_id(Task)
    plan = {
        first_task + i: (
            SCAN_DAYS[0] + timedelta(days=rng.randint(-SPREAD_DAYS, SPREAD_DAYS)),
            staff[i % len(staff)].pk,
        )
        for i in range(TASKS)
    }
    processes = (
        Process(pk=first_process + i, flow_class=flow_ref, status=PROCESS.NEW, created=now, data={})
        for i in range(TASKS)
    )
    tasks = (
        Task(
            pk=task_id,
            process_id=first_process + (task_id - first_task),
            flow_task=f"{flow_ref}.dept_review",
            flow_task_type="HUMAN",
            status=STATUS.ASSIGNED,
            created=now,
            assigned=now,
            token=Token("start"),
            owner_id=owner_id,
            data={
                "title": f"关于第{task_id}项工作的通知",
                "step_label": "处室审核",
                "url": f"/workflows/tasks/{task_id}/",
            },
        )
        for task_id, (_due, owner_id) in plan.items()
    )
    dues = (TaskDue(task_id=task_id, due_on=due) for task_id, (due, _owner) in plan.items())
    copy_or_bulk(Process, processes, total=TASKS, desc="流程")
    copy_or_bulk(Task, tasks, total=TASKS, desc="任务")
    copy_or_bulk(TaskDue, dues, total=TASKS, desc="时限")
    _reset_sequences(Process, Task)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE viewflow_task; ANALYZE workflows_taskdue; ANALYZE workflows_reminder")
    return plan


def expected_reminders(plan: dict[int, tuple[date, int]], days: list[date]) -> set[tuple[int, str, date]]:
    """What the default rule makes due on each day, escalations once (on the first day past due)."""
    from officeapp.calendar.workdays import WorkingCalendar
    from workflows.models import ReminderKind
    from workflows.urging import REMINDER_RULE, reminders_due

    calendar = WorkingCalendar()
    expected: set[tuple[int, str, date]] = set()
    escalated: set[tuple[int, str]] = set()
    by_due: dict[tuple[date, date], list[str]] = {}
    for day in days:
        for task_id, (due, _owner) in plan.items():
            kinds = by_due.setdefault(
                (due, day), reminders_due(due, day, rule=REMINDER_RULE, calendar=calendar)
            )
            for kind in kinds:
                if kind in (ReminderKind.TO_HEAD, ReminderKind.TO_LEADER):
                    if (task_id, kind) in escalated:
                        continue
                    escalated.add((task_id, kind))
                expected.add((task_id, kind, day))
    return expected


def statement_mix(captured: list[dict[str, str]]) -> Counter[str]:
    """ "SELECT workflows_taskdue ×112, INSERT notify_notification ×111 …": what a run is made of
    (the table is the statement's own, not a subquery's)."""
    mix: Counter[str] = Counter()
    for query in captured:
        sql = query["sql"]
        verb = sql.split(None, 1)[0].upper() if sql else "?"
        depth, table = 0, ""
        for match in re.finditer(r'[()]|(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql):
            if match.group(0) == "(":
                depth += 1
            elif match.group(0) == ")":
                depth -= 1
            elif depth == 0:
                table = match.group(1)
                break
        mix[f"{verb} {table}".strip()] += 1
    return mix


def sql_seconds(captured: list[dict[str, str]]) -> float:
    return sum(float(q["time"]) for q in captured)


@pytest.mark.django_db(transaction=True)
def test_reminder_scan_over_100000_open_tasks(bench: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from workflows import urging
    from workflows.models import Reminder

    CalendarYear.objects.get_or_create(year=2026)
    CalendarDay.objects.filter(date__range=(date(2026, 11, 1), date(2026, 12, 6))).delete()

    started = time.perf_counter()
    _agency, staff = build_org()
    plan = build_tasks(staff)
    setup_s = time.perf_counter() - started

    # The pushes after commit, timed (they run inside scan_reminders, at each batch's commit).
    pushed = {"frames": 0, "seconds": 0.0}
    real_send = urging.send_to_groups

    def timed_send(frames: Any) -> None:
        t0 = time.perf_counter()
        real_send(frames)
        pushed["seconds"] += time.perf_counter() - t0
        pushed["frames"] += len(frames)

    monkeypatch.setattr(urging, "send_to_groups", timed_send)

    rows = []
    mix: dict[int, Counter[str]] = {}
    fresh_times: list[float] = []
    repeat_times: list[float] = []
    for day in SCAN_DAYS:
        for n in range(1 + REPEATS):
            repeat = n > 0
            pushed.update(frames=0, seconds=0.0)
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                report = urging.scan_reminders(day)
                elapsed = time.perf_counter() - t0
            (repeat_times if repeat else fresh_times).append(elapsed)
            count = len(queries.captured_queries)
            per_batch = count / max(report.batches, 1)
            rows.append(
                (
                    f"{day:%m-%d}{f'（同日第{n + 1}次）' if repeat else '（首次）'}",
                    f"{report.scanned:,}",
                    f"{report.total_sent:,}",
                    f"{report.already_sent:,}",
                    report.batches,
                    elapsed,
                    count,
                    per_batch,
                    sql_seconds(queries.captured_queries),
                    f"{pushed['frames']:,}",
                    pushed["seconds"],
                )
            )
            if day == SCAN_DAYS[0] and n in (0, 1):
                mix[n] = statement_mix(queries.captured_queries)
            if repeat:
                assert report.total_sent == 0
                assert report.scanned == 0, f"{day}: 同日重跑读了 {report.scanned} 个任务"
                assert count <= REPEAT_QUERIES_MAX, f"{day}: 同日重跑 {count} 次查询"
            else:
                assert report.total_sent > 0
                assert per_batch <= QUERIES_PER_BATCH_MAX, f"{day}: {per_batch:.1f} 次查询/批，随任务数增长"

    bench.print_table(
        f"催办扫描：{TASKS:,} 个在办任务（期限分布在首个扫描日前后各 {SPREAD_DAYS} 天），每批真实提交并在提交后推送；"
        f"准备数据 {setup_s:.1f} 秒；当日首次扫描中位用时 {statistics.median(fresh_times):.2f} 秒，"
        f"同日重跑中位用时 {statistics.median(repeat_times) * 1000:.0f} 毫秒",
        [
            "扫描",
            "读取任务",
            "发送",
            "已发送",
            "批数",
            "用时(秒)",
            "SQL 查询数",
            "查询/批",
            "SQL(秒)",
            "推送帧",
            "推送(秒)",
        ],
        rows,
    )

    for n, label in ((0, "首次"), (1, "同日重跑")):
        print(f"{label}的语句：" + "，".join(f"{k} ×{v}" for k, v in mix[n].most_common()))

    # Every reminder the rule makes due exists exactly once, after 1 + REPEATS runs a day.
    got = Counter(
        Reminder.objects.filter(task_id__in=plan.keys(), by__isnull=True).values_list(
            "task_id", "kind", "for_date"
        )
    )
    assert set(got.values()) == {1}
    assert set(got) == expected_reminders(plan, SCAN_DAYS)
