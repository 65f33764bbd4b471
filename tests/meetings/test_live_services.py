"""The live room's services without a socket: what is pushed and when (after commit only), stale
presence of a dead process, and — on PostgreSQL, where row locks are real — votes and page turns
at the same moment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from meetings import live_services
from meetings.errors import MeetingError
from meetings.groups import room_group
from meetings.models import Ballot, LivePresence, Meeting, Rsvp, Vote
from officeapp.org import services as org_services
from tests.conftest import CAST_PASSWORD
from tests.meetings.factories_live import make_live_meeting
from tests.workflows.threads import at_once
from workflows.acting import FlowError

REQUIRES_POSTGRES = "row locks race only on PostgreSQL (DATABASE_URL)"


@pytest.fixture
def published() -> Any:
    with mock.patch("meetings.live_services.fanout.publish") as publish:
        yield publish


def frames(publish: Any, kind: str) -> list[dict[str, Any]]:
    return [c.args[1] for c in publish.call_args_list if c.args[1]["type"] == kind]


@pytest.mark.django_db
def test_nothing_is_pushed_when_the_change_is_rolled_back(
    meetings, published, django_capture_on_commit_callbacks
):
    room = make_live_meeting(meetings)
    with django_capture_on_commit_callbacks(execute=True):
        live_services.turn(room.meeting, actor=meetings.host, material=room.material.pk, page=2)
    assert [f["page"] for f in frames(published, "meeting.turned")] == [2]
    assert published.call_args.args[0] == room_group(room.meeting.pk)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(MeetingError):
        live_services.turn(room.meeting, actor=meetings.host, agenda_item=room.items[0].pk, page=99)
    assert len(frames(published, "meeting.turned")) == 1
    assert Meeting.objects.get(pk=room.meeting.pk).live_agenda_item_id is None  # rolled back whole


@pytest.mark.django_db
def test_turning_a_page_with_no_material_shown_is_refused(meetings):
    room = make_live_meeting(meetings)
    with pytest.raises(MeetingError, match="请先选择要展示的材料"):
        live_services.turn(room.meeting, actor=meetings.host, page=2)
    assert Meeting.objects.get(pk=room.meeting.pk).live_version == room.meeting.live_version


@pytest.mark.django_db
def test_presence_of_a_dead_process_drops_out_and_is_swept_with_a_left_frame(
    meetings, published, django_capture_on_commit_callbacks
):
    room = make_live_meeting(meetings)
    mid = room.meeting.pk
    live_services.enter_room(room.meeting, actor=meetings.participant, channel="alive.1")
    live_services.enter_room(room.meeting, actor=meetings.colleague, channel="dead.1")
    # The colleague's process died: nothing has touched its row for longer than three beats.
    old = timezone.now() - live_services.PRESENCE_STALE_AFTER - timedelta(seconds=1)
    LivePresence.objects.filter(channel="dead.1").update(seen_at=old)
    LivePresence.objects.filter(channel="alive.1").update(seen_at=old)
    assert live_services.touch_presences(["alive.1"]) == 1  # the live process's heartbeat

    assert [p["user"] for p in live_services.presence_list(mid)] == [meetings.participant.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert live_services.sweep_stale_presences() == 1
    assert list(LivePresence.objects.values_list("channel", flat=True)) == ["alive.1"]
    left = frames(published, "meeting.presence")[-1]
    assert (left["event"], left["user"], left["count"]) == ("left", meetings.colleague.pk, 1)


@pytest.mark.django_db
def test_a_removed_person_cannot_raise_a_hand_chat_or_vote(meetings):
    room = make_live_meeting(meetings)
    vote = live_services.open_vote(room.meeting, actor=meetings.host, title="表决", anonymous=False)
    live_services.remove_participant(room.meeting, actor=meetings.host, user_id=meetings.colleague.pk)
    for call in (
        lambda: live_services.raise_hand(room.meeting, actor=meetings.colleague, raised=True),
        lambda: live_services.send_message(room.meeting, actor=meetings.colleague, body="在吗"),
        lambda: live_services.cast_vote(
            room.meeting, actor=meetings.colleague, vote_id=vote.pk, choice="for"
        ),
    ):
        with pytest.raises(MeetingError, match="移出会议室"):
            call()
    with pytest.raises(MeetingError, match="不能移出主持人"):
        live_services.remove_participant(room.meeting, actor=meetings.host, user_id=meetings.organiser.pk)
    assert not Ballot.objects.exists()


# --- at the same moment (PostgreSQL) ----------------------------------------------------------------------


def refusing(call: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return call()
        except MeetingError as exc:
            raise FlowError(exc.message) from exc

    return run


def voters(meetings: Any, meeting: Meeting, count: int) -> list[Any]:
    people = []
    for n in range(count):
        person = org_services.create_user(
            actor=None,
            username=f"voter{n}",
            real_name=f"表决人{n}",
            department=meetings.cast.general_dept,
            password=CAST_PASSWORD,
            employee_no=f"VOTE{n:03d}",
            mobile=f"1370000{n:04d}",
            email=f"voter{n}@gd.example",
        )
        Rsvp.objects.create(meeting=meeting, user=person)
        people.append(person)
    return people


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason=REQUIRES_POSTGRES)
@pytest.mark.django_db(transaction=True)
def test_twenty_voters_at_once_are_all_counted_once(meetings):
    room = make_live_meeting(meetings)
    people = voters(meetings, room.meeting, 20)
    vote = live_services.open_vote(room.meeting, actor=meetings.host, title="并发表决", anonymous=True)
    choices = ["for", "against", "abstain", "for"] * 5

    outcomes = at_once(
        [
            refusing(
                lambda p=p, c=c: live_services.cast_vote(room.meeting, actor=p, vote_id=vote.pk, choice=c)
            )
            for p, c in zip(people, choices, strict=True)
        ]
    )

    assert outcomes == ["ok"] * 20
    vote.refresh_from_db()
    assert (vote.count_for, vote.count_against, vote.count_abstain) == (10, 5, 5)
    assert Ballot.objects.filter(vote=vote).count() == 20
    assert set(Ballot.objects.filter(vote=vote).values_list("choice", flat=True)) == {""}


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason=REQUIRES_POSTGRES)
@pytest.mark.django_db(transaction=True)
def test_one_person_clicking_five_times_at_once_votes_once(meetings):
    room = make_live_meeting(meetings)
    vote = live_services.open_vote(room.meeting, actor=meetings.host, title="重复点击", anonymous=False)

    outcomes = at_once(
        [
            refusing(
                lambda: live_services.cast_vote(
                    room.meeting, actor=meetings.participant, vote_id=vote.pk, choice="for"
                )
            )
            for _ in range(5)
        ]
    )

    assert sorted(outcomes) == ["ok"] + ["您已投票。"] * 4
    assert Vote.objects.get(pk=vote.pk).count_for == 1


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason=REQUIRES_POSTGRES)
@pytest.mark.django_db(transaction=True)
def test_closing_while_people_vote_counts_each_ballot_before_or_not_at_all(meetings):
    room = make_live_meeting(meetings)
    people = voters(meetings, room.meeting, 8)
    vote = live_services.open_vote(room.meeting, actor=meetings.host, title="边投边关", anonymous=False)
    calls = [
        refusing(lambda p=p: live_services.cast_vote(room.meeting, actor=p, vote_id=vote.pk, choice="for"))
        for p in people
    ]
    calls.append(
        refusing(lambda: live_services.close_vote(room.meeting, actor=meetings.host, vote_id=vote.pk))
    )

    outcomes = at_once(calls)

    assert outcomes[-1] == "ok"
    counted = outcomes[:-1].count("ok")
    assert all(o in ("ok", "表决已结束。") for o in outcomes[:-1])
    vote.refresh_from_db()
    # The stored result is exactly the ballots that got in before the close: none after it.
    assert vote.count_for == counted == Ballot.objects.filter(vote=vote).count()


@pytest.mark.postgres
@pytest.mark.skipif(not settings.IS_POSTGRES, reason=REQUIRES_POSTGRES)
@pytest.mark.django_db(transaction=True)
def test_two_hosts_turning_at_once_move_the_version_once_each(meetings):
    room = make_live_meeting(meetings)
    live_services.turn(room.meeting, actor=meetings.host, material=room.material.pk)
    before = Meeting.objects.get(pk=room.meeting.pk).live_version
    outcomes = at_once(
        [
            refusing(lambda n=n, a=actor: live_services.turn(room.meeting, actor=a, page=n + 2))
            for n, actor in enumerate([meetings.host, meetings.organiser] * 3)
        ]
    )
    assert outcomes == ["ok"] * 6
    assert Meeting.objects.get(pk=room.meeting.pk).live_version == before + 6


@pytest.mark.django_db
def test_a_participant_who_floods_the_room_chat_is_slowed_down_in_chinese(meetings, published):
    from django.core.cache import cache

    from meetings.models import RoomMessage

    cache.clear()
    room = make_live_meeting(meetings)
    count, _ = live_services.CHAT_RATE
    for n in range(count):
        live_services.send_message(room.meeting, actor=meetings.participant, body=f"第{n}条")

    with pytest.raises(MeetingError, match="发言过于频繁"):
        live_services.send_message(room.meeting, actor=meetings.participant, body="再来一条")

    live_services.send_message(room.meeting, actor=meetings.host, body="主持人不受他人影响")
    assert RoomMessage.objects.filter(meeting=room.meeting, sender=meetings.participant).count() == count
