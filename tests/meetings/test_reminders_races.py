"""Reminder runs that overlap (two workers, the organiser's button at the same moment) remind each
silent person exactly once between them: the runs queue on the meeting's row lock and the second
finds the rows marked. On SQLite (threads on a file database, queueing on the write lock) and, when
DATABASE_URL is PostgreSQL, there (row locks)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from meetings import services
from meetings.models import MeetingKind, Rsvp
from officeapp.notify.models import Notification
from tests.meetings.booking_threads import OK, at_once, sqlite_on_file
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = 6


def test_overlapping_reminder_runs_remind_each_silent_person_once(
    meetings: MeetingsCast, tmp_path: Path
) -> None:
    m = meetings
    # given: a noticed meeting starting in 30 minutes (inside its 60-minute reminder window)
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=30)
    meeting = services.create_meeting(
        actor=m.organiser,
        title="紧急工作调度会",
        kind=MeetingKind.OFFICE,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        host=m.host,
        online=True,
    )
    people = [m.participant, m.colleague, m.host, m.meeting_admin]
    services.set_invitees(meeting, actor=m.organiser, people=people)
    services.send_notice(meeting, actor=m.organiser)

    # when: workers and the organiser's button run at the same moment
    with sqlite_on_file(tmp_path):
        calls = [services.remind_due for _ in range(RUNS - 1)]
        calls.append(lambda: services.remind_silent(meeting, actor=m.organiser))
        outcomes = at_once(calls)

        # then: every run finished, and each person got one reminder
        assert outcomes == [OK] * RUNS
        for person in people:
            assert Notification.objects.filter(recipient=person, title="请回执：紧急工作调度会").count() == 1
        assert not Rsvp.objects.filter(meeting=meeting, reminded_at__isnull=True).exists()
