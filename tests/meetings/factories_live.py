"""Meetings ready for the live room, made directly as rows (helper B's services land in parallel):
a noticed meeting of the cast hosted by `host`, organised by `organiser`, with `participant` and
`colleague` invited (replied 参加), two agenda items and a 12-page PDF material on the first."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from meetings.models import AgendaItem, Material, Meeting, MeetingStatus, Reply, Rsvp
from officeapp.blobs.models import Blob


@dataclass
class LiveMeeting:
    meeting: Meeting
    items: list[AgendaItem]
    material: Material


def make_live_meeting(
    meetings: Any, *, status: str = MeetingStatus.NOTICED, people: Any = None, starts_at: Any = None
) -> LiveMeeting:
    """Tomorrow 09:00–11:00 unless `starts_at` is given (then for two hours from it)."""
    starts_at = starts_at or meetings.at(9)
    invited = list(people) if people is not None else [meetings.participant, meetings.colleague]
    meeting = Meeting.objects.create(
        agency=meetings.agency,
        title="全省政务服务工作推进会",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        host=meetings.host,
        organiser=meetings.organiser,
        online=True,
        status=status,
        noticed_at=timezone.now(),
    )
    for person in invited:
        Rsvp.objects.create(meeting=meeting, user=person, reply=Reply.ATTEND, replied_at=timezone.now())
    items = [
        AgendaItem.objects.create(
            meeting=meeting, order=1, title="一季度工作情况通报", presenter_name="陈志强"
        ),
        AgendaItem.objects.create(
            meeting=meeting, order=2, title="审议《政务服务事项清单》", presenter_name="林小梅"
        ),
    ]
    digest = hashlib.sha256(f"material-{meeting.pk}".encode()).hexdigest()
    blob = Blob.objects.create(
        sha256=digest, size=1024, content_type="application/pdf", key=Blob.key_for(digest)
    )
    material = Material.objects.create(
        meeting=meeting,
        agenda_item=items[0],
        blob=blob,
        title="一季度工作情况",
        filename="report.pdf",
        page_count=12,
        uploaded_by=meetings.organiser,
    )
    return LiveMeeting(meeting=meeting, items=items, material=material)
