"""Meetings hold their rooms through meetings.booking: a room that needs approval waits for it, a
taken slot refuses the whole meeting, moving and changing the room move or swap the booking,
cancelling frees it, and a recurring meeting is created for each free week with the others
reported."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from meetings import booking, services
from meetings.errors import MeetingError
from meetings.models import Booking, BookingStatus, Meeting, MeetingKind
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def in_room(m: MeetingsCast, room: Any, actor: Any = None, **extra: Any) -> Meeting:
    fields: dict[str, Any] = {
        "actor": actor or m.organiser,
        "title": "专题研究会",
        "kind": MeetingKind.TOPIC,
        "starts_at": m.at(9),
        "ends_at": m.at(10),
        "host": m.host,
        "room": room,
    }
    fields.update(extra)
    return services.create_meeting(**fields)


def test_room_that_needs_approval_is_held_pending(meetings: MeetingsCast) -> None:
    meeting = in_room(meetings, meetings.vip_room)
    assert meeting.booking.status == BookingStatus.PENDING
    assert meeting.room == meetings.vip_room


def test_taken_slot_refuses_the_meeting_and_keeps_nothing(meetings: MeetingsCast) -> None:
    m = meetings
    in_room(m, m.big_room)
    with pytest.raises(MeetingError, match="该时段已被预订"):
        in_room(m, m.big_room, title="第二个会", starts_at=m.at(9, 30), ends_at=m.at(10, 30))
    assert Meeting.objects.count() == 1 and Booking.objects.count() == 1


def test_room_of_another_agency_cannot_be_booked(meetings: MeetingsCast) -> None:
    with pytest.raises((MeetingError, Exception)):
        in_room(meetings, meetings.finance_room)
    assert not Meeting.objects.exists()


def test_changing_the_room_books_the_new_one_and_frees_the_old(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = in_room(m, m.big_room)
    old = meeting.booking

    services.update_meeting(meeting, actor=m.organiser, room=m.vip_room)

    meeting.refresh_from_db()
    old.refresh_from_db()
    assert meeting.room == m.vip_room and meeting.booking.status == BookingStatus.PENDING
    assert old.status == BookingStatus.CANCELLED


def test_moving_onto_a_taken_slot_is_refused_and_nothing_moves(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = in_room(m, m.big_room)
    in_room(m, m.big_room, title="下午的会", starts_at=m.at(14), ends_at=m.at(15))
    with pytest.raises(MeetingError, match="该时段已被预订"):
        services.update_meeting(meeting, actor=m.organiser, starts_at=m.at(14), ends_at=m.at(15))
    meeting.refresh_from_db()
    assert meeting.starts_at == m.at(9) and meeting.booking.starts_at == m.at(9)


def test_dropping_the_room_for_online_only_frees_it(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = in_room(m, m.big_room)
    held = meeting.booking
    services.update_meeting(meeting, actor=m.organiser, room=None, online=True)
    meeting.refresh_from_db()
    held.refresh_from_db()
    assert meeting.booking is None and held.status == BookingStatus.CANCELLED
    with pytest.raises(MeetingError, match="请选择会议室，或勾选线上参会"):
        services.update_meeting(meeting, actor=m.organiser, online=False)


def test_cancelling_frees_the_room_for_someone_else(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = in_room(m, m.big_room)
    services.cancel_meeting(meeting, actor=m.organiser, reason="改期")
    again = in_room(m, m.big_room, actor=m.participant, title="改用此时段")
    assert again.booking.status == BookingStatus.APPROVED


def test_weekly_series_skips_a_taken_week_and_reports_it(meetings: MeetingsCast) -> None:
    m = meetings
    in_room(m, m.big_room, title="占用第二周", starts_at=m.at(9, days=8), ends_at=m.at(10, days=8))

    created, result = services.create_series(
        actor=m.organiser,
        title="处务会",
        kind=MeetingKind.OFFICE,
        starts_at=m.at(9),
        ends_at=m.at(10),
        host=m.host,
        room=m.big_room,
        frequency="weekly",
        count=3,
    )

    assert [mt.starts_at for mt in created] == [m.at(9), m.at(9, days=15)]
    assert [o.starts_at for o in result.conflicts] == [m.at(9, days=8)]
    assert len({mt.series_id for mt in created}) == 1


def test_online_series_needs_no_room_and_has_no_conflicts(meetings: MeetingsCast) -> None:
    m = meetings
    created, result = services.create_series(
        actor=m.organiser,
        title="视频周会",
        kind=MeetingKind.VIDEO,
        starts_at=m.at(16),
        ends_at=m.at(17),
        host=m.host,
        online=True,
        frequency="monthly",
        count=3,
    )
    assert len(created) == 3 and not [o.conflict for o in result.occurrences if o.conflict]
    assert all(mt.booking is None for mt in created)
    assert created[1].starts_at - created[0].starts_at >= timedelta(days=28)


def test_series_count_must_be_two_to_fifty_two(meetings: MeetingsCast) -> None:
    m = meetings
    with pytest.raises(MeetingError, match="重复次数须在 2 到 52 次之间"):
        services.create_series(
            actor=m.organiser,
            title="x",
            kind=MeetingKind.OFFICE,
            starts_at=m.at(9),
            ends_at=m.at(10),
            host=m.host,
            online=True,
            frequency="weekly",
            count=1,
        )


def test_booking_service_is_what_holds_the_slot(meetings: MeetingsCast) -> None:
    m = meetings
    in_room(m, m.big_room)
    with pytest.raises(MeetingError):
        booking.book(actor=m.participant, room=m.big_room, starts_at=m.at(9), ends_at=m.at(10))


def test_successor_of_a_disabled_organiser_can_move_and_cancel_the_meetings_room(
    meetings: MeetingsCast,
) -> None:
    from officeapp.org import services as org_services

    m = meetings
    meeting = in_room(m, m.big_room)
    org_services.disable_user(actor=m.cast.system_admin, user=m.organiser, successor=m.colleague)
    meeting.refresh_from_db()
    assert meeting.organiser == m.colleague

    services.update_meeting(meeting, actor=m.colleague, starts_at=m.at(15), ends_at=m.at(16))
    services.cancel_meeting(meeting, actor=m.colleague, reason="改期")

    meeting.refresh_from_db()
    assert meeting.booking.starts_at == m.at(15) and meeting.booking.status == BookingStatus.CANCELLED


def test_saving_a_meeting_whose_booking_was_refused_asks_for_the_room_again(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = in_room(m, m.vip_room)
    booking.refuse_booking(meeting.booking, actor=m.meeting_admin, note="该时段领导使用")

    services.update_meeting(meeting, actor=m.organiser, starts_at=m.at(14), ends_at=m.at(15))

    meeting.refresh_from_db()
    assert meeting.booking.status == BookingStatus.PENDING and meeting.booking.starts_at == m.at(14)
    assert Booking.objects.filter(room=m.vip_room, status=BookingStatus.REFUSED).count() == 1
