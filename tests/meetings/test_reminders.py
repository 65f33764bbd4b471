"""Reminding the silent: the organiser's button and the worker's run, on a frozen clock. Each
silent person is reminded at most once, whoever reminds first; those who replied never are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from meetings import services
from meetings.errors import MeetingError
from meetings.models import Meeting, MeetingKind, Reply, Rsvp
from meetings.tasks import REMIND_SCHEDULE, remind_due_job
from officeapp.notify.models import Notification
from officeapp.registries import worker_schedules
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db

REMINDER = "请回执：季度工作调度会"


def noticed(m: MeetingsCast, *, remind: int = 60) -> Meeting:
    meeting = services.create_meeting(
        actor=m.organiser,
        title="季度工作调度会",
        kind=MeetingKind.OFFICE,
        starts_at=m.at(9),
        ends_at=m.at(10),
        host=m.host,
        online=True,
        remind_minutes_before=remind,
    )
    services.set_invitees(meeting, actor=m.organiser, people=[m.participant, m.colleague, m.host])
    services.send_notice(meeting, actor=m.organiser)
    return meeting


def reminded(user: Any) -> int:
    return Notification.objects.filter(recipient=user, title=REMINDER).count()


def test_worker_reminds_silent_people_once_when_the_reminder_time_comes(
    meetings: MeetingsCast, time_machine: Any
) -> None:
    m = meetings
    # m.at() counts days from the (moved) clock: every instant is fixed before the clock moves.
    today_9, before, due, later = m.at(9, days=0), m.at(7, 59), m.at(8, 0), m.at(8, 30)
    time_machine.move_to(today_9, tick=False)
    meeting = noticed(m, remind=60)
    services.reply(meeting, actor=m.host, reply=Reply.ATTEND)

    time_machine.move_to(before, tick=False)
    assert services.remind_due() == 0  # 61 minutes before: not yet
    assert reminded(m.participant) == 0

    time_machine.move_to(due, tick=False)
    assert services.remind_due() == 2
    assert reminded(m.participant) == reminded(m.colleague) == 1
    assert reminded(m.host) == 0  # replied

    time_machine.move_to(later, tick=False)
    assert remind_due_job() == "reminded 0"
    assert reminded(m.participant) == 1
    assert Rsvp.objects.get(meeting=meeting, user=m.participant).reminded_at == due


def test_worker_leaves_meetings_that_started_or_have_no_reminder_alone(
    meetings: MeetingsCast, time_machine: Any
) -> None:
    m = meetings
    today_9, started = m.at(9, days=0), m.at(9, 1)
    time_machine.move_to(today_9, tick=False)
    noticed(m, remind=0)
    other = noticed(m, remind=30)

    time_machine.move_to(started, tick=False)  # `other` has started
    assert services.remind_due() == 0
    assert not Rsvp.objects.filter(meeting=other, reminded_at__isnull=False).exists()


def test_organisers_button_and_the_worker_remind_each_person_once_between_them(
    meetings: MeetingsCast, time_machine: Any
) -> None:
    m = meetings
    today_9, early, due = m.at(9, days=0), m.at(7), m.at(8, 5)
    time_machine.move_to(today_9, tick=False)
    meeting = noticed(m, remind=60)

    time_machine.move_to(early, tick=False)
    assert services.remind_silent(meeting, actor=m.organiser) == 3
    assert services.remind_silent(meeting, actor=m.organiser) == 0

    # Someone invited later is still silent and never reminded: the worker reminds only them.
    services.set_invitees(
        meeting, actor=m.organiser, people=[m.participant, m.colleague, m.host, m.meeting_admin]
    )
    time_machine.move_to(due, tick=False)
    assert services.remind_due() == 1
    assert reminded(m.participant) == 1 and reminded(m.meeting_admin) == 1


def test_moving_the_meeting_lets_the_silent_be_reminded_again(
    meetings: MeetingsCast, time_machine: Any
) -> None:
    m = meetings
    time_machine.move_to(m.at(9, days=0), tick=False)
    meeting = noticed(m)
    assert services.remind_silent(meeting, actor=m.organiser) == 3

    services.update_meeting(meeting, actor=m.organiser, starts_at=m.at(15), ends_at=m.at(16))

    assert services.remind_silent(meeting, actor=m.organiser) == 3


def test_reminding_is_for_the_organiser_and_only_after_the_notice(meetings: MeetingsCast) -> None:
    m = meetings
    draft = services.create_meeting(
        actor=m.organiser,
        title="草稿会",
        kind=MeetingKind.OFFICE,
        starts_at=m.at(9),
        ends_at=m.at(10),
        host=m.host,
        online=True,
    )
    with pytest.raises(MeetingError, match="会议通知尚未发出"):
        services.remind_silent(draft, actor=m.organiser)
    meeting = noticed(m)
    with pytest.raises(MeetingError, match="只有会议组织者"):
        services.remind_silent(meeting, actor=m.participant)


def test_ended_meeting_is_not_reminded_of(meetings: MeetingsCast, time_machine: Any) -> None:
    m = meetings
    meeting = noticed(m)
    time_machine.move_to(m.at(10) + timedelta(minutes=1), tick=False)
    with pytest.raises(MeetingError, match="会议已结束"):
        services.remind_silent(meeting, actor=m.organiser)


def test_reminder_run_is_a_registered_worker_schedule() -> None:
    assert worker_schedules.get("meetings.reminders") is REMIND_SCHEDULE
    assert REMIND_SCHEDULE.func == "meetings.tasks.remind_due_job"
