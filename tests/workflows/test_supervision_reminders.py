"""进展反馈 催报 and the nightly light recompute, day by day with frozen dates across 国庆节 2026:
REPORT_DUE the working day before a report is due, REPORT_LATE each working day it is late,
escalating once to the 综合处 head and then to the 分管 leader, nothing on rest days, each reminder
exactly once across two runs and a run that dies mid-way; recompute_lights writes only what changed.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from officeapp.notify.models import Notification
from tests.workflows.test_supervision_lights import autumn_2026, make_item, report_on  # noqa: F401
from workflows import supervision_lights, urging
from workflows.flows import SupervisionFlow
from workflows.models import (
    ItemState,
    Light,
    Reminder,
    ReminderKind,
    ReportFrequency,
    SupervisionItem,
    SupervisionProcess,
)
from workflows.supervision_lights import recompute_lights, refresh_light, scan_report_reminders

pytestmark = pytest.mark.django_db

NOTIFY_KIND = supervision_lights.NOTIFY_KIND


def handled_item(cast: Any, *, holder: Any = None, **fields: Any) -> tuple[SupervisionItem, Task]:
    """A weekly-reporting item in 承办 with its open 承办 task held by 综合处's drafter (as the 督办
    flow leaves it after 签收); reports due 9月24日, 9月30日, 10月10日, 10月16日 …"""
    values = {
        "received_on": date(2026, 9, 16),
        "due_on": date(2026, 12, 31),
        "report_frequency": ReportFrequency.WEEKLY,
    }
    values.update(fields)
    item = make_item(cast, **values)
    process = SupervisionProcess.objects.create(item=item, flow_class=SupervisionFlow)
    task = Task.objects.create(
        process=process,
        flow_task=SupervisionFlow.handle,
        status=STATUS.ASSIGNED,
        owner=holder or cast.drafter,
        data={"title": item.title, "step_label": "承办"},
    )
    refresh_light(item, today=values["received_on"])
    return item, task


def sent(task: Task, day: date) -> list[str]:
    return sorted(Reminder.objects.filter(task=task, for_date=day).values_list("kind", flat=True))


def told(user: Any) -> int:
    return Notification.objects.filter(recipient=user, kind=NOTIFY_KIND).count()


# --- reminders day by day ------------------------------------------------------------------------


def test_report_reminders_day_by_day_across_national_day(cast: Any) -> None:
    item, task = handled_item(cast)
    days = [date(2026, 9, d) for d in (22, 23, 24, 25, 26, 28, 29, 30)] + [
        date(2026, 10, d) for d in range(1, 11)
    ]
    escalated: dict[date, list[int]] = {}
    for day in days:
        scan_report_reminders(day)
        row = Reminder.objects.filter(task=task, for_date=day).first()
        if row is not None:
            escalated[day] = sorted(row.recipients)

    got = {day: sent(task, day) for day in days if sent(task, day)}
    assert got == {
        date(2026, 9, 23): [ReminderKind.REPORT_DUE],  # the working day before 9月24日
        # Late from the next working day (9月25日 is 中秋节); nothing on the holiday.
        date(2026, 9, 28): [ReminderKind.REPORT_LATE],
        date(2026, 9, 29): [ReminderKind.REPORT_LATE],
        date(2026, 9, 30): [ReminderKind.REPORT_LATE],
        date(2026, 10, 8): [ReminderKind.REPORT_LATE],
        date(2026, 10, 9): [ReminderKind.REPORT_LATE],
        date(2026, 10, 10): [ReminderKind.REPORT_LATE],  # the 调休 Saturday is a working day
    }
    drafter, head, leader = cast.drafter.pk, cast.dept_head.pk, cast.leader.pk
    # The head once at 2 working days late, the 分管 leader once at 5 (REMINDER_RULE's head/leader).
    assert escalated[date(2026, 9, 28)] == [drafter]
    assert escalated[date(2026, 9, 29)] == sorted([drafter, head])
    assert escalated[date(2026, 9, 30)] == [drafter]
    assert escalated[date(2026, 10, 8)] == [drafter]
    assert escalated[date(2026, 10, 9)] == sorted([drafter, leader])
    assert escalated[date(2026, 10, 10)] == [drafter]
    assert told(cast.drafter) == 7
    assert told(cast.dept_head) == 1
    assert told(cast.leader) == 1
    titles = list(
        Notification.objects.filter(kind=NOTIFY_KIND, recipient=cast.dept_head).values_list(
            "title", flat=True
        )
    )
    assert titles == [f"本处室进展反馈逾期2个工作日：{item.title}"]


def test_a_report_stops_the_late_reminders_and_the_next_period_starts_fresh(cast: Any) -> None:
    item, task = handled_item(cast)
    for day in (date(2026, 9, 28), date(2026, 9, 29)):
        scan_report_reminders(day)
    report_on(item, date(2026, 9, 29))
    refresh_light(item, today=date(2026, 9, 29))  # as write_report/sign_off_report do

    # Written in the week of 9月28日, it answers 9月30日 as well: the next is 10月10日 (Saturday).
    for day in (date(2026, 9, 30), date(2026, 10, 8)):
        assert scan_report_reminders(day).total_sent == 0
    scan_report_reminders(date(2026, 10, 9))
    assert sent(task, date(2026, 10, 9)) == [ReminderKind.REPORT_DUE]
    scan_report_reminders(date(2026, 10, 12))
    scan_report_reminders(date(2026, 10, 13))
    # A new lateness escalates again to the head, once, at 2 working days late.
    recipients = Reminder.objects.get(task=task, for_date=date(2026, 10, 13)).recipients
    assert sorted(recipients) == sorted([cast.drafter.pk, cast.dept_head.pk])
    assert told(cast.dept_head) == 2


def test_the_reminder_names_the_item_and_the_due_date(cast: Any) -> None:
    item, _ = handled_item(cast, number="粤府办督〔2026〕7号")

    scan_report_reminders(date(2026, 9, 28))

    note = Notification.objects.get(recipient=cast.drafter, kind=NOTIFY_KIND)
    assert note.title == f"进展反馈逾期1个工作日：{item.title}"
    assert "粤府办督〔2026〕7号" in note.body
    assert "应于9月24日报送" in note.body


def test_no_reminder_on_a_rest_day_nor_for_items_not_in_handling(cast: Any) -> None:
    _, task = handled_item(cast)
    waiting = make_item(cast, state=ItemState.ACCEPT, report_frequency=ReportFrequency.WEEKLY)
    refresh_light(waiting, today=date(2026, 9, 28))

    assert scan_report_reminders(date(2026, 10, 3)).rest_day
    assert not Reminder.objects.exists()
    report = scan_report_reminders(date(2026, 9, 28))
    assert report.sent == {ReminderKind.REPORT_LATE: 1}
    assert sent(task, date(2026, 9, 28)) == [ReminderKind.REPORT_LATE]


def test_an_item_without_an_open_handling_task_is_counted_not_reminded(cast: Any) -> None:
    item, task = handled_item(cast)
    task.status = STATUS.DONE
    task.save()

    report = scan_report_reminders(date(2026, 9, 28))

    assert report.total_sent == 0
    assert report.no_task == 1
    assert not Reminder.objects.exists()


def test_a_group_task_reminds_every_candidate(cast: Any, flow_cast: Any) -> None:
    from workflows.models import TaskCandidate

    _, task = handled_item(cast)
    task.owner = None
    task.save()
    TaskCandidate.objects.create(task=task, user=cast.drafter)
    TaskCandidate.objects.create(task=task, user=cast.dept_head)

    scan_report_reminders(date(2026, 9, 23))

    assert told(cast.drafter) == 1
    assert told(cast.dept_head) == 1


# --- exactly once --------------------------------------------------------------------------------


def test_a_second_run_the_same_day_sends_nothing(cast: Any) -> None:
    items = [handled_item(cast) for _ in range(3)]

    first = scan_report_reminders(date(2026, 9, 29))
    second = scan_report_reminders(date(2026, 9, 29))

    assert first.sent == {ReminderKind.REPORT_LATE: 3}
    assert first.to_head == 3
    assert second.total_sent == 0
    assert second.scanned == 0  # the database already leaves them out
    assert Reminder.objects.count() == 3
    assert told(cast.drafter) == 3
    assert told(cast.dept_head) == 3
    assert {t.pk for _, t in items} == set(Reminder.objects.values_list("task_id", flat=True))


class Crash(RuntimeError):
    """The worker process dying at this point."""


@pytest.mark.parametrize("batch_size", [1, 4])
def test_a_run_dying_mid_way_loses_and_doubles_nothing_after_the_next_run(
    cast: Any, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    # given: six items late by 2 working days (REPORT_LATE to the holder and the head), and a
    # worker that dies while writing the 3rd item's notifications
    tasks = [handled_item(cast)[1] for _ in range(6)]
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

    # when: the run dies …
    with pytest.raises(Crash):
        scan_report_reminders(date(2026, 9, 29), batch_size=batch_size)

    # then: only whole batches before the crash were sent
    done_before = (2 // batch_size) * batch_size
    assert Reminder.objects.filter(task__in=tasks).count() == done_before
    assert told(cast.drafter) == done_before

    # when: the worker runs again
    monkeypatch.setattr(urging, "_notify_batch", real_notify)
    report = scan_report_reminders(date(2026, 9, 29), batch_size=batch_size)

    # then: every reminder exactly once, the head escalated once per item
    rows = Counter(Reminder.objects.filter(task__in=tasks).values_list("task_id", "kind"))
    assert set(rows) == {(t.pk, ReminderKind.REPORT_LATE) for t in tasks}
    assert set(rows.values()) == {1}
    assert report.total_sent == 6 - done_before
    assert told(cast.drafter) == 6
    assert told(cast.dept_head) == 6


def test_a_rerun_after_a_missed_day_still_escalates_once(cast: Any) -> None:
    # The worker was down on 9月29日 (2 working days late): the head is told on 9月30日 instead, once.
    _, task = handled_item(cast)
    scan_report_reminders(date(2026, 9, 28))
    scan_report_reminders(date(2026, 9, 30))
    scan_report_reminders(date(2026, 10, 8))

    assert cast.dept_head.pk in Reminder.objects.get(task=task, for_date=date(2026, 9, 30)).recipients
    assert cast.dept_head.pk not in Reminder.objects.get(task=task, for_date=date(2026, 10, 8)).recipients
    assert told(cast.dept_head) == 1


# --- the nightly recompute -----------------------------------------------------------------------


def test_recompute_turns_lights_as_days_pass_and_writes_only_changes(cast: Any) -> None:
    deadline_near = make_item(cast)  # due 10月9日
    report_late, _ = handled_item(cast)
    quiet = make_item(cast, due_on=date(2027, 3, 1))
    closed = make_item(cast, state=ItemState.CLOSE, light=Light.RED, light_reason="已超期1个工作日")

    first = recompute_lights(date(2026, 9, 30))
    again = recompute_lights(date(2026, 9, 30))
    later = recompute_lights(date(2026, 10, 10))

    assert (first.scanned, first.counts) == (3, {Light.GREEN: 1, Light.YELLOW: 2, Light.RED: 0})
    assert again.changed == 0
    assert later.counts == {Light.GREEN: 1, Light.YELLOW: 1, Light.RED: 1}
    stored = {i.pk: (i.light, i.light_reason) for i in SupervisionItem.objects.all()}
    assert stored[deadline_near.pk] == (Light.RED, "已超期1个工作日")
    assert stored[report_late.pk] == (Light.YELLOW, "进展反馈逾期（应于9月24日反馈）")
    assert stored[quiet.pk] == (Light.GREEN, "进展正常")
    assert stored[closed.pk] == (Light.RED, "已超期1个工作日")


def test_recompute_reads_a_constant_number_of_queries_per_batch(
    cast: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(12):
        handled_item(cast)
    recompute_lights(date(2026, 9, 22))

    # The parents' ids; per batch of 5: items, their latest reports, one UPDATE and the
    # transaction's savepoint pair; the year's calendar once.
    with django_assert_max_num_queries(1 + 3 * 5 + 1):
        report = recompute_lights(date(2026, 9, 28), batch_size=5)
    assert (report.scanned, report.changed, report.batches) == (12, 12, 3)


def test_recompute_rolls_children_up_to_their_parent(cast: Any) -> None:
    parent = make_item(cast, title="优化营商环境", due_on=date(2026, 12, 31))
    make_item(cast, title="压减审批时限", parent=parent, number="督〔2026〕12-1")
    make_item(cast, title="清理证明事项", parent=parent, due_on=date(2026, 12, 31))

    report = recompute_lights(date(2026, 10, 12))

    parent.refresh_from_db()
    assert (parent.light, parent.light_reason) == (Light.RED, "子事项“督〔2026〕12-1”红灯：已超期2个工作日")
    assert report.counts == {Light.GREEN: 1, Light.YELLOW: 0, Light.RED: 2}


# --- the worker's job ----------------------------------------------------------------------------


def test_the_hourly_job_turns_lights_then_reminds_once_however_often_it_runs(cast: Any) -> None:
    import time_machine

    from tests.workflows.test_supervision_lights import SHANGHAI
    from workflows.supervision_tasks import SUPERVISION_SCHEDULE, supervision_job

    item, task = handled_item(cast)
    SupervisionItem.objects.filter(pk=item.pk).update(next_report_on=None)  # a stale stored date

    with time_machine.travel(datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI), tick=False):
        first = supervision_job()
        second = supervision_job()

    assert SUPERVISION_SCHEDULE.func == "workflows.supervision_tasks.supervision_job"
    assert SUPERVISION_SCHEDULE.seconds == 3600
    assert "黄灯1" in first and "report_late=1" in first
    assert "变化 0 件" in second and "sent none" in second
    item.refresh_from_db()
    assert (item.light, item.next_report_on) == (Light.YELLOW, date(2026, 9, 24))
    assert sent(task, date(2026, 9, 28)) == [ReminderKind.REPORT_LATE]


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="unique-index races only on PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_send_each_report_reminder_once(cast: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: late items in several batches, and two workers that both read "nothing sent yet"
    tasks = [handled_item(cast)[1] for _ in range(7)]
    start = threading.Barrier(2)
    meet = threading.Barrier(2, timeout=10)
    first_batch_done = threading.local()
    real_holdings = urging.holdings_of
    reports: list[Any] = []
    errors: list[BaseException] = []

    def holdings_after_both_read(batch: Any) -> Any:
        if not getattr(first_batch_done, "value", False):
            first_batch_done.value = True
            meet.wait()
        return real_holdings(batch)

    monkeypatch.setattr(urging, "holdings_of", holdings_after_both_read)

    def run() -> None:
        try:
            start.wait()
            reports.append(scan_report_reminders(date(2026, 9, 29), batch_size=3))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: one reminder per item, the holder and the head told once each
    assert errors == []
    assert sum(r.total_sent for r in reports) == len(tasks)
    assert sum(r.retried for r in reports) >= 1
    rows = Counter(Reminder.objects.filter(task__in=tasks).values_list("task_id", "kind"))
    assert set(rows.values()) == {1} and len(rows) == len(tasks)
    assert told(cast.drafter) == len(tasks)
    assert told(cast.dept_head) == len(tasks)
