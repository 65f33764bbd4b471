"""Recurring bookings (每周/每月): every free occurrence booked, each taken one reported with its
clash, month ends kept on the last day of shorter months, nothing at all when none is free."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.utils import timezone

from meetings.booking import SeriesUnavailable, book, book_series, occurrence_times
from meetings.errors import MeetingError
from meetings.models import Booking, Series
from officeapp.audit.models import AuditEvent
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def local(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def test_a_weekly_series_books_each_week_and_reports_the_taken_one(meetings: MeetingsCast) -> None:
    # given: the third week's slot is already taken
    book(
        actor=meetings.participant,
        room=meetings.big_room,
        starts_at=meetings.at(9, days=15),
        ends_at=meetings.at(11, days=15),
    )

    # when
    result = book_series(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9, days=1),
        ends_at=meetings.at(10, days=1),
        frequency=Series.Frequency.WEEKLY,
        count=4,
        purpose="周例会",
        attendees=10,
    )

    # then
    assert [o.starts_at for o in result.occurrences] == [meetings.at(9, days=d) for d in (1, 8, 15, 22)]
    assert [o.booked for o in result.occurrences] == [True, True, False, True]
    assert result.occurrences[2].conflict.startswith("该时段已被预订：")
    assert "09:00–11:00" in result.occurrences[2].conflict
    held = Booking.objects.filter(series=result.series)
    assert held.count() == 3
    assert set(held.values_list("purpose", "attendees")) == {("周例会", 10)}
    assert AuditEvent.objects.filter(
        action="meetings.series.create", object_id=str(result.series.pk)
    ).exists()


def test_every_other_week_with_an_interval(meetings: MeetingsCast) -> None:
    result = book_series(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(14),
        ends_at=meetings.at(15),
        frequency=Series.Frequency.WEEKLY,
        count=3,
        interval=2,
    )

    assert [o.starts_at for o in result.occurrences] == [meetings.at(14, days=d) for d in (1, 15, 29)]


def test_monthly_on_the_31st_falls_on_the_last_day_of_shorter_months() -> None:
    start = local(date(2031, 1, 31), 9)

    slots = occurrence_times(start, local(date(2031, 1, 31), 10), frequency="monthly", count=5)

    assert [timezone.localtime(s).date() for s, _ in slots] == [
        date(2031, 1, 31),
        date(2031, 2, 28),
        date(2031, 3, 31),
        date(2031, 4, 30),
        date(2031, 5, 31),
    ]
    assert all(timezone.localtime(s).hour == 9 and (e - s).seconds == 3600 for s, e in slots)


def test_monthly_on_the_29th_meets_on_29_february_in_a_leap_year() -> None:
    slots = occurrence_times(
        local(date(2031, 12, 29), 9), local(date(2031, 12, 29), 10), frequency="monthly", count=3
    )

    assert [timezone.localtime(s).date() for s, _ in slots] == [
        date(2031, 12, 29),
        date(2032, 1, 29),
        date(2032, 2, 29),
    ]


def test_a_monthly_series_is_booked_with_its_month_ends(meetings: MeetingsCast) -> None:
    today = timezone.localdate()
    first = date(today.year + 1, 1, 31)

    result = book_series(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=local(first, 9),
        ends_at=local(first, 10),
        frequency=Series.Frequency.MONTHLY,
        count=3,
    )

    assert [timezone.localtime(o.booking.starts_at).date().month for o in result.booked] == [1, 2, 3]
    assert timezone.localtime(result.occurrences[1].starts_at).day in (28, 29)


def test_when_no_occurrence_is_free_nothing_is_booked_and_each_conflict_is_reported(
    meetings: MeetingsCast,
) -> None:
    for days in (1, 8):
        book(
            actor=meetings.participant,
            room=meetings.big_room,
            starts_at=meetings.at(9, days=days),
            ends_at=meetings.at(12, days=days),
        )

    with pytest.raises(SeriesUnavailable) as caught:
        book_series(
            actor=meetings.organiser,
            room=meetings.big_room,
            starts_at=meetings.at(10),
            ends_at=meetings.at(11),
            frequency=Series.Frequency.WEEKLY,
            count=2,
        )

    assert caught.value.message == "全部 2 次都无法预订，未作任何预订。"
    assert [o.conflict[:8] for o in caught.value.occurrences] == ["该时段已被预订：", "该时段已被预订："]
    assert not Series.objects.exists()
    assert Booking.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"count": 0}, "重复次数须在 1 到 52 次之间。"),
        ({"count": 53}, "重复次数须在 1 到 52 次之间。"),
        ({"interval": 0}, "间隔须在 1 到 12 之间。"),
        ({"frequency": "daily"}, "请选择重复方式（每周或每月）。"),
        ({"attendees": 41}, "参会人数（41 人）超过会议室容量（40 人）。"),
    ],
    ids=["no-occurrences", "over-52", "zero-interval", "unknown-frequency", "over-capacity"],
)
def test_a_bad_series_is_refused_as_a_whole(meetings: MeetingsCast, changes: dict, expected: str) -> None:
    request = {
        "actor": meetings.organiser,
        "room": meetings.big_room,
        "starts_at": meetings.at(9),
        "ends_at": meetings.at(10),
        "frequency": "weekly",
        "count": 2,
        **changes,
    }

    with pytest.raises(MeetingError) as caught:
        book_series(**request)

    assert caught.value.message == expected
    assert not Booking.objects.exists() and not Series.objects.exists()


def test_fifty_two_weeks_are_allowed(meetings: MeetingsCast) -> None:
    result = book_series(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
        frequency="weekly",
        count=52,
    )

    assert len(result.booked) == 52
