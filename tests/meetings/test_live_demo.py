"""The live room's demo part: the meeting in progress gets a turned page, a closed open vote with
its result, an open anonymous vote whose ballots hold no choice, and chat; a second run adds nothing."""

from __future__ import annotations

import pytest

from meetings.demo_live import LIVE_TITLE, build_live_demo
from meetings.models import Ballot, MeetingStatus, RoomMessage, Vote, VoteStatus
from tests.meetings.factories_live import make_live_meeting

pytestmark = pytest.mark.django_db


def test_demo_fills_the_meeting_in_progress_and_runs_once(meetings):
    room = make_live_meeting(meetings, status=MeetingStatus.LIVE)
    room.meeting.title = LIVE_TITLE
    room.meeting.save()

    line = build_live_demo(lambda _: None)

    room.meeting.refresh_from_db()
    assert LIVE_TITLE in line
    assert room.meeting.live_agenda_item_id == room.items[0].pk
    assert room.meeting.live_material_id == room.material.pk and room.meeting.live_page == 3
    closed, secret = Vote.objects.filter(meeting=room.meeting).order_by("id")
    assert closed.status == VoteStatus.CLOSED and not closed.anonymous and closed.count_for == 2
    assert secret.status == VoteStatus.OPEN and secret.anonymous
    assert set(Ballot.objects.filter(vote=secret).values_list("choice", flat=True)) == {""}
    assert secret.count_for + secret.count_against == 2
    assert RoomMessage.objects.filter(meeting=room.meeting).count() == 3

    again = build_live_demo(lambda _: None)
    assert "已有演示数据" in again and Vote.objects.filter(meeting=room.meeting).count() == 2
