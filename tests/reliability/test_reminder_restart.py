"""A reminder run that dies in the middle neither loses nor doubles a reminder; two runs at once
send each reminder once.

The crash is a failure injected where the notifications of the N-th task are written (the worst
moment: its Reminder row is already inserted in the same transaction); the worker's next run picks
up the rest. The concurrent runs are threads on PostgreSQL, where the unique index really blocks
and conflicts; SQLite serialises the whole database and cannot race.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from viewflow.workflow.models import Task

from officeapp.calendar.models import CalendarDay, CalendarYear
from officeapp.notify.models import Notification
from tests.documents.factories import make_document
from tests.workflows.conftest import FlowCast, build_flow_cast
from workflows import services, urging
from workflows.models import Reminder, ReminderKind

# 2026-10-09 (Friday): tasks due 9月30日 are 2 working days late (国庆节 in between): OVERDUE and
# TO_HEAD are due for each.
SCAN_DAY = date(2026, 10, 9)
DEADLINE = date(2026, 9, 30)
TASKS = 6


@pytest.fixture
def flow_cast(cast: Any) -> FlowCast:
    return build_flow_cast(cast)


def seed_calendar() -> None:
    # Calendar days may have been flushed by an earlier transactional test: write the ones we use.
    CalendarYear.objects.get_or_create(year=2026)
    for day in range(1, 8):
        CalendarDay.objects.update_or_create(
            date=date(2026, 10, day), defaults={"kind": "holiday", "name": "国庆节"}
        )


def overdue_tasks(flow_cast: FlowCast, n: int = TASKS) -> list[Task]:
    cast = flow_cast.cast
    tasks = []
    for i in range(n):
        document = make_document(cast, title=f"关于第{i + 1}批防汛物资调拨的通知", deadline=DEADLINE)
        services.start_outgoing(document, actor=cast.drafter)
        tasks.append(
            Task.objects.get(process__outgoingprocess__document=document, flow_task__endswith=".draft")
        )
    return tasks


def scan(**kwargs: Any) -> urging.ScanReport:
    moment = datetime(SCAN_DAY.year, SCAN_DAY.month, SCAN_DAY.day, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=False):
        return urging.scan_reminders(**kwargs)


def assert_each_reminder_once(tasks: list[Task], flow_cast: FlowCast) -> None:
    cast = flow_cast.cast
    rows = Counter(Reminder.objects.filter(task__in=tasks).values_list("task_id", "kind"))
    expected = {(t.pk, k) for t in tasks for k in (ReminderKind.OVERDUE, ReminderKind.TO_HEAD)}
    assert set(rows) == expected
    assert set(rows.values()) == {1}
    # One notification per reminder and recipient: the holder once per task, the head once per task.
    assert Notification.objects.filter(recipient=cast.drafter, kind=urging.NOTIFY_KIND).count() == len(tasks)
    assert Notification.objects.filter(recipient=cast.dept_head, kind=urging.NOTIFY_KIND).count() == len(
        tasks
    )


class Crash(RuntimeError):
    """The worker process dying at this point."""


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 4])
def test_a_run_dying_at_the_nth_task_loses_and_doubles_nothing_after_the_next_run(
    flow_cast: FlowCast, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    # given: six overdue tasks, and a worker that dies while writing the 3rd task's notifications
    seed_calendar()
    tasks = overdue_tasks(flow_cast)
    real_notify = urging._notify_batch
    seen: list[int] = []

    def dying_notify(outgoing: Any) -> None:
        for o in outgoing:
            if o.reminder.task_id not in seen:
                seen.append(o.reminder.task_id)
            if len(seen) >= 3:
                raise Crash("killed")
        real_notify(outgoing)

    monkeypatch.setattr(urging, "_notify_batch", dying_notify)

    # when: the run dies ...
    with pytest.raises(Crash):
        scan(batch_size=batch_size)

    # then: only whole batches before the crash were sent, the crashing one left no trace
    done_before = (2 // batch_size) * batch_size
    assert Reminder.objects.filter(task__in=tasks).values("task").distinct().count() == done_before

    # when: the worker runs again (restarted, or its next schedule)
    monkeypatch.setattr(urging, "_notify_batch", real_notify)
    report = scan(batch_size=batch_size)

    # then: every reminder exactly once
    assert report.total_sent == 2 * (TASKS - done_before)
    assert_each_reminder_once(tasks, flow_cast)


@pytest.mark.django_db
def test_a_third_run_on_the_same_day_finds_everything_sent(flow_cast: FlowCast) -> None:
    seed_calendar()
    tasks = overdue_tasks(flow_cast, 3)

    scan()
    scan()
    report = scan()

    assert report.total_sent == 0
    assert report.already_sent == 6
    assert_each_reminder_once(tasks, flow_cast)


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="unique-index races only on PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_send_each_reminder_once(
    flow_cast: FlowCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: tasks in several batches, and two workers released at the same moment
    seed_calendar()
    tasks = overdue_tasks(flow_cast, 8)
    barrier = threading.Barrier(2)
    reports: list[urging.ScanReport] = []
    errors: list[BaseException] = []
    real_holdings = urging.holdings_of
    first_batch_done = threading.local()
    meet = threading.Barrier(2, timeout=10)

    def holdings_after_both_read(tasks: Any) -> Any:
        # Inside each scan's first batch, after it read "nothing sent yet" and before it inserts:
        # wait for the other scan to get here too, so both insert the same reminders.
        if not getattr(first_batch_done, "value", False):
            first_batch_done.value = True
            meet.wait()
        return real_holdings(tasks)

    monkeypatch.setattr(urging, "holdings_of", holdings_after_both_read)

    def run() -> None:
        try:
            barrier.wait()
            reports.append(scan(batch_size=3))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert errors == []
    assert sum(r.total_sent for r in reports) == 2 * len(tasks)
    assert sum(r.retried for r in reports) >= 1  # one of them lost the race on the first batch
    assert_each_reminder_once(tasks, flow_cast)
