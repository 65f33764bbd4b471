"""ICS: one meeting's file and the personal feed, read back with icalendar as a calendar app would."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from meetings.booking import move_booking
from meetings.ics import meeting_ics
from meetings.models import CalendarFeed, MeetingStatus
from officeapp.audit.models import AuditEvent
from tests.meetings.calendar_support import a_meeting
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def events(data: bytes) -> list[Any]:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_a_meetings_ics_has_its_time_in_utc_room_notice_and_organiser(meetings: MeetingsCast) -> None:
    meeting = a_meeting(
        meetings,
        title="全省办公厅主任会议",
        starts_at=meetings.at(9),
        ends_at=meetings.at(11, 30),
        room=meetings.big_room,
        notice="请各单位主要负责同志参加。",
    )

    [event] = events(meeting_ics(meeting))

    assert event.decoded("dtstart") == meetings.at(9).astimezone(UTC)
    assert event.decoded("dtstart").utcoffset().total_seconds() == 0
    assert event.decoded("dtend") == meetings.at(11, 30)
    assert str(event["summary"]) == "全省办公厅主任会议"
    assert str(event["location"]) == "第一会议室（省府大院1号楼3楼）"
    assert str(event["description"]) == "请各单位主要负责同志参加。"
    assert str(event["organizer"]) == f"mailto:{meetings.organiser.email}"
    assert str(event["organizer"].params["cn"]) == str(meetings.organiser)
    assert str(event["status"]) == "CONFIRMED"


def test_the_uid_stays_the_same_when_the_meeting_moves(meetings: MeetingsCast) -> None:
    meeting = a_meeting(
        meetings, title="处务会", starts_at=meetings.at(9), ends_at=meetings.at(10), room=meetings.big_room
    )
    [before] = events(meeting_ics(meeting))

    move_booking(
        meeting.booking, actor=meetings.organiser, starts_at=meetings.at(15), ends_at=meetings.at(16)
    )
    meeting.starts_at, meeting.ends_at = meetings.at(15), meetings.at(16)
    meeting.save()
    [after] = events(meeting_ics(meeting))

    assert str(before["uid"]) == str(after["uid"]) == str(after["uid"]).strip()
    assert str(after["uid"]).startswith(f"meeting-{meeting.pk}@")
    assert after.decoded("dtstart") == meetings.at(15)


def test_the_ics_download_is_for_those_who_may_see_the_meeting(meetings: MeetingsCast) -> None:
    meeting = a_meeting(
        meetings,
        title="处务会",
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
        invited=[meetings.participant],
    )
    url = reverse("meetings:meeting_ics", args=[meeting.pk])

    response = signed_in(meetings.participant).get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    assert [str(e["summary"]) for e in events(response.content)] == ["处务会"]
    assert signed_in(meetings.outsider).get(url).status_code == 404
    assert signed_in(meetings.colleague).get(url).status_code == 404
    assert AuditEvent.objects.filter(action="meetings.meeting.ics", object_id=str(meeting.pk)).exists()


def test_the_feed_needs_no_session_and_holds_only_my_meetings(meetings: MeetingsCast) -> None:
    a_meeting(meetings, title="我组织的会", starts_at=meetings.at(9), ends_at=meetings.at(10), online=True)
    a_meeting(
        meetings,
        title="被取消的会",
        starts_at=meetings.at(14),
        ends_at=meetings.at(15),
        status=MeetingStatus.CANCELLED,
    )
    a_meeting(
        meetings,
        title="与我无关的会",
        starts_at=meetings.at(16),
        ends_at=meetings.at(17),
        organiser=meetings.meeting_admin,
        host=meetings.meeting_admin,
    )
    page = signed_in(meetings.organiser).get(reverse("meetings:feed_settings")).content.decode()
    token = CalendarFeed.objects.get(user=meetings.organiser).token

    response = Client().get(reverse("meetings:feed", args=[token]))

    assert reverse("meetings:feed", args=[token]) in page
    assert response.status_code == 200
    found = {str(e["summary"]): e for e in events(response.content)}
    assert set(found) == {"我组织的会", "被取消的会"}
    assert str(found["被取消的会"]["status"]) == "CANCELLED"
    assert str(found["我组织的会"]["location"]) == "线上"


def test_an_unknown_token_is_a_404(meetings: MeetingsCast) -> None:
    assert Client().get(reverse("meetings:feed", args=["no-such-token"])).status_code == 404


def test_rotating_the_token_invalidates_the_old_feed_url(meetings: MeetingsCast) -> None:
    client = signed_in(meetings.participant)
    client.get(reverse("meetings:feed_settings"))
    old = CalendarFeed.objects.get(user=meetings.participant).token

    response = client.post(reverse("meetings:feed_settings"))
    new = CalendarFeed.objects.get(user=meetings.participant).token

    assert response.status_code == 302
    assert new != old
    assert Client().get(reverse("meetings:feed", args=[old])).status_code == 404
    assert Client().get(reverse("meetings:feed", args=[new])).status_code == 200
    assert AuditEvent.objects.filter(action="meetings.feed.rotate").count() == 1


def test_a_deactivated_persons_feed_stops(meetings: MeetingsCast) -> None:
    signed_in(meetings.participant).get(reverse("meetings:feed_settings"))
    token = CalendarFeed.objects.get(user=meetings.participant).token
    meetings.participant.is_active = False
    meetings.participant.save()

    assert Client().get(reverse("meetings:feed", args=[token])).status_code == 404
