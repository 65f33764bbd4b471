"""Meetings rows for the check-in, agenda, materials and minutes tests, written directly (the
meeting services are another area's): a meeting in a given state and the Rsvps of its invitees."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from meetings.models import Invitee, InviteeKind, Meeting, MeetingStatus, Reply, Rsvp
from tests.meetings.meetings_cast import MeetingsCast


def make_meeting(
    meetings: MeetingsCast,
    *,
    starts_at: datetime | None = None,
    minutes: int = 90,
    status: str = MeetingStatus.NOTICED,
    invite: tuple[Any, ...] | None = None,
    title: str = "全省政务服务工作推进会",
) -> Meeting:
    """A meeting organised by `organiser`, hosted by `host`; by default starting in 10 minutes
    (the door is open) with `participant` and `colleague` invited (Rsvp rows, not yet replied)."""
    starts_at = starts_at or timezone.now() + timedelta(minutes=10)
    meeting = Meeting.objects.create(
        agency=meetings.agency,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        host=meetings.host,
        organiser=meetings.organiser,
        status=status,
        noticed_at=timezone.now() if status != MeetingStatus.DRAFT else None,
    )
    people = (meetings.participant, meetings.colleague) if invite is None else invite
    for person in people:
        invitee = Invitee.objects.create(meeting=meeting, kind=InviteeKind.PERSON, user=person)
        Rsvp.objects.create(meeting=meeting, user=person, invitee=invitee)
    return meeting


def set_reply(meeting: Meeting, user: Any, reply: str, reason: str = "") -> Rsvp:
    rsvp = Rsvp.objects.get(meeting=meeting, user=user)
    rsvp.reply = reply
    rsvp.reason = reason
    rsvp.replied_at = timezone.now() if reply != Reply.NONE else None
    rsvp.save()
    return rsvp
