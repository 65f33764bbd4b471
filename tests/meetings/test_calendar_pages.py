"""Calendars: a room's day and week (free and busy, what a booking is for only to those who may
know), and "我的日程" (the viewer's own meetings of a week, nobody else's)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from meetings.booking import book
from meetings.calendars import monday_of, person_week, room_day, room_week
from meetings.models import MeetingStatus
from tests.meetings.calendar_support import a_meeting
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def test_a_rooms_day_marks_busy_half_hours_and_leaves_the_rest_free(meetings: MeetingsCast) -> None:
    book(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10, 30),
    )
    book(actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(14), ends_at=meetings.at(15))

    day = room_day(meetings.big_room, meetings.at(9).date(), meetings.organiser)

    busy = [row.label for row in day.rows if row.busy]
    assert busy == ["09:00", "09:30", "10:00"]
    assert len(day.slots) == 1
    assert day.rows[0].label == "07:00" and day.rows[-1].label == "21:30"


def test_the_day_page_links_free_slots_to_a_prefilled_booking_form(meetings: MeetingsCast) -> None:
    book(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
        purpose="人事议题",
    )
    client = signed_in(meetings.participant)
    day = meetings.at(9).date().isoformat()

    html = client.get(
        reverse("meetings:room_calendar", args=[meetings.big_room.pk]), {"day": day}
    ).content.decode()
    link = f"{reverse('meetings:room', args=[meetings.big_room.pk])}?day={day}&amp;start=10:00&amp;end=10:30"
    form = client.get(link.replace("&amp;", "&")).content.decode()

    assert "09:00–10:00 已预订" in html
    assert "人事议题" not in html  # someone else's purpose
    assert link in html
    assert f'value="{day}"' in form and 'value="10:00"' in form and 'value="10:30"' in form


def test_the_booker_sees_their_purpose_on_the_day_page(meetings: MeetingsCast) -> None:
    book(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
        purpose="人事议题",
    )

    html = (
        signed_in(meetings.organiser)
        .get(
            reverse("meetings:room_calendar", args=[meetings.big_room.pk]),
            {"day": meetings.at(9).date().isoformat()},
        )
        .content.decode()
    )

    assert "人事议题" in html


def test_a_bad_day_in_the_address_shows_today_instead_of_an_error(meetings: MeetingsCast) -> None:
    response = signed_in(meetings.participant).get(
        reverse("meetings:room_calendar", args=[meetings.big_room.pk]), {"day": "2026-13-45"}
    )

    assert response.status_code == 200
    today = timezone.localdate()
    assert f"{today.month}月{today.day}日" in response.content.decode()


def test_the_week_grid_shows_seven_days_and_the_busy_hours(meetings: MeetingsCast) -> None:
    start = meetings.at(9)
    book(actor=meetings.organiser, room=meetings.big_room, starts_at=start, ends_at=meetings.at(11))

    week = room_week(meetings.big_room, start.date(), meetings.participant)
    column = week.days.index(start.date())
    busy_hours = [row.hour for row in week.rows if row.cells[column].busy]
    html = (
        signed_in(meetings.participant)
        .get(
            reverse("meetings:room_calendar", args=[meetings.big_room.pk]), {"week": start.date().isoformat()}
        )
        .content.decode()
    )

    assert len(week.days) == 7 and week.days[0] == monday_of(start.date())
    assert busy_hours == [9, 10]
    assert html.count('class="mt-busy"') == 2
    next_week = (monday_of(start.date()) + timedelta(days=7)).isoformat()
    assert f"?week={next_week}" in html


def test_an_outsider_gets_404_for_a_rooms_calendar(meetings: MeetingsCast) -> None:
    response = signed_in(meetings.outsider).get(
        reverse("meetings:room_calendar", args=[meetings.big_room.pk])
    )

    assert response.status_code == 404


def test_my_week_shows_meetings_i_organise_host_or_am_invited_to_and_nothing_else(
    meetings: MeetingsCast,
) -> None:
    organised = a_meeting(
        meetings, title="处务会", starts_at=meetings.at(9), ends_at=meetings.at(10), room=meetings.big_room
    )
    invited = a_meeting(
        meetings,
        title="专题研究会",
        starts_at=meetings.at(14),
        ends_at=meetings.at(15),
        organiser=meetings.meeting_admin,
        invited=[meetings.organiser],
    )
    cancelled = a_meeting(
        meetings,
        title="已取消的会",
        starts_at=meetings.at(16),
        ends_at=meetings.at(17),
        status=MeetingStatus.CANCELLED,
    )
    a_meeting(
        meetings,
        title="别人的会",
        starts_at=meetings.at(11),
        ends_at=meetings.at(12),
        organiser=meetings.meeting_admin,
        host=meetings.meeting_admin,
        invited=[meetings.participant],
    )

    week = person_week(meetings.organiser, meetings.at(9).date())
    html = (
        signed_in(meetings.organiser)
        .get(reverse("meetings:my_calendar"), {"week": meetings.at(9).date().isoformat()})
        .content.decode()
    )

    titles = [e.meeting.title for _, entries in week.days for e in entries]
    assert titles == ["处务会", "专题研究会", "已取消的会"]
    assert [e.roles for _, entries in week.days for e in entries][:2] == [["组织"], ["受邀"]]
    assert "别人的会" not in html and "处务会" in html and "第一会议室" in html
    assert "已取消" in html
    assert {organised.pk, invited.pk, cancelled.pk}


def test_the_meeting_admin_does_not_get_the_whole_agency_in_their_own_week(meetings: MeetingsCast) -> None:
    a_meeting(meetings, title="处务会", starts_at=meetings.at(9), ends_at=meetings.at(10))

    week = person_week(meetings.meeting_admin, meetings.at(9).date())

    assert week.count == 0


def test_the_host_sees_the_meeting_they_chair(meetings: MeetingsCast) -> None:
    a_meeting(meetings, title="厅务会", starts_at=meetings.at(9), ends_at=meetings.at(10))

    week = person_week(meetings.host, meetings.at(9).date())

    assert [e.roles for _, entries in week.days for e in entries] == [["主持"]]


def test_my_week_pages_back_and_forth(meetings: MeetingsCast) -> None:
    client = signed_in(meetings.participant)
    monday = monday_of(timezone.localdate())

    html = client.get(reverse("meetings:my_calendar")).content.decode()
    bad = client.get(reverse("meetings:my_calendar"), {"week": "nonsense"})

    assert f"?week={(monday - timedelta(days=7)).isoformat()}" in html
    assert f"?week={(monday + timedelta(days=7)).isoformat()}" in html
    assert bad.status_code == 200
