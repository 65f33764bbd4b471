"""Twenty people book the same slot at the same moment: exactly one gets it, nineteen read why not.

On SQLite (threads queueing on the one write lock; the trigger of migration 0002 is the last word)
and, when DATABASE_URL is PostgreSQL, there (threads racing past the friendly look-up; the exclusion
constraint refuses all but one and the service turns each refusal into the sentence)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from meetings.booking import book, move_booking, slot_label
from meetings.models import Booking, BookingStatus
from tests.meetings.booking_threads import OK, at_once, sqlite_on_file
from tests.meetings.meetings_cast import MeetingsCast

NEEDS_POSTGRES = "the exclusion constraint races only on PostgreSQL: set DATABASE_URL=postgres://…"
SQLITE_VARIANT = "the SQLite variant of the race; on PostgreSQL the test below runs instead"
CONCURRENT = 20

pytestmark = pytest.mark.django_db(transaction=True)


def twenty_bookings_of_one_slot(meetings: MeetingsCast) -> list[str]:
    people = [meetings.organiser, meetings.participant, meetings.colleague, meetings.meeting_admin]
    return at_once(
        [
            lambda n=n: book(
                actor=people[n % len(people)],
                room=meetings.big_room,
                starts_at=meetings.at(9),
                ends_at=meetings.at(10),
                purpose=f"第{n}个预订",
            )
            for n in range(CONCURRENT)
        ]
    )


def assert_one_booking_and_nineteen_refusals(meetings: MeetingsCast, outcomes: list[str]) -> None:
    assert outcomes.count(OK) == 1
    refusals = [o for o in outcomes if o != OK]
    assert len(refusals) == CONCURRENT - 1
    slot = slot_label(meetings.at(9), meetings.at(10))
    assert all(r.startswith(f"该时段已被预订：{slot}") for r in refusals), refusals
    held = Booking.objects.filter(room=meetings.big_room)
    assert held.count() == 1
    assert held.get().status == BookingStatus.APPROVED


@pytest.mark.skipif(settings.IS_POSTGRES, reason=SQLITE_VARIANT)
def test_twenty_concurrent_bookings_on_sqlite_give_one_booking_and_nineteen_refusals(
    meetings: MeetingsCast, tmp_path: Path
) -> None:
    with sqlite_on_file(tmp_path):
        outcomes = twenty_bookings_of_one_slot(meetings)
        assert_one_booking_and_nineteen_refusals(meetings, outcomes)


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason=NEEDS_POSTGRES)
def test_twenty_concurrent_bookings_on_postgresql_give_one_booking_and_nineteen_refusals(
    meetings: MeetingsCast,
) -> None:
    outcomes = twenty_bookings_of_one_slot(meetings)

    assert_one_booking_and_nineteen_refusals(meetings, outcomes)


def test_concurrent_moves_onto_one_free_slot_leave_exactly_one_there(
    meetings: MeetingsCast, tmp_path: Path
) -> None:
    # given: four bookings at different hours, each moved by its booker to 15:00 at once
    people = [meetings.organiser, meetings.participant, meetings.colleague, meetings.meeting_admin]
    held = [
        book(actor=p, room=meetings.big_room, starts_at=meetings.at(8 + n), ends_at=meetings.at(9 + n))
        for n, p in enumerate(people)
    ]

    with sqlite_on_file(tmp_path):
        # when
        outcomes = at_once(
            [
                lambda b=b, p=p: move_booking(b, actor=p, starts_at=meetings.at(15), ends_at=meetings.at(16))
                for b, p in zip(held, people, strict=True)
            ]
        )

        # then: one moved; the others are where they were
        assert outcomes.count(OK) == 1
        assert all(o.startswith("该时段已被预订：") for o in outcomes if o != OK), outcomes
        rows = {b.pk: b for b in Booking.objects.filter(room=meetings.big_room)}
        at_fifteen = [b for b in rows.values() if b.starts_at == meetings.at(15)]
        assert len(at_fifteen) == 1
        for n, original in enumerate(held):
            if original.pk != at_fifteen[0].pk:
                assert rows[original.pk].starts_at == meetings.at(8 + n)
