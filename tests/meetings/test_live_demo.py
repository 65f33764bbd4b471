"""The live room's demo part: the meeting in progress gets a turned page, a closed open vote with
its result, an open anonymous vote whose ballots hold no choice, and chat; a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from meetings.demo_live import LIVE_TITLE, build_live_demo
from meetings.live_services import room_state
from meetings.models import Ballot, Meeting, MeetingStatus, RoomMessage, Vote, VoteStatus
from officeapp.org.models import User
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


@pytest.fixture(scope="module")
def province_demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[list[str]]:
    """The province, the meetings demo and this part, built once and rolled back at the end."""
    from officeapp.demo import load_demo_province
    from officeapp.registries import demo_builders

    lines: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic():
        load_demo_province(stdout=None)
        lines.append(demo_builders["70-meetings"](lines.append))
        lines.append(demo_builders["72-meetings-live"](lines.append))
        yield lines
        transaction.set_rollback(True)


def test_demo_accounts_find_the_meeting_in_progress_with_its_room_filled(
    province_demo: list[str], db: Any
) -> None:
    meeting = Meeting.objects.get(title=LIVE_TITLE)
    assert meeting.status == MeetingStatus.LIVE and meeting.host.username == "wang.deming"
    assert (
        meeting.live_material is not None and meeting.live_material.page_count == 8 and meeting.live_page == 3
    )
    closed, secret = Vote.objects.filter(meeting=meeting).order_by("id")
    assert (
        closed.status == VoteStatus.CLOSED
        and closed.count_for + closed.count_against + closed.count_abstain >= 3
    )
    assert secret.status == VoteStatus.OPEN and set(secret.ballots.values_list("choice", flat=True)) == {""}
    assert RoomMessage.objects.filter(meeting=meeting).count() == 3
    lin = User.objects.get(username="lin.xiaomei")
    state = room_state(meeting, lin)
    assert state["vote"]["id"] == secret.pk and state["me"]["voted"] is True
    assert state["page"] == 3 and state["agenda_item"]["title"] == "当前汛情和水库运行情况通报"
