"""The live room under bad frames and after a 指派: every frame with missing or nonsense fields is
refused with a Chinese sentence (never the generic "处理失败" of an unexpected exception), a page
number the database cannot hold is refused, and whoever gave their seat to a delegate neither
enters the room nor votes for it a second time."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from meetings import live, live_services
from meetings.errors import MeetingError
from meetings.models import Meeting, Reply, Rsvp, Vote
from tests.meetings.factories_live import make_live_meeting
from tests.meetings.meetings_cast import MeetingsCast

NONSENSE = [None, "", "abc", -1, 0, 2**80, str(2**80), 1.5, True, [], {}, "9" * 5000]


@pytest.mark.django_db
def test_every_frame_with_missing_or_nonsense_fields_gets_a_refusal_not_a_crash(
    meetings: MeetingsCast,
) -> None:
    room = make_live_meeting(meetings)
    meeting = room.meeting
    live_services.enter_room(meeting, actor=meetings.host, channel="test.host")
    vote = live_services.open_vote(meeting, actor=meetings.host, title="是否通过清单")
    fields = {
        "meeting.turn": ["agenda_item", "material", "page"],
        "meeting.hand": ["raised"],
        "meeting.hand.decide": ["hand", "allow"],
        "meeting.mute_all": ["muted"],
        "meeting.remove": ["user"],
        "meeting.chat": ["body", "client_id"],
        "meeting.vote.open": ["title", "anonymous"],
        "meeting.vote.cast": ["vote", "choice"],
        "meeting.vote.close": ["vote"],
    }
    crashes = []
    for kind, names in fields.items():
        actor = meetings.participant if kind in ("meeting.hand", "meeting.vote.cast") else meetings.host
        payloads = [{}] + [{name: bad} for name in names for bad in NONSENSE]
        for payload in payloads:
            try:
                live._run(actor, meeting.pk, live.ACTIONS[kind], {"type": kind, **payload})
            except (MeetingError, Http404):
                pass
            except Exception as exc:  # noqa: BLE001 - what this test looks for
                crashes.append((kind, str(payload)[:60], type(exc).__name__))
    assert crashes == []
    # Nothing nonsense reached the room: the vote is still open and empty.
    vote.refresh_from_db()
    assert (vote.status, vote.count_for + vote.count_against + vote.count_abstain) == ("open", 0)


@pytest.mark.django_db
def test_a_page_number_too_large_for_the_database_is_refused_while_the_page_count_is_unknown(
    meetings: MeetingsCast,
) -> None:
    room = make_live_meeting(meetings)
    room.material.page_count = 0  # not counted (not a PDF pypdf could read)
    room.material.save(update_fields=["page_count"])
    live_services.turn(room.meeting, actor=meetings.host, material=room.material.pk)

    with pytest.raises(MeetingError, match=live_services.MSG_BAD_PAGE):
        live_services.turn(room.meeting, actor=meetings.host, page=2**40)

    assert Meeting.objects.get(pk=room.meeting.pk).live_page == 1
    live_services.turn(room.meeting, actor=meetings.host, page=30)  # any sensible page still turns
    assert Meeting.objects.get(pk=room.meeting.pk).live_page == 30


def _delegated(meetings: MeetingsCast) -> Any:
    """The participant (林小梅) gave her seat to a colleague of her 综合处 (made here)."""
    from meetings import services
    from officeapp.org import services as org_services

    room = make_live_meeting(meetings, people=[meetings.participant])
    Rsvp.objects.filter(meeting=room.meeting).update(reply=Reply.NONE, replied_at=None)
    stand_in = org_services.create_user(
        actor=None,
        username="stand_in",
        real_name="周敏",
        department=meetings.cast.general_dept,
        password="Stand-in-2026-gd",
        employee_no="BGT020",
        mobile="13800000020",
        email="stand_in@gd.example",
    )
    services.reply(room.meeting, actor=meetings.participant, reply=Reply.DELEGATE, delegate=stand_in)
    return room, stand_in


@pytest.mark.django_db
def test_who_gave_their_seat_to_a_delegate_may_not_enter_the_room(meetings: MeetingsCast) -> None:
    room, stand_in = _delegated(meetings)

    with pytest.raises(MeetingError, match="您已指派 周敏 参会，不能进入会议室。"):
        live_services.get_room_for(meetings.participant, room.meeting.pk)
    live_services.get_room_for(stand_in, room.meeting.pk)  # the delegate holds the seat


@pytest.mark.django_db
def test_who_gave_their_seat_cannot_vote_beside_the_delegate(meetings: MeetingsCast) -> None:
    room, stand_in = _delegated(meetings)
    vote = live_services.open_vote(room.meeting, actor=meetings.host, title="是否通过清单")
    live_services.cast_vote(room.meeting, actor=stand_in, vote_id=vote.pk, choice="for")

    with pytest.raises(MeetingError, match="您已指派 周敏 参会"):
        live_services.cast_vote(room.meeting, actor=meetings.participant, vote_id=vote.pk, choice="against")

    vote = Vote.objects.get(pk=vote.pk)
    assert (vote.count_for, vote.count_against) == (1, 0)


@pytest.mark.django_db
def test_the_live_page_tells_who_gave_their_seat_why_they_cannot_enter(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    from django.urls import reverse

    room, _stand_in = _delegated(meetings)
    response = sign_in(meetings.participant).get(reverse("meetings:live", args=[room.meeting.pk]))
    assert response.status_code == 200
    assert "您已指派 周敏 参会，不能进入会议室。" in response.content.decode()


@pytest.mark.django_db
def test_the_meeting_page_offers_no_room_button_to_who_gave_their_seat(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    from django.urls import reverse

    room, stand_in = _delegated(meetings)
    live_url = reverse("meetings:live", args=[room.meeting.pk])
    page = sign_in(meetings.participant).get(reverse("meetings:detail", args=[room.meeting.pk]))
    assert "您已指派他人参会，不能进入会议室。" in page.content.decode()
    assert live_url not in page.content.decode()
    page = sign_in(stand_in).get(reverse("meetings:detail", args=[room.meeting.pk]))
    assert live_url in page.content.decode()
