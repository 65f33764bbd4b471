"""Meetings as rows for the calendar and ICS tests (the meeting services are another area's): a
meeting with its organiser, host, room booking and invited people."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from meetings.booking import book
from meetings.models import Meeting, MeetingStatus, Rsvp
from tests.meetings.meetings_cast import MeetingsCast


def a_meeting(
    meetings: MeetingsCast,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    organiser: Any = None,
    host: Any = None,
    room: Any = None,
    invited: Iterable[Any] = (),
    notice: str = "",
    status: str = MeetingStatus.NOTICED,
    online: bool = False,
) -> Meeting:
    organiser = organiser or meetings.organiser
    held = None
    if room is not None:
        held = book(actor=organiser, room=room, starts_at=starts_at, ends_at=ends_at, purpose=title)
    meeting = Meeting.objects.create(
        agency=meetings.agency,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        booking=held,
        organiser=organiser,
        host=host or meetings.host,
        notice=notice,
        status=status,
        online=online,
    )
    for person in invited:
        Rsvp.objects.create(meeting=meeting, user=person)
    return meeting
