"""签到 services: by QR code, by the organiser's hand, on entering the live room — each check-in
once, each refusal with its sentence, the statistics pushed after commit and every check-in audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from meetings import checkin
from meetings.errors import MeetingError
from meetings.models import CheckinMethod, MeetingStatus, Reply, Rsvp
from meetings.stats import stats_for
from officeapp.audit.models import AuditEvent
from officeapp.outbox.models import OutboxEvent
from tests.meetings.factories_c import make_meeting, set_reply
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def rsvp_of(meeting: Any, user: Any) -> Rsvp:
    return Rsvp.objects.get(meeting=meeting, user=user)


def test_participant_checks_in_with_the_door_token_and_the_count_moves(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    meeting = make_meeting(meetings)
    set_reply(meeting, meetings.participant, Reply.ATTEND)
    # when
    with (
        mock.patch("meetings.checkin.push_stats") as push,
        django_capture_on_commit_callbacks(execute=True),
    ):
        rsvp = checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)
    # then
    assert rsvp.checked_in_at is not None
    assert rsvp.checkin_method == CheckinMethod.QR
    assert rsvp.checked_in_by == meetings.participant
    assert stats_for(meeting)["checked_in"] == 1
    push.assert_called_once_with(meeting.pk)
    event = AuditEvent.objects.get(action="meetings.checked_in")
    assert event.details["method"] == "qr" and event.details["user"] == meetings.participant.pk
    assert OutboxEvent.objects.filter(topic="meetings.rsvp.checked_in").count() == 1


def test_statistics_are_pushed_only_after_commit(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with (
        mock.patch("meetings.checkin.push_stats") as push,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)
        raise RuntimeError("rolled back")
    push.assert_not_called()
    assert rsvp_of(meeting, meetings.participant).checked_in_at is None


def test_second_check_in_is_refused_with_the_time_of_the_first(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    first = checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)
    with pytest.raises(MeetingError) as refused:
        checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)
    assert refused.value.message == f"您已于 {timezone.localtime(first.checked_in_at):%H:%M} 签到"
    assert AuditEvent.objects.filter(action="meetings.checked_in").count() == 1


def test_a_wrong_token_is_refused_as_not_this_meetings_code(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    other = make_meeting(meetings, title="另一个会议")
    with pytest.raises(MeetingError, match="^二维码与本会议不符$"):
        checkin.check_in(meeting, actor=meetings.participant, token=other.checkin_token)
    assert rsvp_of(meeting, meetings.participant).checked_in_at is None


def test_a_person_not_invited_is_refused(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="^您不在本次会议的参会名单中$"):
        checkin.check_in(meeting, actor=meetings.outsider, token=meeting.checkin_token)
    assert stats_for(meeting)["checked_in"] == 0


def test_more_than_an_hour_before_the_start_is_too_early(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, starts_at=timezone.now() + timedelta(minutes=61))
    with pytest.raises(MeetingError, match="签到尚未开始：会前60分钟"):
        checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)


def test_an_hour_before_the_start_the_door_is_open(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, starts_at=timezone.now() + timedelta(minutes=59))
    assert checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token).checked_in_at


def test_after_the_end_check_in_is_refused(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, starts_at=timezone.now() - timedelta(minutes=100), minutes=90)
    with pytest.raises(MeetingError, match="^会议已结束，不能再签到。$"):
        checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)


def test_a_meeting_the_host_ended_early_takes_no_more_check_ins(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, status=MeetingStatus.ENDED)
    with pytest.raises(MeetingError, match="^会议已结束，不能再签到。$"):
        checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)


def test_a_cancelled_meeting_takes_no_check_in(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, status=MeetingStatus.CANCELLED)
    with pytest.raises(MeetingError, match="^本次会议已取消，无需签到。$"):
        checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)


def test_a_meeting_without_notice_takes_no_check_in(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, status=MeetingStatus.DRAFT)
    with pytest.raises(MeetingError, match="尚未发出通知"):
        checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)


def test_a_person_on_leave_who_comes_is_checked_in_and_counted_as_attending(meetings: MeetingsCast) -> None:
    # given: 请假 — expected drops to 1
    meeting = make_meeting(meetings)
    set_reply(meeting, meetings.participant, Reply.LEAVE, reason="出差")
    assert stats_for(meeting)["expected"] == 1
    # when
    rsvp = checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)
    # then: present, attending, and counted among the expected again; the reason stays on record
    assert rsvp.reply == Reply.ATTEND and rsvp.reason == "出差"
    stats = stats_for(meeting)
    assert stats["checked_in"] == 1 and stats["expected"] == 2 and stats["leave"] == 0
    assert AuditEvent.objects.get(action="meetings.checked_in").details["reply_before"] == "leave"


def test_a_silent_person_who_comes_becomes_attending(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    rsvp = checkin.check_in(meeting, actor=meetings.colleague, token=meeting.checkin_token)
    assert rsvp.reply == Reply.ATTEND and stats_for(meeting)["silent"] == 1


def test_a_person_who_named_a_delegate_is_not_checked_in(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    set_reply(meeting, meetings.colleague, Reply.DELEGATE)
    with pytest.raises(MeetingError, match="^您已指派他人代为参会，本人无需签到。$"):
        checkin.check_in(meeting, actor=meetings.colleague, token=meeting.checkin_token)


def test_the_organiser_checks_in_a_participant_by_hand(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    rsvp = checkin.check_in_by_hand(meeting, actor=meetings.organiser, user=meetings.participant)
    assert rsvp.checkin_method == CheckinMethod.MANUAL and rsvp.checked_in_by == meetings.organiser
    event = AuditEvent.objects.get(action="meetings.checked_in")
    assert event.actor == meetings.organiser and event.details["user"] == meetings.participant.pk


def test_the_meeting_admin_may_check_in_by_hand_too(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    assert checkin.check_in_by_hand(
        meeting, actor=meetings.meeting_admin, user=meetings.colleague
    ).checked_in_at


def test_a_participant_may_not_check_in_someone_else(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="^只有会议组织者可以代为签到。$"):
        checkin.check_in_by_hand(meeting, actor=meetings.participant, user=meetings.colleague)
    assert rsvp_of(meeting, meetings.colleague).checked_in_at is None


def test_manual_check_in_of_someone_not_invited_is_refused(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="^该人员不在本次会议的参会名单中。$"):
        checkin.check_in_by_hand(meeting, actor=meetings.organiser, user=meetings.outsider)


def test_manual_check_in_twice_names_the_person_and_the_time(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)
    with pytest.raises(MeetingError, match="^林小梅已于 \\d\\d:\\d\\d 签到。$"):
        checkin.check_in_by_hand(meeting, actor=meetings.organiser, user=meetings.participant)


def test_manual_check_in_keeps_to_the_window(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, starts_at=timezone.now() + timedelta(hours=3))
    with pytest.raises(MeetingError, match="签到尚未开始"):
        checkin.check_in_by_hand(meeting, actor=meetings.organiser, user=meetings.participant)


def test_entering_the_live_room_checks_in_once(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    first = checkin.check_in_live(meeting, actor=meetings.participant)
    again = checkin.check_in_live(meeting, actor=meetings.participant)
    assert first is not None and again is not None
    assert first.checkin_method == CheckinMethod.LIVE
    assert again.checked_in_at == first.checked_in_at
    assert AuditEvent.objects.filter(action="meetings.checked_in").count() == 1


def test_entering_the_live_room_keeps_an_earlier_door_check_in(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)
    assert checkin.check_in_live(meeting, actor=meetings.participant).checkin_method == CheckinMethod.QR


def test_the_live_room_does_not_check_in_the_uninvited_host_or_after_the_end(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    assert checkin.check_in_live(meeting, actor=meetings.host) is None
    ended = make_meeting(meetings, status=MeetingStatus.ENDED)
    assert checkin.check_in_live(ended, actor=meetings.participant) is None
    assert rsvp_of(ended, meetings.participant).checked_in_at is None
