"""Automatic reminders day by day with a frozen clock, across 国庆节 2026 (10月1日–7日 off) and its
调休 Saturday (10月10日 worked): which reminders go out on which day, who gets them, the
escalations on the right working day, nothing on rest days, and each exactly once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from officeapp.calendar.models import CalendarDay, CalendarYear, DayKind
from officeapp.notify.models import Notification
from tests.documents.factories import make_document
from workflows import services
from workflows.models import Reminder, ReminderKind, TaskDue
from workflows.urging import ReminderRule, due_label, is_overdue, reminders_due, scan_reminders

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = date(2026, 9, 30)  # a Wednesday, the last working day before 国庆节


@pytest.fixture(autouse=True)
def national_day_2026(db: Any) -> None:
    """The official 2026 arrangement, written as the calendar page does (not left to the seed)."""
    CalendarYear.objects.get_or_create(year=2026)
    for day in range(1, 8):
        CalendarDay.objects.update_or_create(
            date=date(2026, 10, day), defaults={"kind": DayKind.HOLIDAY, "name": "国庆节"}
        )
    CalendarDay.objects.update_or_create(
        date=date(2026, 10, 10), defaults={"kind": DayKind.WORKDAY, "name": "国庆节调休"}
    )
    CalendarDay.objects.update_or_create(
        date=date(2026, 9, 25), defaults={"kind": DayKind.HOLIDAY, "name": "中秋节"}
    )
    CalendarDay.objects.filter(date=date(2026, 9, 28)).delete()  # an ordinary Monday


def scan_on(day: date) -> Any:
    """The worker's scan at 09:00 Beijing time on `day`, with the clock frozen there."""
    with time_machine.travel(datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI), tick=False):
        return scan_reminders()


def draft_with_deadline(flow_cast: Any, deadline: date = DEADLINE, **fields: Any) -> Task:
    cast = flow_cast.cast
    document = make_document(cast, deadline=deadline, **fields)
    services.start_outgoing(document, actor=cast.drafter)
    return Task.objects.get(process__outgoingprocess__document=document, flow_task__endswith=".draft")


def kinds_on(task: Task, day: date) -> list[str]:
    return sorted(Reminder.objects.filter(task=task, for_date=day).values_list("kind", flat=True))


def test_the_task_of_a_document_with_a_deadline_has_its_due_row(flow_cast: Any) -> None:
    task = draft_with_deadline(flow_cast)

    assert TaskDue.objects.get(task=task).due_on == DEADLINE


def test_reminders_day_by_day_across_national_day_and_its_make_up_saturday(flow_cast: Any) -> None:
    task = draft_with_deadline(flow_cast)
    expected = {
        date(2026, 9, 28): [],  # two working days before: nothing yet
        date(2026, 9, 29): [ReminderKind.BEFORE],
        date(2026, 9, 30): [ReminderKind.DUE],
        **{date(2026, 10, d): [] for d in range(1, 8)},  # 国庆节: nothing
        date(2026, 10, 8): [ReminderKind.OVERDUE],  # first working day late
        date(2026, 10, 9): [ReminderKind.OVERDUE, ReminderKind.TO_HEAD],  # 2 working days late
        date(2026, 10, 10): [ReminderKind.OVERDUE],  # Saturday, 调休上班: 3 late
        date(2026, 10, 11): [],  # Sunday
        date(2026, 10, 12): [ReminderKind.OVERDUE],  # 4 late
        date(2026, 10, 13): [ReminderKind.OVERDUE, ReminderKind.TO_LEADER],  # 5 late
        date(2026, 10, 14): [ReminderKind.OVERDUE],  # escalations only once
    }

    for day in sorted(expected):
        scan_on(day)

    got = {day: kinds_on(task, day) for day in expected}
    assert got == {day: sorted(kinds) for day, kinds in expected.items()}


def test_a_rest_day_scan_sends_nothing_and_says_why(flow_cast: Any) -> None:
    task = draft_with_deadline(flow_cast, deadline=date(2026, 10, 8))

    report = scan_on(date(2026, 10, 3))

    assert report.rest_day
    assert report.total_sent == 0
    assert not Reminder.objects.filter(task=task).exists()


def test_the_due_reminder_of_a_deadline_on_a_holiday_comes_on_the_last_working_day_before(
    flow_cast: Any,
) -> None:
    task = draft_with_deadline(flow_cast, deadline=date(2026, 10, 3))

    scan_on(date(2026, 9, 29))
    scan_on(date(2026, 9, 30))
    scan_on(date(2026, 10, 8))

    assert kinds_on(task, date(2026, 9, 29)) == [ReminderKind.BEFORE]
    assert kinds_on(task, date(2026, 9, 30)) == [ReminderKind.DUE]
    assert kinds_on(task, date(2026, 10, 8)) == [ReminderKind.OVERDUE]


def test_the_holder_is_reminded_and_escalations_reach_the_head_then_the_leader(flow_cast: Any) -> None:
    cast = flow_cast.cast
    task = draft_with_deadline(flow_cast)

    scan_on(date(2026, 9, 30))
    scan_on(date(2026, 10, 9))
    scan_on(date(2026, 10, 13))

    due = Reminder.objects.get(task=task, kind=ReminderKind.DUE)
    assert due.recipients == [cast.drafter.pk]
    assert Reminder.objects.get(task=task, kind=ReminderKind.TO_HEAD).recipients == [cast.dept_head.pk]
    assert Reminder.objects.get(task=task, kind=ReminderKind.TO_LEADER).recipients == [cast.leader.pk]
    drafter_titles = list(
        Notification.objects.filter(recipient=cast.drafter, kind="workflows.reminder").values_list(
            "title", flat=True
        )
    )
    assert any(t.startswith("待办今日到期：") for t in drafter_titles)
    assert any(t.startswith("待办超期2个工作日：") for t in drafter_titles)
    head_note = Notification.objects.get(recipient=cast.dept_head, kind="workflows.reminder")
    assert head_note.title.startswith("本处室待办超期2个工作日：")
    assert head_note.url == f"/workflows/tasks/{task.pk}/"
    assert "办理人：" + cast.drafter.real_name in head_note.body
    leader_note = Notification.objects.get(recipient=cast.leader, kind="workflows.reminder")
    assert leader_note.title.startswith("分管处室待办超期5个工作日：")


def test_two_runs_on_the_same_day_send_each_reminder_once(flow_cast: Any) -> None:
    cast = flow_cast.cast
    task = draft_with_deadline(flow_cast)

    first = scan_on(date(2026, 10, 9))
    second = scan_on(date(2026, 10, 9))

    assert first.sent == {ReminderKind.OVERDUE: 1, ReminderKind.TO_HEAD: 1}
    assert second.total_sent == 0
    assert second.already_sent == 2
    assert Reminder.objects.filter(task=task).count() == 2
    assert Notification.objects.filter(recipient=cast.drafter, kind="workflows.reminder").count() == 1


def test_a_finished_task_gets_no_more_reminders(flow_cast: Any) -> None:
    task = draft_with_deadline(flow_cast)
    scan_on(date(2026, 9, 30))
    Task.objects.filter(pk=task.pk).update(status=STATUS.DONE)

    report = scan_on(date(2026, 10, 8))

    assert report.scanned == 0
    assert not Reminder.objects.filter(task=task, for_date=date(2026, 10, 8)).exists()


def test_a_delegate_on_leave_cover_is_reminded_with_the_holder(flow_cast: Any) -> None:
    from officeapp.org.models import Delegation, DelegationScope

    cast = flow_cast.cast
    task = draft_with_deadline(flow_cast)
    at = datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI)
    Delegation.objects.create(
        from_user=cast.drafter,
        to_user=cast.dept_head,
        starts_at=at - timedelta(days=1),
        ends_at=at + timedelta(days=1),
        scope=DelegationScope.OUTGOING,
        reason="出差",
    )

    scan_on(date(2026, 9, 30))

    assert sorted(Reminder.objects.get(task=task, kind=ReminderKind.DUE).recipients) == sorted(
        [cast.drafter.pk, cast.dept_head.pk]
    )


def test_a_configured_rule_changes_the_days(flow_cast: Any, settings: Any) -> None:
    settings.REMINDER_RULE = "before=3,due,overdue=2"
    task = draft_with_deadline(flow_cast)

    for day in [date(2026, 9, 24), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]:
        scan_on(day)

    # 9月24日 is 3 working days before 9月30日 (中秋节 25日 and the weekend off; 28, 29, 30);
    # overdue on the 1st and 3rd late day; no escalation in this rule.
    assert kinds_on(task, date(2026, 9, 24)) == [ReminderKind.BEFORE]
    assert kinds_on(task, date(2026, 10, 8)) == [ReminderKind.OVERDUE]
    assert kinds_on(task, date(2026, 10, 9)) == []
    assert kinds_on(task, date(2026, 10, 10)) == [ReminderKind.OVERDUE]


def test_a_malformed_rule_is_refused_with_a_message() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="REMINDER_RULE"):
        ReminderRule.parse("before=x")
    with pytest.raises(ImproperlyConfigured, match="REMINDER_RULE"):
        ReminderRule.parse("sometimes=1")
    assert ReminderRule.parse("before=1,due,overdue=1,head=2,leader=5") == ReminderRule()


def test_the_rule_itself_across_the_holiday() -> None:
    from officeapp.calendar.workdays import WorkingCalendar

    calendar = WorkingCalendar()
    rule = ReminderRule()

    assert reminders_due(DEADLINE, date(2026, 10, 8), rule=rule, calendar=calendar) == [ReminderKind.OVERDUE]
    assert reminders_due(DEADLINE, date(2026, 10, 5), rule=rule, calendar=calendar) == []
    assert reminders_due(DEADLINE, date(2026, 10, 16), rule=rule, calendar=calendar) == [
        ReminderKind.OVERDUE,
        ReminderKind.TO_HEAD,
        ReminderKind.TO_LEADER,
    ]


def test_due_labels_count_working_days() -> None:
    assert due_label(DEADLINE, date(2026, 9, 30)) == "今日到期"
    assert due_label(DEADLINE, date(2026, 9, 28)) == "剩2个工作日"
    assert due_label(DEADLINE, date(2026, 10, 8)) == "超期1个工作日"
    assert due_label(DEADLINE, date(2026, 10, 12)) == "超期4个工作日"  # 8, 9, 10 (调休), 12
    assert due_label(None) == ""
    assert is_overdue(DEADLINE, date(2026, 10, 1))
    assert not is_overdue(DEADLINE, date(2026, 9, 30))
    assert not is_overdue(None)


def test_the_worker_job_runs_the_scan_and_summarises_it(flow_cast: Any) -> None:
    from django.utils.module_loading import import_string

    from workflows.tasks import REMINDER_SCHEDULE, scan_reminders_job

    task = draft_with_deadline(flow_cast)
    job = import_string(REMINDER_SCHEDULE.func)
    moment = datetime(2026, 10, 9, 9, 0, tzinfo=SHANGHAI)

    with time_machine.travel(moment, tick=False):
        summary = job()
    with time_machine.travel(moment + timedelta(days=2), tick=False):  # Sunday
        rest = scan_reminders_job()

    assert job is scan_reminders_job
    assert not REMINDER_SCHEDULE.runs_on_ticker  # a django-q schedule, every 10 minutes
    assert "overdue=1" in summary and "to_head=1" in summary
    assert kinds_on(task, date(2026, 10, 9)) == [ReminderKind.OVERDUE, ReminderKind.TO_HEAD]
    assert "非工作日" in rest


@pytest.mark.parametrize(
    "rule_text",
    [
        "before=1,due,overdue=1,head=2,leader=5",
        "before=3,due,overdue=2,head=4",
        "before=0,due=0,overdue=3,leader=1",
        "before=2,overdue=0,head=1",
    ],
)
def test_the_deadline_ranges_the_scan_asks_the_database_for_are_exactly_the_rule(rule_text: str) -> None:
    # The scan no longer asks reminders_due about each task: it turns the rule into deadline ranges
    # per kind. Every deadline from August to November, on every day around 国庆节 and its 调休.
    from officeapp.calendar.workdays import WorkingCalendar
    from workflows.urging import DueWindows

    calendar = WorkingCalendar()
    rule = ReminderRule.parse(rule_text)
    earliest = date(2026, 8, 1)
    deadlines = [earliest + timedelta(days=n) for n in range(120)]
    for today in [date(2026, 9, 24) + timedelta(days=n) for n in range(25)]:
        if not calendar.is_working_day(today):
            continue
        windows = DueWindows.of(today, rule, calendar, earliest)
        for due_on in deadlines:
            expected = reminders_due(due_on, today, rule=rule, calendar=calendar)
            assert sorted(windows.kinds(due_on)) == sorted(expected), (today, due_on)


def test_a_repeat_scan_the_same_day_reads_no_task_in_a_few_queries_however_many_are_open(
    flow_cast: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    day = date(2026, 10, 9)  # OVERDUE and TO_HEAD due for every task due 9月30日
    draft_with_deadline(flow_cast)
    scan_on(day)
    with CaptureQueriesContext(connection) as one_task:
        repeat = scan_on(day)
    assert repeat.scanned == 0 and repeat.total_sent == 0 and repeat.already_sent == 2

    tasks = [draft_with_deadline(flow_cast) for _ in range(6)]
    first = scan_on(day)
    assert first.total_sent == 12
    assert first.batches == 1  # the six new ones: the first one's reminders are not read again
    with CaptureQueriesContext(connection) as seven_tasks:
        repeat = scan_on(day)

    assert repeat.scanned == 0 and repeat.total_sent == 0 and repeat.already_sent == 14
    # The calendar (maintained years, the year's days), the count for the report, one empty read.
    assert len(seven_tasks.captured_queries) == len(one_task.captured_queries) <= 4
    assert Reminder.objects.filter(task__in=tasks, for_date=day).count() == 12


def test_a_task_reminded_earlier_today_is_not_read_again_when_a_new_one_falls_due(flow_cast: Any) -> None:
    day = date(2026, 9, 30)
    first_task = draft_with_deadline(flow_cast)
    scan_on(day)
    second_task = draft_with_deadline(flow_cast)

    report = scan_on(day)

    assert report.scanned == 1
    assert report.sent == {ReminderKind.DUE: 1}
    assert kinds_on(first_task, day) == [ReminderKind.DUE]
    assert kinds_on(second_task, day) == [ReminderKind.DUE]


def test_an_escalation_sent_on_an_earlier_day_is_not_sent_again_while_the_daily_overdue_is(
    flow_cast: Any,
) -> None:
    task = draft_with_deadline(flow_cast)
    scan_on(date(2026, 10, 9))  # OVERDUE and TO_HEAD

    report = scan_on(date(2026, 10, 12))

    assert report.sent == {ReminderKind.OVERDUE: 1}
    assert report.already_sent == 1  # the TO_HEAD of 10月9日
    assert Reminder.objects.filter(task=task, kind=ReminderKind.TO_HEAD).count() == 1


def test_a_full_batch_of_owed_tasks_is_followed_by_the_next_batch(flow_cast: Any) -> None:
    day = date(2026, 9, 30)
    tasks = [draft_with_deadline(flow_cast) for _ in range(5)]

    with time_machine.travel(datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI), tick=False):
        report = scan_reminders(batch_size=2)

    assert report.scanned == 5
    assert report.batches == 3
    assert all(kinds_on(t, day) == [ReminderKind.DUE] for t in tasks)
