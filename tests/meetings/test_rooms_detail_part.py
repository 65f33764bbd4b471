"""The meeting page's room part (_detail_booking.html): the room and the booking's state, and the
ICS link, as B's meeting page includes it."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from meetings.booking import refuse_booking
from tests.meetings.calendar_support import a_meeting
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def part(meeting: object, user: object, *, can_manage: bool) -> str:
    return render_to_string(
        "meetings/_detail_booking.html",
        {"meeting": meeting, "can_manage": can_manage, "rsvp": None, "user": user},
    )


def test_it_names_the_room_its_confirmed_booking_and_the_ics_link(meetings: MeetingsCast) -> None:
    meeting = a_meeting(
        meetings, title="处务会", starts_at=meetings.at(9), ends_at=meetings.at(10), room=meetings.big_room
    )

    html = part(meeting, meetings.participant, can_manage=False)

    assert "第一会议室" in html and "预订已确认" in html
    assert reverse("meetings:meeting_ics", args=[meeting.pk]) in html
    assert reverse("meetings:room_calendar", args=[meetings.big_room.pk]) in html


def test_the_organiser_reads_a_refusal_and_that_the_room_is_not_held(meetings: MeetingsCast) -> None:
    meeting = a_meeting(
        meetings, title="常务会", starts_at=meetings.at(9), ends_at=meetings.at(10), room=meetings.vip_room
    )
    pending = part(meeting, meetings.organiser, can_manage=True)
    refuse_booking(meeting.booking, actor=meetings.meeting_admin, note="当天有省领导活动")
    meeting.booking.refresh_from_db()

    refused = part(meeting, meetings.organiser, can_manage=True)
    seen_by_participant = part(meeting, meetings.participant, can_manage=False)

    assert "预订待审批" in pending
    assert "预订未获批准" in refused and "当天有省领导活动" in refused and "会议室未保留" in refused
    assert "当天有省领导活动" not in seen_by_participant


def test_an_online_meeting_needs_no_room(meetings: MeetingsCast) -> None:
    meeting = a_meeting(
        meetings, title="视频会", starts_at=meetings.at(9), ends_at=meetings.at(10), online=True
    )

    assert "线上会议，无需会议室。" in part(meeting, meetings.participant, can_manage=False)
