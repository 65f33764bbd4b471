"""Booking a room: who may, when, how many; the refusals a person reads; approval; moving and
cancelling; the audit trail. The database's own refusal is exercised in test_booking_concurrency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from meetings import booking as booking_services
from meetings.booking import approve_booking, book, cancel_booking, move_booking, refuse_booking
from meetings.errors import MeetingError
from meetings.models import BookableBy, Booking, BookingStatus
from officeapp.audit.models import AuditEvent
from officeapp.notify.models import Notification
from officeapp.outbox.models import OutboxEvent
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def refusal(call: object, **kwargs: object) -> str:
    with pytest.raises(MeetingError) as caught:
        call(**kwargs)  # type: ignore[operator]
    return caught.value.message


def test_a_free_slot_is_booked_approved_and_audited(meetings: MeetingsCast) -> None:
    # when
    held = book(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
        purpose="处务会",
        attendees=12,
    )

    # then
    assert held.status == BookingStatus.APPROVED
    assert (held.room, held.booked_by, held.attendees, held.purpose) == (
        meetings.big_room,
        meetings.organiser,
        12,
        "处务会",
    )
    assert AuditEvent.objects.filter(action="meetings.booking.create", object_id=str(held.pk)).exists()
    assert OutboxEvent.objects.filter(topic="meetings.booking.created", object_id=str(held.pk)).exists()


def test_an_overlapping_booking_is_refused_naming_the_slot_and_purpose_for_its_booker(
    meetings: MeetingsCast,
) -> None:
    book(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(11),
        purpose="处务会",
    )

    message = refusal(
        book,
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(10),
        ends_at=meetings.at(12),
    )

    assert message.startswith("该时段已被预订：")
    assert "09:00–11:00" in message
    assert "处务会" in message
    assert Booking.objects.filter(room=meetings.big_room).count() == 1


def test_the_purpose_of_someone_elses_booking_stays_hidden_in_the_refusal(meetings: MeetingsCast) -> None:
    book(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(11),
        purpose="人事议题",
    )

    message = refusal(
        book,
        actor=meetings.participant,
        room=meetings.big_room,
        starts_at=meetings.at(9, 30),
        ends_at=meetings.at(10),
    )

    assert "09:00–11:00" in message
    assert "人事议题" not in message


def test_adjacent_slots_both_succeed(meetings: MeetingsCast) -> None:
    first = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(10), ends_at=meetings.at(11)
    )
    second = book(
        actor=meetings.participant, room=meetings.big_room, starts_at=meetings.at(11), ends_at=meetings.at(12)
    )

    assert first.status == second.status == BookingStatus.APPROVED


def test_the_same_slot_in_another_room_is_free(meetings: MeetingsCast) -> None:
    book(actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10))
    other = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    assert other.pk


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            lambda m: timezone.now() - timedelta(hours=1),
            lambda m: timezone.now() + timedelta(hours=1),
            "开始时间已过",
        ),
        (lambda m: m.at(10), lambda m: m.at(9), "结束时间必须晚于开始时间"),
        (lambda m: m.at(10), lambda m: m.at(10), "结束时间必须晚于开始时间"),
        (lambda m: m.at(7), lambda m: m.at(19, 1), "不能超过 12 小时"),
    ],
    ids=["past", "end-before-start", "zero-length", "over-12-hours"],
)
def test_bad_times_are_refused_in_chinese(
    meetings: MeetingsCast, start: object, end: object, expected: str
) -> None:
    message = refusal(
        book,
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=start(meetings),  # type: ignore[operator]
        ends_at=end(meetings),  # type: ignore[operator]
    )

    assert expected in message
    assert not Booking.objects.exists()


def test_exactly_twelve_hours_is_allowed(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(7), ends_at=meetings.at(19)
    )

    assert held.ends_at - held.starts_at == timedelta(hours=12)


def test_more_attendees_than_seats_is_refused_naming_both(meetings: MeetingsCast) -> None:
    message = refusal(
        book,
        actor=meetings.organiser,
        room=meetings.vip_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
        attendees=13,
    )

    assert message == "参会人数（13 人）超过会议室容量（12 人）。"


def test_zero_attendees_is_refused(meetings: MeetingsCast) -> None:
    message = refusal(
        book,
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
        attendees=0,
    )

    assert message == "参会人数至少为 1 人。"


def test_an_inactive_room_cannot_be_booked(meetings: MeetingsCast) -> None:
    meetings.big_room.is_active = False
    meetings.big_room.save()

    message = refusal(
        book,
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
    )

    assert message == "该会议室已停用，不能预订。"


def test_a_room_bookable_only_by_departments_refuses_others(meetings: MeetingsCast) -> None:
    room = meetings.big_room
    room.bookable_by = BookableBy.DEPARTMENTS
    room.save()
    room.bookable_departments.add(meetings.organiser.department)

    allowed = book(actor=meetings.organiser, room=room, starts_at=meetings.at(9), ends_at=meetings.at(10))
    message = refusal(
        book, actor=meetings.participant, room=room, starts_at=meetings.at(11), ends_at=meetings.at(12)
    )

    assert allowed.pk
    assert message == "您没有预订该会议室的权限。"


def test_another_agencys_room_is_not_found(meetings: MeetingsCast) -> None:
    with pytest.raises(Http404):
        book(
            actor=meetings.organiser,
            room=meetings.finance_room,
            starts_at=meetings.at(9),
            ends_at=meetings.at(10),
        )


def test_the_audit_admin_may_not_book(meetings: MeetingsCast) -> None:
    with pytest.raises(Http404):
        book(
            actor=meetings.audit_admin,
            room=meetings.big_room,
            starts_at=meetings.at(9),
            ends_at=meetings.at(10),
        )


# --- approval ---------------------------------------------------------------------------------


def test_a_room_needing_approval_holds_the_slot_pending_and_tells_its_managers(
    meetings: MeetingsCast,
) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    assert held.status == BookingStatus.PENDING
    told = Notification.objects.filter(kind="meetings.booking.pending")
    assert set(told.values_list("recipient_id", flat=True)) == {meetings.meeting_admin.pk}
    message = refusal(
        book,
        actor=meetings.participant,
        room=meetings.vip_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
    )
    assert "（待审批）" in message


def test_the_rooms_manager_books_it_approved_at_once(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.meeting_admin,
        room=meetings.vip_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
    )

    assert held.status == BookingStatus.APPROVED


def test_approving_tells_the_booker_and_refusing_needs_a_reason_and_frees_the_slot(
    meetings: MeetingsCast,
) -> None:
    first = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )
    second = book(
        actor=meetings.participant, room=meetings.vip_room, starts_at=meetings.at(14), ends_at=meetings.at(15)
    )

    approve_booking(first, actor=meetings.meeting_admin, note="同意")
    no_reason = refusal(refuse_booking, booking=second, actor=meetings.meeting_admin, note="  ")
    refuse_booking(second, actor=meetings.meeting_admin, note="当天检修")
    again = book(
        actor=meetings.colleague, room=meetings.vip_room, starts_at=meetings.at(14), ends_at=meetings.at(15)
    )

    first.refresh_from_db()
    assert first.status == BookingStatus.APPROVED and first.decided_by == meetings.meeting_admin
    assert no_reason == "请填写不批准的理由。"
    assert Booking.objects.get(pk=second.pk).status == BookingStatus.REFUSED
    assert again.status == BookingStatus.PENDING
    decided = Notification.objects.filter(kind="meetings.booking.decided")
    assert set(decided.values_list("recipient_id", flat=True)) == {
        meetings.organiser.pk,
        meetings.participant.pk,
    }
    assert AuditEvent.objects.filter(action="meetings.booking.approve").count() == 1
    assert AuditEvent.objects.filter(action="meetings.booking.refuse").count() == 1


def test_a_decided_booking_cannot_be_decided_again(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )
    approve_booking(held, actor=meetings.meeting_admin)

    assert (
        refusal(refuse_booking, booking=held, actor=meetings.meeting_admin, note="改主意")
        == "该预订已处理，无需再审批。"
    )


def test_someone_who_does_not_manage_the_room_cannot_approve(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    assert (
        refusal(approve_booking, booking=held, actor=meetings.participant)
        == "只有会议室管理员可以审批该预订。"
    )
    with pytest.raises(Http404):
        approve_booking(held, actor=meetings.outsider)
    assert Booking.objects.get(pk=held.pk).status == BookingStatus.PENDING


# --- moving and cancelling ---------------------------------------------------------------------


def test_cancelling_frees_the_slot(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    cancel_booking(held, actor=meetings.organiser, reason="会议取消")
    again = book(
        actor=meetings.participant, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    assert held.status == BookingStatus.CANCELLED
    assert again.status == BookingStatus.APPROVED
    assert (
        refusal(cancel_booking, booking=held, actor=meetings.organiser)
        == "该预订已取消或未获批准，不能再修改。"
    )


def test_only_the_booker_or_a_manager_may_cancel(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    message = refusal(cancel_booking, booking=held, actor=meetings.participant)
    cancel_booking(held, actor=meetings.meeting_admin)

    assert message == "只有预订人和会议室管理员可以修改或取消该预订。"
    assert Notification.objects.filter(kind="meetings.booking.decided", recipient=meetings.organiser).exists()


def test_moving_to_a_free_slot_moves_it(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    move_booking(
        held, actor=meetings.organiser, starts_at=meetings.at(15), ends_at=meetings.at(16), attendees=20
    )

    row = Booking.objects.get(pk=held.pk)
    assert (row.starts_at, row.ends_at, row.attendees) == (meetings.at(15), meetings.at(16), 20)
    assert held.starts_at == meetings.at(15)
    assert AuditEvent.objects.filter(action="meetings.booking.move", object_id=str(held.pk)).exists()


def test_moving_a_booking_onto_another_is_refused_and_leaves_it_as_it_was(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )
    book(
        actor=meetings.participant, room=meetings.big_room, starts_at=meetings.at(14), ends_at=meetings.at(16)
    )

    message = refusal(
        move_booking,
        booking=held,
        actor=meetings.organiser,
        starts_at=meetings.at(15),
        ends_at=meetings.at(17),
    )

    assert message.startswith("该时段已被预订：") and "14:00–16:00" in message
    row = Booking.objects.get(pk=held.pk)
    assert (row.starts_at, row.ends_at, row.status) == (
        meetings.at(9),
        meetings.at(10),
        BookingStatus.APPROVED,
    )
    assert held.starts_at == meetings.at(9)


def test_moving_within_its_own_slot_does_not_clash_with_itself(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(11)
    )

    move_booking(held, actor=meetings.organiser, starts_at=meetings.at(10), ends_at=meetings.at(12))

    assert Booking.objects.get(pk=held.pk).starts_at == meetings.at(10)


def test_moving_an_approved_booking_of_an_approval_room_waits_for_approval_again(
    meetings: MeetingsCast,
) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )
    approve_booking(held, actor=meetings.meeting_admin)

    move_booking(held, actor=meetings.organiser, starts_at=meetings.at(11), ends_at=meetings.at(12))

    assert Booking.objects.get(pk=held.pk).status == BookingStatus.PENDING
    assert Notification.objects.filter(kind="meetings.booking.pending").count() == 2


# --- the database is the guarantee --------------------------------------------------------------


def test_the_database_refuses_an_overlap_the_python_check_missed(
    meetings: MeetingsCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a booking the friendly look-up will not see (as if a concurrent one committed after it)
    book(
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(10),
        purpose="早会",
    )
    real_first_clash = booking_services.first_clash
    calls: list[int] = []

    def blind_first(*args: object, **kwargs: object) -> Booking | None:
        calls.append(1)
        return None if len(calls) == 1 else real_first_clash(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(booking_services, "first_clash", blind_first)

    # when
    message = refusal(
        book,
        actor=meetings.organiser,
        room=meetings.big_room,
        starts_at=meetings.at(9, 30),
        ends_at=meetings.at(11),
    )

    # then: the database's refusal became the same sentence, and the transaction is usable
    assert (
        message
        == "该时段已被预订："
        + booking_services.slot_label(meetings.at(9), meetings.at(10))
        + "，用途：早会。"
    )
    assert Booking.objects.filter(room=meetings.big_room).count() == 1


def test_a_raw_overlapping_insert_is_refused_by_the_database(meetings: MeetingsCast) -> None:
    book(actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10))

    with pytest.raises(IntegrityError, match="meetings_booking_no_overlap"), transaction.atomic():
        Booking.objects.create(
            room=meetings.big_room,
            starts_at=meetings.at(9, 30),
            ends_at=meetings.at(10, 30),
            status=BookingStatus.PENDING,
            booked_by=meetings.participant,
        )
