"""A meeting's room is not cancelled behind the invited people's backs: the approvals page refuses
to cancel the booking that holds a meeting's room (the meeting page changes or cancels it and
tells everyone), keeping the reason typed; a plain booking still cancels there."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from meetings import services
from meetings.booking import book
from meetings.models import BookingStatus, MeetingKind
from tests.meetings.meetings_cast import MeetingsCast


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


@pytest.mark.django_db
def test_the_organiser_cannot_free_a_noticed_meetings_room_from_the_approvals_page(
    meetings: MeetingsCast,
) -> None:
    m = meetings
    meeting = services.create_meeting(
        actor=m.organiser,
        title="全省防汛工作会",
        kind=MeetingKind.OFFICE,
        starts_at=m.at(9),
        ends_at=m.at(11),
        host=m.host,
        room=m.big_room,
    )
    services.set_invitees(meeting, actor=m.organiser, people=[m.participant])
    services.send_notice(meeting, actor=m.organiser)

    response = signed_in(m.organiser).post(
        reverse("meetings:booking_cancel", args=[meeting.booking_id]), {"reason": "临时改期"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "该预订是会议“全省防汛工作会”的会场" in page
    assert "临时改期" in page
    meeting.booking.refresh_from_db()
    assert meeting.booking.status == BookingStatus.APPROVED


@pytest.mark.django_db
def test_a_booking_that_holds_no_meeting_still_cancels_from_the_approvals_page(
    meetings: MeetingsCast,
) -> None:
    m = meetings
    held = book(actor=m.organiser, room=m.big_room, starts_at=m.at(14), ends_at=m.at(15), purpose="处务会")

    response = signed_in(m.organiser).post(reverse("meetings:booking_cancel", args=[held.pk]), {"reason": ""})

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED


@pytest.mark.django_db
def test_cancelling_the_meeting_still_frees_its_room(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = services.create_meeting(
        actor=m.organiser,
        title="全省防汛工作会",
        kind=MeetingKind.OFFICE,
        starts_at=m.at(9),
        ends_at=m.at(11),
        host=m.host,
        room=m.big_room,
    )
    services.cancel_meeting(meeting, actor=m.organiser, reason="改期")
    meeting.booking.refresh_from_db()
    assert meeting.booking.status == BookingStatus.CANCELLED
