"""A double tap, the organiser's hand and the live room checking one person in at the same moment:
exactly one check-in is written (the Rsvp row lock; SQLite's write lock), the others read when."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from meetings import checkin
from meetings.models import Rsvp
from officeapp.audit.models import AuditEvent
from tests.meetings.booking_threads import OK, at_once, sqlite_on_file
from tests.meetings.factories_c import make_meeting
from tests.meetings.meetings_cast import MeetingsCast

NEEDS_POSTGRES = (
    "the row-lock race runs on PostgreSQL only when DATABASE_URL names it: set DATABASE_URL=postgres://…"
)

pytestmark = pytest.mark.django_db(transaction=True)


def six_check_ins_of_one_person(meetings: MeetingsCast) -> tuple[list[str], Rsvp]:
    meeting = make_meeting(meetings)
    person = meetings.participant
    calls = [
        lambda: checkin.check_in(meeting, actor=person, token=meeting.checkin_token),
        lambda: checkin.check_in(meeting, actor=person, token=meeting.checkin_token),
        lambda: checkin.check_in(meeting, actor=person, token=meeting.checkin_token),
        lambda: checkin.check_in_by_hand(meeting, actor=meetings.organiser, user=person),
        lambda: checkin.check_in_by_hand(meeting, actor=meetings.meeting_admin, user=person),
        lambda: checkin.check_in_live(meeting, actor=person),
    ]
    outcomes = at_once(calls)
    return outcomes, Rsvp.objects.get(meeting=meeting, user=person)


def assert_checked_in_once(outcomes: list[str], rsvp: Rsvp) -> None:
    # The live room's call is idempotent (it returns the existing row): it may count as "ok" too.
    writes = AuditEvent.objects.filter(action="meetings.checked_in", details__user=rsvp.user_id).count()
    assert writes == 1
    refusals = [o for o in outcomes[:5] if o != OK]
    assert len(refusals) >= 4, outcomes
    assert all("签到" in r and "已于" in r for r in refusals), outcomes
    assert rsvp.checked_in_at is not None


@pytest.mark.skipif(settings.IS_POSTGRES, reason="the SQLite variant; on PostgreSQL the test below runs")
def test_simultaneous_check_ins_on_sqlite_write_one(meetings: MeetingsCast, tmp_path: Path) -> None:
    with sqlite_on_file(tmp_path):
        outcomes, rsvp = six_check_ins_of_one_person(meetings)
        assert_checked_in_once(outcomes, rsvp)


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason=NEEDS_POSTGRES)
def test_simultaneous_check_ins_on_postgresql_write_one(meetings: MeetingsCast) -> None:
    outcomes, rsvp = six_check_ins_of_one_person(meetings)
    assert_checked_in_once(outcomes, rsvp)
